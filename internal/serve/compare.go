package serve

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/wormlab/wormlab/internal/report"
	"github.com/wormlab/wormlab/internal/runrec"
)

// maxCompare bounds the runs one comparison overlays.
const maxCompare = 8

// compareRun is one overlaid run.
type compareRun struct {
	Label      string    `json:"label"`
	Query      string    `json:"query"`
	Name       string    `json:"name"`
	Seed       uint64    `json:"seed"`
	Population int       `json:"population"`
	Minutes    []float64 `json:"minutes"`
	Infected   []int64   `json:"infected"`
	NewPerMin  []float64 `json:"new_per_minute"`
}

// handleCompare answers GET /api/compare?run=Q&run=Q...: each Q is a run's
// permalink query (scenario or toml, and seed). Runs are labelled by the
// scenario keys and seed in which they differ from the first.
func (s *Server) handleCompare(w http.ResponseWriter, r *http.Request) {
	out, _, err := s.compareRuns(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, map[string]any{"runs": out})
}

// compareRuns runs (or finds) the runs the request's run parameters name.
func (s *Server) compareRuns(r *http.Request) ([]compareRun, []*runrec.Record, error) {
	qs := r.URL.Query()["run"]
	if len(qs) == 0 {
		return nil, nil, badRequest("nothing to compare: pin runs in the editor first")
	}
	if len(qs) > maxCompare {
		return nil, nil, badRequest("%d runs: the lab overlays at most %d", len(qs), maxCompare)
	}
	var out []compareRun
	var recs []*runrec.Record
	var flats []map[string]string
	for i, q := range qs {
		v, err := url.ParseQuery(q)
		if err != nil {
			return nil, nil, badRequest("run %d: %q is not a run's query", i+1, printable(q))
		}
		sp, err := specFrom(v)
		if err != nil {
			return nil, nil, prefixed(err, fmt.Sprintf("run %d: ", i+1))
		}
		res, err := s.runOnce(r.Context(), sp)
		if err != nil {
			return nil, nil, prefixed(err, fmt.Sprintf("run %d: ", i+1))
		}
		c := chartOf(res.rec, sp, 0)
		out = append(out, compareRun{Query: c.Query, Name: c.Name, Seed: c.Seed, Population: c.Population,
			Minutes: c.Minutes, Infected: c.Infected, NewPerMin: c.NewPerMin})
		recs = append(recs, res.rec)
		flats = append(flats, flatten(res.rec.Scenario, res.rec.Seed))
	}
	for i, l := range differences(flats) {
		out[i].Label = l
	}
	return out, recs, nil
}

// handleCompareDownload answers /download/compare/{file}?run=Q...:
// report.html (the runs as `wormlab report A.json B.json` draws them),
// runs.json (what /api/compare answers) or runs.csv (label, minute,
// infected, new infections a minute; one line per run and bin).
func (s *Server) handleCompareDownload(w http.ResponseWriter, r *http.Request) {
	out, recs, err := s.compareRuns(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var b bytes.Buffer
	switch r.PathValue("file") {
	case "report.html":
		var inputs []*report.Input
		for i, rec := range recs {
			in, err := report.FromRecord(out[i].Label, rec)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			inputs = append(inputs, in)
		}
		rep, err := report.Build(inputs)
		if err == nil {
			err = rep.WriteHTML(&b)
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		attachment(w, "text/html; charset=utf-8", "compare.html")
	case "runs.json":
		json.NewEncoder(&b).Encode(map[string]any{"runs": out})
		attachment(w, "application/json", "compare.json")
	case "runs.csv":
		cw := csv.NewWriter(&b)
		cw.Write([]string{"label", "minute", "infected", "new_infections_per_minute"})
		for _, run := range out {
			for i, m := range run.Minutes {
				cw.Write([]string{run.Label, strconv.FormatFloat(m, 'f', -1, 64), strconv.FormatInt(run.Infected[i], 10), strconv.FormatFloat(run.NewPerMin[i], 'f', -1, 64)})
			}
		}
		cw.Flush()
		attachment(w, "text/csv; charset=utf-8", "compare.csv")
	default:
		s.fail(w, r, &requestError{Status: http.StatusNotFound, Msg: "want report.html, runs.json or runs.csv"})
		return
	}
	w.Write(b.Bytes())
}

// prefixed puts prefix before a request error's message.
func prefixed(err error, prefix string) error {
	var re *requestError
	if errors.As(err, &re) {
		c := *re
		c.Msg = prefix + c.Msg
		return &c
	}
	return fmt.Errorf("%s%w", prefix, err)
}

// flatten lists a scenario's values by dotted key, as the JSON form of
// the scenario names them, with the seed.
func flatten(sc any, seed uint64) map[string]string {
	b, _ := json.Marshal(sc)
	var v any
	json.Unmarshal(b, &v)
	out := map[string]string{"seed": fmt.Sprint(seed)}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		if m, ok := v.(map[string]any); ok {
			for k, x := range m {
				walk(strings.TrimPrefix(prefix+"."+k, "."), x)
			}
			return
		}
		b, _ := json.Marshal(v)
		out[prefix] = string(b)
	}
	walk("", v)
	return out
}

// differences labels each run by the keys whose values differ from the
// first run's ("worm.scan_rate=3, seed=2"); the first by its name and
// seed. Keys that differ between any two runs are listed for every run.
func differences(flats []map[string]string) []string {
	keys := map[string]bool{}
	for _, f := range flats[1:] {
		for k, v := range f {
			if flats[0][k] != v {
				keys[k] = true
			}
		}
		for k := range flats[0] {
			if _, ok := f[k]; !ok {
				keys[k] = true
			}
		}
	}
	delete(keys, "description")
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	// The name alone when it is all that differs; otherwise it goes last,
	// as edited copies keep their original's name.
	if i := slices.Index(names, "name"); i >= 0 && len(names) > 1 {
		names = append(slices.Delete(names, i, i+1), "name")
	}
	labels := make([]string, len(flats))
	for i, f := range flats {
		var parts []string
		for _, k := range names {
			v, ok := f[k]
			if !ok {
				v = "unset"
			}
			parts = append(parts, k+"="+strings.Trim(v, `"`))
		}
		if len(parts) == 0 {
			parts = []string{strings.Trim(f["name"], `"`) + ", seed " + f["seed"]}
		}
		labels[i] = strings.Join(parts, ", ")
	}
	return labels
}
