package serve

import (
	"encoding/json"
	"html/template"
	"net/http"

	"github.com/wormlab/wormlab/internal/scenario"
)

// handleEdit answers POST /api/edit: the editor's scenario (source, the
// TOML text) and seed, checked and run. A scenario that does not parse
// is a 422 whose key and line say where; a good one is the run's chart
// data, with the permalink query of the edited scenario.
func (s *Server) handleEdit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 2*maxScenarioBytes)
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, badRequest("the form could not be read: %v", err))
		return
	}
	if !r.PostForm.Has("source") {
		s.fail(w, r, &requestError{Status: http.StatusBadRequest, Key: "toml", Msg: "the form has no scenario (field source)"})
		return
	}
	sp, err := specFrom(r.PostForm)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if sc, err := sp.load(); err == nil && sc.Name != "" && isBuiltinText(sc.Name, sp.TOML) {
		// An unedited built-in keeps its short link.
		sp.Name, sp.TOML = sc.Name, ""
	}
	res, err := s.runOnce(r.Context(), sp)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(res.chart)
}

// isBuiltinText reports whether src is the built-in name's text as it is.
func isBuiltinText(name, src string) bool {
	if !isBuiltin(name) {
		return false
	}
	b, err := scenario.Builtin(name)
	return err == nil && b.Source == src
}

// editorForm is the editor's form for sc. Until the form generated from
// the scenario types is wired in, the TOML text beside it is the editor.
func editorForm(sc *scenario.Scenario) template.HTML {
	return ""
}

// writeJSON writes v as a JSON answer.
func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}
