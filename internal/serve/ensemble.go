package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/wormlab/wormlab/internal/ensemble"
	"github.com/wormlab/wormlab/internal/report"
	"github.com/wormlab/wormlab/internal/scenario"
	"github.com/wormlab/wormlab/internal/simrun"
)

// ensembleRounds is how many times the bands are sent while an ensemble
// fills: it runs as that many shards in turn (ensemble.Shard), each on
// the free cores, and the bands of the runs done so far follow each one.
const ensembleRounds = 10

// ensembleMemory bounds what one ensemble's per-bin values may take; the
// lab holds the last two ensembles and two sweeps for their downloads.
const ensembleMemory = 256 << 20

// ensembleResult is a finished ensemble, kept for its downloads.
type ensembleResult struct {
	set *ensemble.Set
}

// bandsEvent is one update of the stream: the runs done, and the 5%, 50%
// and 95% quantiles of the infected count per bin over them.
type bandsEvent struct {
	Done    int        `json:"done"`
	Runs    int        `json:"runs"`
	Minutes []float64  `json:"minutes,omitempty"`
	Low     []int64    `json:"p5,omitempty"`
	Median  []int64    `json:"p50,omitempty"`
	High    []int64    `json:"p95,omitempty"`
	Stats   *bandStats `json:"stats,omitempty"`
}

type bandStats struct {
	Population int `json:"population"`
}

// ensembleSpec reads runs from the query, with the run spec.
func (s *Server) ensembleSpec(r *http.Request) (runSpec, int, *scenario.Scenario, error) {
	q := r.URL.Query()
	sp, err := specFrom(q)
	if err != nil {
		return sp, 0, nil, err
	}
	runs, err := strconv.Atoi(q.Get("runs"))
	if err != nil || runs < 2 || runs > s.cfg.MaxEnsemble {
		return sp, 0, nil, &requestError{Status: http.StatusBadRequest, Key: "runs",
			Msg: fmt.Sprintf("runs %q: want 2 to %d (the CLI runs more: wormlab simulate --runs)", printable(q.Get("runs")), s.cfg.MaxEnsemble)}
	}
	if sp.Seed > ^uint64(0)-uint64(runs) {
		return sp, 0, nil, &requestError{Status: http.StatusBadRequest, Key: "seed", Msg: "the seeds would pass the largest seed"}
	}
	sc, err := sp.load()
	if err != nil {
		return sp, 0, nil, err
	}
	if err := checkLimits(sc); err != nil {
		return sp, 0, nil, err
	}
	return sp, runs, sc, nil
}

// handleEnsemble answers GET /api/ensemble with a stream of server-sent
// events: "bands" after each round (bandsEvent), then "done" or "error"
// ({"error": message}). Closing the stream (the page's Cancel, or
// leaving it) stops the runs.
func (s *Server) handleEnsemble(w http.ResponseWriter, r *http.Request) {
	sp, runs, sc, err := s.ensembleSpec(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	c, err := sc.Build(sp.Seed)
	if err != nil {
		s.fail(w, r, &requestError{Status: http.StatusUnprocessableEntity, Msg: err.Error()})
		return
	}
	engine, err := simrun.Engine(c, sc.Worm.Strategy, "")
	c = nil
	if err != nil {
		s.fail(w, r, &requestError{Status: http.StatusUnprocessableEntity, Msg: err.Error()})
		return
	}
	if need := ensemble.BytesPerRun(sc, engine) * int64(runs); need > ensembleMemory {
		s.fail(w, r, &requestError{Status: http.StatusUnprocessableEntity, Key: "runs",
			Msg: fmt.Sprintf("%d runs need about %s for their bands; the lab holds at most %s (fewer runs, or the CLI)", runs, sizeText(need&^(1<<20-1)), sizeText(ensembleMemory))})
		return
	}
	send, ok := startStream(w)
	if !ok {
		return
	}
	ctx := r.Context()
	began := time.Now()
	rounds := min(ensembleRounds, runs)
	var shards []*ensemble.Set
	var names []string
	send("bands", bandsEvent{Done: 0, Runs: runs})
	for i := range rounds {
		sh := ensemble.Shard{Index: i, Count: rounds}
		got, release, err := s.jobs.acquireUpTo(ctx, s.cfg.Workers)
		if err != nil {
			s.streamFailed(ctx, send, err)
			return
		}
		set, err := ensemble.Run(ctx, ensemble.Spec{Scenario: sc, Engine: engine, BaseSeed: sp.Seed, Runs: runs, Shard: sh, Workers: got})
		release()
		if err != nil {
			s.metrics.observeRun("ensemble", time.Since(began), err)
			s.streamFailed(ctx, send, err)
			return
		}
		shards = append(shards, set)
		names = append(names, "shard "+sh.String())
		if err := send("bands", partialBands(shards, runs)); err != nil {
			return // the browser went away; ctx ends the next round
		}
	}
	set, err := ensemble.Merge(shards, names)
	s.metrics.observeRun("ensemble", time.Since(began), err)
	if err != nil {
		s.streamFailed(ctx, send, err)
		return
	}
	key := encodeTOML(sp.key() + "\x00" + strconv.Itoa(runs))
	s.ensembles.put(key, &ensembleResult{set: set})
	send("done", map[string]any{"done": runs, "runs": runs, "key": key, "seconds": time.Since(began).Seconds()})
}

// startStream begins an event stream; send writes one event and flushes
// it. ok is false when the connection cannot stream.
func startStream(w http.ResponseWriter) (send func(event string, v any) error, ok bool) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	rc := http.NewResponseController(w)
	var mu sync.Mutex // ensemble progress comes from its own goroutine
	return func(event string, v any) error {
		b, _ := json.Marshal(v)
		mu.Lock()
		defer mu.Unlock()
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b); err != nil {
			return err
		}
		return rc.Flush()
	}, true
}

