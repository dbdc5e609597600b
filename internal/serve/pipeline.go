package serve

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/wormlab/wormlab/internal/detect"
	"github.com/wormlab/wormlab/internal/fit"
	"github.com/wormlab/wormlab/internal/ipspace"
	"github.com/wormlab/wormlab/internal/observe"
	"github.com/wormlab/wormlab/internal/series"
	"github.com/wormlab/wormlab/internal/simrun"
)

// upload is what the lab keeps of an uploaded log: detect's report as
// JSON and the observed series per family, never the log itself.
type upload struct {
	name       string
	reportJSON []byte
	families   map[string]series.Series
}

// handleDetect answers POST /api/detect: a log as the request body (or
// the part "log" of a multipart form), streamed through detect without
// touching the disk. The answer is detect's report with the upload's id,
// for fitting and saving.
func (s *Server) handleDetect(w http.ResponseWriter, r *http.Request) {
	body := http.MaxBytesReader(w, r.Body, s.cfg.MaxUpload)
	var in io.Reader = body
	name := "upload"
	if mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		part, err := logPart(multipart.NewReader(body, params["boundary"]))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		in, name = part, part.FileName()
	} else if n := r.Header.Get("X-File-Name"); n != "" {
		name = n
	}
	name = printable(strings.Map(func(c rune) rune {
		if c < ' ' || c == 0x7f {
			return '?'
		}
		return c
	}, name))
	counted := &countingReader{r: in}
	rep, err := detect.Run(r.Context(), []string{"-"}, detect.Config{Stdin: counted})
	s.metrics.uploaded.Add(float64(counted.n))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		s.fail(w, r, err)
		return
	case rep == nil && err != nil:
		s.fail(w, r, err)
		return
	case err != nil:
		// A file error: unparsable, truncated, corrupt. Say it plainly.
		msg := err.Error()
		if rest, ok := strings.CutPrefix(msg, "-: "); ok {
			msg = rest
		}
		s.fail(w, r, &requestError{Status: http.StatusUnprocessableEntity, Key: "log", Msg: name + ": " + msg})
		return
	}
	if rep.Inputs[0].Lines == 0 {
		s.fail(w, r, &requestError{Status: http.StatusUnprocessableEntity, Key: "log", Msg: name + ": the file is empty"})
		return
	}
	rep.Inputs[0].Name = name
	var b bytes.Buffer
	if err := rep.WriteJSON(&b); err != nil {
		s.fail(w, r, err)
		return
	}
	up := &upload{name: name, reportJSON: b.Bytes(), families: map[string]series.Series{}}
	for _, fs := range rep.FamilySeries {
		if ser, ok := rep.FamilyObserved(fs.Family); ok {
			up.families[fs.Family] = ser
		}
	}
	var rnd [12]byte
	rand.Read(rnd[:])
	id := hex.EncodeToString(rnd[:])
	s.uploads.put(id, up)
	s.log.Info("log detected", "name", name, "bytes", counted.n, "probes", rep.Totals.Probes)
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"upload":%q,"report":%s}`, id, bytes.TrimSpace(up.reportJSON))
}

// logPart returns the multipart form's part "log".
func logPart(mr *multipart.Reader) (*multipart.Part, error) {
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return nil, &requestError{Status: http.StatusBadRequest, Key: "log", Msg: "the form has no file in the field \"log\""}
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, err
			}
			return nil, badRequest("the upload could not be read: %v", err)
		}
		if p.FormName() == "log" {
			return p, nil
		}
	}
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	return n, err
}

// handleDetectDownload answers /download/detect/{id}/{file}: an upload's
// detect report as detect.json (what `wormlab detect --json` writes) or
// report.html.
func (s *Server) handleDetectDownload(w http.ResponseWriter, r *http.Request) {
	up, ok := s.uploads.get(r.PathValue("id"))
	if !ok {
		s.fail(w, r, &requestError{Status: http.StatusNotFound, Msg: "that upload is no longer held (the lab keeps the last few); upload the log again"})
		return
	}
	switch r.PathValue("file") {
	case "detect.json":
		attachment(w, "application/json", "detect.json")
		w.Write(up.reportJSON)
	case "report.html":
		var b bytes.Buffer
		if err := reportOf(&b, "detect.json", func(w io.Writer) error { _, err := w.Write(up.reportJSON); return err }); err != nil {
			s.fail(w, r, err)
			return
		}
		attachment(w, "text/html; charset=utf-8", "detect.html")
		w.Write(b.Bytes())
	default:
		s.fail(w, r, &requestError{Status: http.StatusNotFound, Msg: "want detect.json or report.html"})
	}
}

// fitAnswer is a fit's parameters and curves.
type fitAnswer struct {
	Model      string     `json:"model"`
	Params     []fitParam `json:"params"`
	Population [3]float64 `json:"population"` // estimate, low, high (NaN as null is not JSON: -1)
	Peak       string     `json:"peak"`
	Intervals  string     `json:"intervals"`
	Hours      []float64  `json:"hours"`    // bin ends, then the forecast's
	Observed   []float64  `json:"observed"` // cumulative sources seen
	Fitted     []float64  `json:"fitted"`
	Start      int64      `json:"start"`
}

type fitParam struct {
	Name  string   `json:"name"`
	Unit  string   `json:"unit"`
	Est   float64  `json:"est"`
	Lo    *float64 `json:"lo"`
	Hi    *float64 `json:"hi"`
	Fixed bool     `json:"fixed"`
}

// handleFit answers POST /api/fit: upload, family, model (logistic or
// two-factor), coverage and forecast hours, as `wormlab fit` takes them.
func (s *Server) handleFit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, badRequest("the form could not be read: %v", err))
		return
	}
	f := r.PostForm
	up, ok := s.uploads.get(f.Get("upload"))
	if !ok {
		s.fail(w, r, &requestError{Status: http.StatusNotFound, Key: "upload", Msg: "that upload is no longer held (the lab keeps the last few); upload the log again"})
		return
	}
	ser, ok := up.families[f.Get("family")]
	if !ok {
		s.fail(w, r, &requestError{Status: http.StatusBadRequest, Key: "family", Msg: fmt.Sprintf("family %q has no probes in %s", printable(f.Get("family")), up.name)})
		return
	}
	coverage, err := fit.ParseCoverage(strings.TrimSpace(cmpOr(f.Get("coverage"), "1")))
	if err != nil {
		s.fail(w, r, &requestError{Status: http.StatusBadRequest, Key: "coverage", Msg: err.Error()})
		return
	}
	forecast, err := strconv.ParseFloat(cmpOr(f.Get("forecast"), "0"), 64)
	if err != nil || !(forecast >= 0 && forecast <= 720) {
		s.fail(w, r, &requestError{Status: http.StatusBadRequest, Key: "forecast", Msg: fmt.Sprintf("forecast %q: want 0 to 720 hours", printable(f.Get("forecast")))})
		return
	}
	obs, err := fit.FromSeries(ser, up.name+" ("+f.Get("family")+")")
	if err != nil {
		s.fail(w, r, &requestError{Status: http.StatusUnprocessableEntity, Key: "family", Msg: err.Error()})
		return
	}
	var res fit.Result
	switch f.Get("model") {
	case "logistic", "":
		res, err = fit.Logistic(obs, coverage)
	case "two-factor":
		res, err = fit.TwoFactor(obs, coverage, fit.DefaultTwoFactorFixed())
	default:
		s.fail(w, r, &requestError{Status: http.StatusBadRequest, Key: "model", Msg: fmt.Sprintf("model %q: want logistic or two-factor", printable(f.Get("model")))})
		return
	}
	if err != nil {
		s.fail(w, r, &requestError{Status: http.StatusUnprocessableEntity, Key: "model", Msg: err.Error()})
		return
	}
	ans := fitAnswer{Model: res.Model, Intervals: res.Intervals, Start: obs.Start.Unix(), Peak: res.PeakUTC().Format(time.RFC3339),
		Population: [3]float64{res.Population.Est, finite(res.Population.Lo), finite(res.Population.Hi)}}
	for _, p := range res.Params {
		fp := fitParam{Name: p.Name, Unit: p.Unit, Est: p.Value.Est, Fixed: p.Fixed}
		if !math.IsNaN(p.Value.Lo) {
			lo, hi := p.Value.Lo, p.Value.Hi
			fp.Lo, fp.Hi = &lo, &hi
		}
		ans.Params = append(ans.Params, fp)
	}
	ans.Hours = append(ans.Hours, obs.Ends...)
	ans.Observed = obs.Cumulative()
	if forecast > 0 {
		last := obs.Ends[len(obs.Ends)-1]
		for i := 1; float64(i)*obs.Width <= forecast+1e-9; i++ {
			ans.Hours = append(ans.Hours, last+float64(i)*obs.Width)
		}
	}
	for _, h := range ans.Hours {
		v, err := res.At(h)
		if err != nil {
			s.fail(w, r, &requestError{Status: http.StatusUnprocessableEntity, Msg: err.Error()})
			return
		}
		ans.Fitted = append(ans.Fitted, v)
	}
	writeJSON(w, ans)
}

func cmpOr(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// finite maps NaN (no interval) to -1, which JSON can carry.
func finite(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return -1
	}
	return x
}

// handleForecast answers GET /api/forecast: scenario (or toml), seed and
// block, as `wormlab forecast` takes them: the probes a second arriving
// at the block per bin.
func (s *Server) handleForecast(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	sp, err := specFrom(q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	block, err := ipspace.ParsePrefix(strings.TrimSpace(q.Get("block")))
	if err == nil && block.Bits() < 8 {
		err = fmt.Errorf("%v: want a /8 to /32", block)
	}
	if err != nil {
		s.fail(w, r, &requestError{Status: http.StatusBadRequest, Key: "block", Msg: "block: " + strings.TrimPrefix(err.Error(), "ipspace: ")})
		return
	}
	sc, err := sp.load()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := checkLimits(sc); err != nil {
		s.fail(w, r, err)
		return
	}
	release, err := s.jobs.acquire(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer release()
	c, err := sc.Build(sp.Seed)
	if err != nil {
		s.fail(w, r, &requestError{Status: http.StatusUnprocessableEntity, Msg: err.Error()})
		return
	}
	obs, err := observe.NewBlockLoad(c, block, sp.Seed)
	if err != nil {
		s.fail(w, r, &requestError{Status: http.StatusUnprocessableEntity, Key: "block", Msg: err.Error()})
		return
	}
	c.Observers = append(c.Observers, obs)
	ctx := r.Context()
	began := time.Now()
	rec, _, _, err := simrun.RunBuilt(sc, c, sp.Seed, "event", ctx.Done())
	s.metrics.observeRun("forecast", time.Since(began), err)
	if err != nil {
		if ctx.Err() != nil {
			s.fail(w, r, ctx.Err())
			return
		}
		s.fail(w, r, &requestError{Status: http.StatusUnprocessableEntity, Msg: err.Error()})
		return
	}
	rows := rec.Observers.BlockLoad.Rows
	out := struct {
		Block    string    `json:"block"`
		Name     string    `json:"name"`
		Start    int64     `json:"start"`
		Minutes  []float64 `json:"minutes"`
		PPS      []float64 `json:"probes_per_s"`
		Sources  []float64 `json:"sources"`
		Peak     float64   `json:"peak_probes_per_s"`
		PeakMin  float64   `json:"peak_minute"`
		Infected []int64   `json:"block_infected"`
	}{Block: block.String(), Name: sc.Name, Start: sc.Run.Start.Unix()}
	for _, row := range rows {
		out.Minutes = append(out.Minutes, row.Minute)
		out.PPS = append(out.PPS, row.ProbesPerSecond)
		out.Sources = append(out.Sources, row.Sources)
		out.Infected = append(out.Infected, row.Infected)
		if row.ProbesPerSecond > out.Peak {
			out.Peak, out.PeakMin = row.ProbesPerSecond, row.Minute
		}
	}
	writeJSON(w, out)
}
