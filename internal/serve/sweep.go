package serve

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/wormlab/wormlab/internal/ensemble"
	"github.com/wormlab/wormlab/internal/report"
	"github.com/wormlab/wormlab/internal/scenario"
	"github.com/wormlab/wormlab/internal/simrun"
	"github.com/wormlab/wormlab/internal/sweep"
)

// maxSweepPoints bounds a sweep's grid in the lab; its runs over all
// points count against Config.MaxEnsemble.
const maxSweepPoints = 25

// pointEvent is one finished point of a sweep: its values and bands.
type pointEvent struct {
	Point  int        `json:"point"`
	Points int        `json:"points"`
	Label  string     `json:"label"`
	Done   int        `json:"done"`
	Total  int        `json:"total"`
	Row    sweep.Row  `json:"row"`
	Bands  bandsEvent `json:"bands"`
}

// handleSweep answers GET /api/sweep: a scenario (as /api/run takes it),
// seed, runs a point, and one or two set=KEY=V1,V2 (or KEY=LO..HI/N), as
// `wormlab sweep --set` takes them. The stream sends "progress" {done,
// total} after each run, "point" (pointEvent) as each point finishes, then
// "done" {key} or "error".
func (s *Server) handleSweep(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	sp, base, err := loadSpec(q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sets := q["set"]
	if len(sets) == 0 || len(sets) > 2 || (len(sets) == 2 && sets[1] == "") {
		sets = slicesNonEmpty(sets)
	}
	if len(sets) == 0 || len(sets) > 2 {
		s.fail(w, r, &requestError{Status: http.StatusBadRequest, Key: "set", Msg: "a sweep varies one or two keys: give set=KEY=V1,V2,... (or KEY=LO..HI/N)"})
		return
	}
	runs, err := strconv.Atoi(q.Get("runs"))
	if err != nil || runs < 1 {
		s.fail(w, r, &requestError{Status: http.StatusBadRequest, Key: "runs", Msg: fmt.Sprintf("runs %q: want at least 1 a point", printable(q.Get("runs")))})
		return
	}
	spec := sweep.Spec{Base: base, BaseSeed: sp.Seed, Runs: runs, Workers: s.cfg.Workers,
		Engine: func(sc *scenario.Scenario) (string, error) {
			c, err := sc.Build(sp.Seed)
			if err != nil {
				return "", err
			}
			return simrun.Engine(c, sc.Worm.Strategy, "")
		}}
	for i, arg := range sets {
		p, err := sweep.ParseSet(arg)
		if err != nil {
			s.fail(w, r, &requestError{Status: http.StatusBadRequest, Key: "set" + strconv.Itoa(i+1), Msg: err.Error()})
			return
		}
		spec.Params = append(spec.Params, p)
	}
	points, err := spec.Points()
	if err != nil {
		s.fail(w, r, &requestError{Status: http.StatusUnprocessableEntity, Key: "set", Msg: err.Error()})
		return
	}
	total := len(points) * runs
	if len(points) > maxSweepPoints || total > s.cfg.MaxEnsemble {
		s.fail(w, r, &requestError{Status: http.StatusBadRequest, Key: "runs",
			Msg: fmt.Sprintf("%d points of %d runs: the lab runs at most %d points and %d runs in all (the CLI runs more: wormlab sweep)", len(points), runs, maxSweepPoints, s.cfg.MaxEnsemble)})
		return
	}
	for _, pt := range points {
		if err := checkLimits(pt.Scenario); err != nil {
			s.fail(w, r, err)
			return
		}
		if need := ensemble.BytesPerRun(pt.Scenario, pt.Engine) * int64(runs); need > ensembleMemory {
			s.fail(w, r, &requestError{Status: http.StatusUnprocessableEntity, Key: "runs", Msg: fmt.Sprintf("a point's %d runs need more than the %s the lab holds", runs, sizeText(ensembleMemory))})
			return
		}
	}
	send, ok := startStream(w)
	if !ok {
		return
	}
	ctx := r.Context()
	began := time.Now()
	res := &sweep.Result{Spec: spec, Points: points}
	done := 0
	send("progress", map[string]int{"done": 0, "total": total})
	for i, pt := range points {
		got, release, err := s.jobs.acquireUpTo(ctx, s.cfg.Workers)
		if err != nil {
			s.streamFailed(ctx, send, err)
			return
		}
		before := done
		set, err := ensemble.Run(ctx, ensemble.Spec{Scenario: pt.Scenario, Engine: pt.Engine, BaseSeed: sp.Seed, Runs: runs, Workers: got,
			Progress: func(d int) { send("progress", map[string]int{"done": before + d, "total": total}) }})
		release()
		if err != nil {
			s.metrics.observeRun("sweep", time.Since(began), err)
			s.streamFailed(ctx, send, err)
			return
		}
		done += runs
		res.Sets = append(res.Sets, set)
		rows := (&sweep.Result{Spec: spec, Points: points[i : i+1], Sets: []*ensemble.Set{set}}).Rows()
		var label []string
		for j, p := range spec.Params {
			label = append(label, p.Key+"="+pt.Labels[j])
		}
		if err := send("point", pointEvent{Point: i, Points: len(points), Label: strings.Join(label, ", "), Done: done, Total: total,
			Row: rows[0], Bands: partialBands([]*ensemble.Set{set}, runs)}); err != nil {
			return
		}
	}
	s.metrics.observeRun("sweep", time.Since(began), nil)
	key := encodeTOML("sweep\x00" + sp.key() + "\x00" + strings.Join(sets, "\x00") + "\x00" + strconv.Itoa(runs))
	s.sweeps.put(key, res)
	send("done", map[string]any{"done": total, "total": total, "key": key, "seconds": time.Since(began).Seconds()})
}

func slicesNonEmpty(xs []string) []string {
	var out []string
	for _, x := range xs {
		if strings.TrimSpace(x) != "" {
			out = append(out, strings.TrimSpace(x))
		}
	}
	return out
}

// handleSweepDownload answers /download/sweep/{file}?key=K for a finished
// sweep: sweep.csv, sweep.json or report.html, as `wormlab sweep` writes
// them.
func (s *Server) handleSweepDownload(w http.ResponseWriter, r *http.Request) {
	res, ok := s.sweeps.get(r.URL.Query().Get("key"))
	if !ok {
		s.fail(w, r, &requestError{Status: http.StatusNotFound, Msg: "that sweep is no longer held (the lab keeps the last few); run it again"})
		return
	}
	s.serveDownload(w, r, safeName(res.Spec.Base.Name)+"-sweep", map[string]download{
		"sweep.csv":  {csvType, ".csv", res.WriteCSV},
		"sweep.json": {jsonType, ".json", res.WriteJSON},
		"report.html": {htmlType, ".html", func(w io.Writer) error {
			f, err := res.File()
			if err != nil {
				return err
			}
			return report.Sweep(f).WriteHTML(w)
		}},
	})
}

// attachment sets the headers of a download; an HTML report is
// sandboxed should a browser show it in place.
func attachment(w http.ResponseWriter, ctype, name string) {
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name))
	if strings.HasPrefix(ctype, "text/html") {
		w.Header().Set("Content-Security-Policy", "sandbox")
	}
}