// streamFailed ends a stream with an error event, unless the browser
// has gone.
func (s *Server) streamFailed(ctx context.Context, send func(string, any) error, err error) {
	if ctx.Err() != nil {
		return
	}
	msg := err.Error()
	var re *requestError
	if errors.As(err, &re) {
		msg = re.Msg
	}
	send("error", map[string]string{"error": msg})
}

// partialBands computes the infected bands over the runs of the shards
// done so far, with the nearest-rank percentiles the ensemble files use.
func partialBands(shards []*ensemble.Set, runs int) bandsEvent {
	first := shards[0]
	col := slices.Index(first.Columns, "infected")
	ev := bandsEvent{Runs: runs, Stats: &bandStats{}}
	for _, sh := range shards {
		ev.Done += len(sh.Members)
	}
	bins := first.Bins
	ev.Minutes = make([]float64, bins)
	ev.Low, ev.Median, ev.High = make([]int64, bins), make([]int64, bins), make([]int64, bins)
	vals := make([]int64, 0, ev.Done)
	for b := range bins {
		ev.Minutes[b] = float64(b) * first.StepSeconds / 60
		vals = vals[:0]
		for _, sh := range shards {
			for k := range sh.Members {
				vals = append(vals, sh.Value(col, k, b))
			}
		}
		slices.Sort(vals)
		ev.Low[b] = ensemble.NearestRank(vals, ensemble.Percentiles[0])
		ev.Median[b] = ensemble.NearestRank(vals, ensemble.Percentiles[1])
		ev.High[b] = ensemble.NearestRank(vals, ensemble.Percentiles[2])
	}
	ev.Stats.Population = first.Scenario.Population.Size
	return ev
}

// handleEnsembleDownload answers /download/ensemble/{file}?key=K for a
// finished ensemble the lab still holds: bands.csv, ensemble.json or
// report.html.
func (s *Server) handleEnsembleDownload(w http.ResponseWriter, r *http.Request) {
	res, ok := s.ensembles.get(r.URL.Query().Get("key"))
	if !ok {
		s.fail(w, r, &requestError{Status: http.StatusNotFound, Msg: "that ensemble is no longer held (the lab keeps the last few); run it again"})
		return
	}
	base := fmt.Sprintf("%s-seed%d-runs%d", safeName(res.set.Scenario.Name), res.set.BaseSeed, res.set.Runs)
	s.serveDownload(w, r, base, map[string]download{
		"bands.csv":     {csvType, ".csv", res.set.WriteCSV},
		"ensemble.json": {jsonType, ".json", res.set.WriteJSON},
		"report.html":   {htmlType, ".html", func(w io.Writer) error { return reportOf(w, base+".json", res.set.WriteJSON) }},
	})
}

// reportOf writes the HTML report of the JSON output write makes, as
// `wormlab report NAME.json` draws it.
func reportOf(w io.Writer, name string, write func(io.Writer) error) error {
	var js bytes.Buffer
	if err := write(&js); err != nil {
		return err
	}
	in, err := report.Parse(name, js.Bytes())
	if err != nil {
		return err
	}
	rep, err := report.Build([]*report.Input{in})
	if err != nil {
		return err
	}
	return rep.WriteHTML(w)
}

// safeName keeps the letters, digits, '.', '-' and '_' of a scenario name
// for a download's file name.
func safeName(name string) string {
	b := []byte(name)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	if len(b) == 0 {
		return "run"
	}
	return string(b)
}
