package serve

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/wormlab/wormlab/internal/scenario"
	"github.com/wormlab/wormlab/internal/scenarioform"
)

// handleEdit answers POST /api/edit: the editor's scenario as TOML
// (source), seed, and with mode=form the form's values (dotted keys),
// applied to that scenario. A scenario that does not check is a 422 whose
// key, line and errors say where; a good one is the run's chart data,
// with the permalink query of the edited scenario and the form's values.
func (s *Server) handleEdit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4*maxScenarioBytes)
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, badRequest("the form could not be read: %v", err))
		return
	}
	f := r.PostForm
	if !f.Has("source") {
		s.fail(w, r, &requestError{Status: http.StatusBadRequest, Key: "toml", Msg: "the form has no scenario (field source)"})
		return
	}
	q := url.Values{"source": f["source"], "seed": f["seed"]}
	if f.Get("mode") == "form" {
		for k, v := range formChanges(f) {
			q[k] = v
		}
	}
	sp, sc, err := loadSpec(q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	res, err := s.runOnce(r.Context(), linkSpec(sc, sp.Seed))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(res.chart)
}

// linkSpec is the shortest spec that makes sc: a built-in's name with the
// keys that differ from it, when applying them gives sc back, else the
// scenario's TOML.
func linkSpec(sc *scenario.Scenario, seed uint64) runSpec {
	if isBuiltin(sc.Name) {
		b, err := scenario.Builtin(sc.Name)
		if err == nil {
			ch := scenarioform.Changes(b, sc)
			if len(ch) == 0 {
				return runSpec{Name: sc.Name, Seed: seed}
			}
			if again, errs := scenarioform.Apply(b, ch); len(errs) == 0 &&
				bytes.Equal(scenarioform.Canonical(again), scenarioform.Canonical(sc)) {
				return runSpec{Name: sc.Name, Changes: ch, Seed: seed}
			}
		}
	}
	return runSpec{TOML: sc.Source, Seed: seed}
}

// writeJSON writes v as a JSON answer.
func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}
