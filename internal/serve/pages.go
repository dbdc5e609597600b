package serve

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"

	"github.com/wormlab/wormlab/internal/scenario"
	"github.com/wormlab/wormlab/internal/version"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// pageTemplates holds one template set per page: the layout plus the
// page's "content".
var pageTemplates = sync.OnceValue(func() map[string]*template.Template {
	out := map[string]*template.Template{}
	for _, name := range []string{"gallery", "run", "compare", "ensemble", "pipeline", "saved", "error"} {
		t := template.New(name).Funcs(template.FuncMap{"asset": assetURL})
		out[name] = template.Must(t.ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html"))
	}
	return out
})

// pageData is what every page's layout reads.
type pageData struct {
	Title   string
	Page    string
	Version string
	Note    string // a notice above the content, such as a version mismatch
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, page string, data any) {
	var b strings.Builder
	if err := pageTemplates()[page].ExecuteTemplate(&b, "layout", data); err != nil {
		s.log.Error("template", "page", page, "err", err)
		http.Error(w, "the lab failed to draw this page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write([]byte(b.String()))
}

func (s *Server) renderError(w http.ResponseWriter, r *http.Request, re *requestError) {
	title := http.StatusText(re.Status)
	if title == "" {
		title = "Request stopped"
	}
	s.render(w, r, re.Status, "error", struct {
		pageData
		Message string
	}{pageData{Title: title, Page: "error", Version: version.Version}, re.Msg})
}

type galleryCard struct{ Name, Description string }

func (s *Server) handleGallery(w http.ResponseWriter, r *http.Request) {
	var cards []galleryCard
	for _, name := range scenario.Names() {
		sc, err := scenario.Builtin(name)
		if err != nil {
			continue
		}
		cards = append(cards, galleryCard{name, sc.Description})
	}
	s.render(w, r, http.StatusOK, "gallery", struct {
		pageData
		Scenarios []galleryCard
	}{pageData{Title: "Scenarios", Page: "gallery", Version: version.Version}, cards})
}

// runPage is the run view and editor of one run.
type runPage struct {
	pageData
	Spec     runSpec
	Scenario *scenario.Scenario
	TOML     string
	Form     template.HTML
	Query    template.URL // the permalink's query, escaped
	ChartURL string
	CanSave  bool
}

func (s *Server) handleRunPage(w http.ResponseWriter, r *http.Request) {
	sp, sc, err := loadSpec(r.URL.Query())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	q := template.URL(sp.query().Encode())
	s.render(w, r, http.StatusOK, "run", runPage{
		pageData: pageData{Title: sc.Name, Page: "run", Version: version.Version, Note: versionNote(sp.Version)},
		Spec:     sp, Scenario: sc, TOML: sc.Source, Form: editorForm(sc),
		Query: q, ChartURL: "/api/run?" + string(q), CanSave: s.store != nil,
	})
}

func (s *Server) handleComparePage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "compare", pageData{Title: "Compare", Page: "compare", Version: version.Version})
}

func (s *Server) handleEnsemblePage(w http.ResponseWriter, r *http.Request) {
	sp, err := specFrom(r.URL.Query())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	runs := 20
	if v, err := strconv.Atoi(r.URL.Query().Get("runs")); err == nil && v >= 2 && v <= s.cfg.MaxEnsemble {
		runs = v
	}
	enc := ""
	if sp.TOML != "" || len(sp.Changes) > 0 {
		sc, err := sp.load()
		if err != nil {
			s.fail(w, r, err)
			return
		}
		enc = encodeTOML(sc.Source)
	}
	s.render(w, r, http.StatusOK, "ensemble", struct {
		pageData
		Spec    runSpec
		Names   []string
		Runs    int
		MaxRuns int
		TOMLEnc string
	}{pageData{Title: "Ensembles", Page: "ensemble", Version: version.Version, Note: versionNote(sp.Version)},
		sp, scenario.Names(), runs, s.cfg.MaxEnsemble, enc})
}

func (s *Server) handlePipelinePage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "pipeline", struct {
		pageData
		MaxUpload string
		Names     []string
		Default   string
		CanSave   bool
	}{pageData{Title: "Pipeline", Page: "pipeline", Version: version.Version},
		sizeText(s.cfg.MaxUpload), scenario.Names(), "codered-ii-2001-08-04", s.store != nil})
}

// assetVersion is a digest of the embedded assets: their URLs carry it,
// so a browser keeps them as long as it likes and a new build's reach it
// at once.
var assetVersion = sync.OnceValue(func() string {
	h := sha256.New()
	fs.WalkDir(assetFS, "assets", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := fs.ReadFile(assetFS, p)
			h.Write([]byte(p))
			h.Write(b)
		}
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))[:12]
})

// assetURL is the URL of an embedded asset, with the assets' version.
func assetURL(name string) string { return "/assets/" + name + "?v=" + assetVersion() }

// handleAsset serves the embedded scripts, styles and vendored libraries.
func (s *Server) handleAsset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("path")
	if !fs.ValidPath(name) {
		s.fail(w, r, &requestError{Status: http.StatusNotFound, Msg: "no such asset"})
		return
	}
	b, err := fs.ReadFile(assetFS, path.Join("assets", name))
	if err != nil {
		s.fail(w, r, &requestError{Status: http.StatusNotFound, Msg: "no such asset"})
		return
	}
	switch path.Ext(name) {
	case ".js":
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	case ".css":
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
	default:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	}
	if r.URL.Query().Get("v") == assetVersion() {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	w.Write(b)
}

// handleScenarios answers GET /api/scenarios: the built-ins' names and
// descriptions, and with ?scenario=NAME that one's TOML.
func (s *Server) handleScenarios(w http.ResponseWriter, r *http.Request) {
	type entry struct {
		Name        string `json:"name"`
		Description string `json:"description"`
		TOML        string `json:"toml,omitempty"`
	}
	var out []entry
	want := r.URL.Query().Get("scenario")
	if want != "" && !isBuiltin(want) {
		s.fail(w, r, &requestError{Status: http.StatusNotFound, Key: "scenario", Msg: "no built-in scenario " + strconv.Quote(printable(want))})
		return
	}
	for _, name := range scenario.Names() {
		if want != "" && name != want {
			continue
		}
		sc, err := scenario.Builtin(name)
		if err != nil {
			continue
		}
		e := entry{Name: name, Description: sc.Description}
		if want != "" {
			e.TOML = sc.Source
		}
		out = append(out, e)
	}
	writeJSON(w, out)
}
