package serve

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/wormlab/wormlab/internal/report"
	"github.com/wormlab/wormlab/internal/runrec"
	"github.com/wormlab/wormlab/internal/scenario"
	"github.com/wormlab/wormlab/internal/sim"
	"github.com/wormlab/wormlab/internal/simrun"
	"github.com/wormlab/wormlab/internal/version"
)

// Limits of one run in the lab. The CLI runs what the machine can hold;
// a server shared by several browsers refuses sooner, with the limit in
// the message.
const (
	// maxHosts bounds population.size: ten times Code Red's 360,000 keeps a
	// run under about a second and its memory under a few hundred MB.
	maxHosts = 4_000_000
	// maxBins bounds the output grid: a month at one-minute steps.
	maxBins = 50_000
)

// checkLimits refuses a scenario over the lab's limits, naming the key.
func checkLimits(s *scenario.Scenario) error {
	if s.Population.Size > maxHosts {
		return &requestError{Status: http.StatusUnprocessableEntity, Key: "population.size",
			Msg: fmt.Sprintf("%d hosts: the lab runs at most %d (the CLI runs more)", s.Population.Size, maxHosts)}
	}
	if bins := s.Run.End.Sub(s.Run.Start) / s.Run.Step.Duration; bins > maxBins {
		return &requestError{Status: http.StatusUnprocessableEntity, Key: "run.step",
			Msg: fmt.Sprintf("%d bins: the lab draws at most %d (make run.step longer)", bins, maxBins)}
	}
	return nil
}

// runResult is one finished run as the lab keeps it.
type runResult struct {
	spec  runSpec
	rec   *runrec.Record
	chart []byte // chartJSON of rec
	wall  time.Duration
}

// runOnce runs sp under the queue, or returns it from the cache. The run
// stops when ctx ends (the browser went away, or a newer edit came).
func (s *Server) runOnce(ctx context.Context, sp runSpec) (*runResult, error) {
	if r, ok := s.runs.get(sp.key()); ok {
		return r, nil
	}
	sc, err := sp.load()
	if err != nil {
		return nil, err
	}
	if err := checkLimits(sc); err != nil {
		return nil, err
	}
	release, err := s.jobs.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	ctx, cancel := context.WithTimeout(ctx, s.cfg.RunTimeout)
	defer cancel()
	began := time.Now()
	rec, _, _, err := simrun.Run(sc, sp.Seed, "", ctx.Done())
	wall := time.Since(began)
	s.metrics.observeRun("run", wall, err)
	if err != nil {
		if errors.Is(err, sim.ErrStopped) {
			if ctx.Err() == context.DeadlineExceeded {
				return nil, &requestError{Status: http.StatusServiceUnavailable,
					Msg: fmt.Sprintf("the run took over %v and was stopped; the CLI runs it without a limit", s.cfg.RunTimeout)}
			}
			return nil, context.Cause(ctx)
		}
		return nil, &requestError{Status: http.StatusUnprocessableEntity, Msg: err.Error()}
	}
	r := &runResult{spec: sp, rec: rec, wall: wall}
	if r.chart, err = chartJSON(rec, sp, wall); err != nil {
		return nil, err
	}
	s.runs.put(sp.key(), r)
	return r, nil
}

// runFrom runs (or finds) the run a query or form names.
func (s *Server) runFrom(r *http.Request, q url.Values) (*runResult, error) {
	sp, err := specFrom(q)
	if err != nil {
		return nil, err
	}
	return s.runOnce(r.Context(), sp)
}

// handleRun answers GET /api/run with the chart data of one run.
func (s *Server) handleRun(w http.ResponseWriter, r *http.Request) {
	res, err := s.runFrom(r, r.URL.Query())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(res.chart)
}

// handleDownload answers /download/run.{csv,json} and /download/report.html
// for the run the query names.
func (s *Server) handleDownload(w http.ResponseWriter, r *http.Request) {
	res, err := s.runFrom(r, r.URL.Query())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeRecord(w, r, r.PathValue("file"), res.rec, downloadName(res.rec))
}

// download is one file a finished result offers.
type download struct {
	ctype, ext string
	write      func(io.Writer) error
}

// serveDownload writes the download the request's {file} names, as
// base plus its extension.
func (s *Server) serveDownload(w http.ResponseWriter, r *http.Request, base string, files map[string]download) {
	d, ok := files[r.PathValue("file")]
	if !ok {
		names := slices.Sorted(maps.Keys(files))
		s.fail(w, r, &requestError{Status: http.StatusNotFound, Msg: "want " + strings.Join(names, ", ")})
		return
	}
	var b bytes.Buffer
	if err := d.write(&b); err != nil {
		s.fail(w, r, err)
		return
	}
	attachment(w, d.ctype, base+d.ext)
	w.Write(b.Bytes())
}

const (
	csvType  = "text/csv; charset=utf-8"
	jsonType = "application/json"
	htmlType = "text/html; charset=utf-8"
)

// downloadName is the file name a download of rec suggests.
func downloadName(rec *runrec.Record) string {
	return fmt.Sprintf("%s-seed%d", safeName(rec.Scenario.Name), rec.Seed)
}

// writeRecord writes rec as the download file asks: run.csv, run.json or
// report.html, named base plus the extension.
func (s *Server) writeRecord(w http.ResponseWriter, r *http.Request, file string, rec *runrec.Record, base string) {
	var b bytes.Buffer
	var ctype, ext string
	switch file {
	case "run.csv":
		ctype, ext = "text/csv; charset=utf-8", ".csv"
		rec.WriteCSV(&b)
	case "run.json":
		ctype, ext = "application/json", ".json"
		rec.WriteJSON(&b)
	case "report.html":
		ctype, ext = "text/html; charset=utf-8", ".html"
		in, err := report.FromRecord(rec.Scenario.Name+", seed "+fmt.Sprint(rec.Seed), rec)
		if err == nil {
			var rep *report.Report
			if rep, err = report.Build([]*report.Input{in}); err == nil {
				err = rep.WriteHTML(&b)
			}
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
	default:
		s.fail(w, r, &requestError{Status: http.StatusNotFound, Msg: fmt.Sprintf("no download %q: want run.csv, run.json or report.html", printable(file))})
		return
	}
	attachment(w, ctype, base+ext)
	w.Write(b.Bytes())
}

// versionNote says how a link's version differs from this build's, or "".
func versionNote(v string) string {
	if v == "" || v == version.Version {
		return ""
	}
	return fmt.Sprintf("This link was made by wormlab %s; this is wormlab %s, so the run may differ from the one the link was made from.", v, version.Version)
}
