package serve

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/wormlab/wormlab/internal/runrec"
	"github.com/wormlab/wormlab/internal/version"
)

// store is the data directory: the CLI's own JSON outputs, one a file.
// Every access goes through an os.Root, so no name a request carries can
// reach outside it (no "..", no symlink out), and names are checked
// by validName before that.
type store struct {
	dir  string
	root *os.Root
	mu   sync.Mutex
	list map[string]savedFile // by file name, with its size and time
}

// validName reports whether name is a saved file's name without ".json":
// 1 to 64 letters, digits, dots, dashes and underscores, starting with a
// letter or digit (so never ".." or a hidden file).
func validName(name string) bool {
	if len(name) == 0 || len(name) > 64 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || c != '.' && c != '-' && c != '_') {
			return false
		}
	}
	return true
}

// maxSavedBytes bounds a data file the lab reads: a month of one-minute
// bins is about 10 MB of run record.
const maxSavedBytes = 64 << 20

func openStore(dir string) (*store, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("--data %s: %w", dir, errors.Unwrap(err))
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("--data %s: not a directory", dir)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("--data %s: %w", dir, err)
	}
	return &store{dir: dir, root: root, list: map[string]savedFile{}}, nil
}

func (st *store) Close() error { return st.root.Close() }

// fileName checks a name from a request and returns its file name.
func fileName(name string) (string, error) {
	name = strings.TrimSuffix(name, ".json")
	if !validName(name) || strings.Contains(name, "..") {
		return "", &requestError{Status: http.StatusBadRequest, Key: "file",
			Msg: fmt.Sprintf("name %q: want 1 to 64 letters, digits, '.', '-' or '_', starting with a letter or digit", printable(name))}
	}
	return name + ".json", nil
}

// save writes a new file through a temporary one, so a crash or a full
// disk leaves no half-written record; an existing file is not replaced.
func (st *store) save(file string, write func(io.Writer) error) error {
	var rnd [6]byte
	rand.Read(rnd[:])
	tmp := "." + file + ".tmp-" + hex.EncodeToString(rnd[:])
	f, err := st.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	err = write(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		// Link fails when file exists: two saves of one name cannot
		// overwrite each other.
		err = st.root.Link(tmp, file)
		if errors.Is(err, fs.ErrExist) {
			err = &requestError{Status: http.StatusConflict, Key: "file",
				Msg: fmt.Sprintf("%s exists already in the data directory; choose another name", file)}
		}
	}
	st.root.Remove(tmp)
	return err
}

// read returns a data file's bytes.
func (st *store) read(file string) ([]byte, error) {
	f, err := st.root.Open(file)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, &requestError{Status: http.StatusNotFound, Msg: fmt.Sprintf("no %s in the data directory", file)}
		}
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return nil, &requestError{Status: http.StatusNotFound, Msg: fmt.Sprintf("%s is not a regular file", file)}
	}
	b, err := io.ReadAll(io.LimitReader(f, maxSavedBytes+1))
	if err == nil && len(b) > maxSavedBytes {
		return nil, &requestError{Status: http.StatusUnprocessableEntity, Msg: fmt.Sprintf("%s is over %s; read it with the CLI", file, sizeText(maxSavedBytes))}
	}
	return b, err
}

// readRecord reads a run record from the data directory.
func (st *store) readRecord(file string) (*runrec.Record, error) {
	b, err := st.read(file)
	if err != nil {
		return nil, err
	}
	rec, err := runrec.Read(bytes.NewReader(b), file)
	if err != nil {
		return nil, &requestError{Status: http.StatusUnprocessableEntity, Msg: err.Error()}
	}
	return rec, nil
}

// savedFile is one file of the data directory, as the list shows it.
type savedFile struct {
	File     string `json:"file"`
	Kind     string `json:"kind"` // run, detect, ensemble, sweep or other
	Scenario string `json:"scenario,omitempty"`
	Seed     uint64 `json:"seed"`
	Version  string `json:"version,omitempty"`
	size     int64
	mod      time.Time
}

// files lists the JSON files of the data directory, sorted by name.
// Each file is read once per size and modification time.
func (st *store) files() ([]savedFile, error) {
	entries, err := fs.ReadDir(st.root.FS(), ".")
	if err != nil {
		return nil, err
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	var out []savedFile
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || !strings.HasSuffix(name, ".json") || !validName(strings.TrimSuffix(name, ".json")) {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue
		}
		if c, ok := st.list[name]; ok && c.size == fi.Size() && c.mod.Equal(fi.ModTime()) {
			out = append(out, c)
			continue
		}
		sf := savedFile{File: name, Kind: "other", size: fi.Size(), mod: fi.ModTime()}
		if b, err := st.read(name); err == nil {
			var head struct {
				Schema   string `json:"schema"`
				Version  string `json:"version"`
				Seed     uint64 `json:"seed"`
				Scenario struct {
					Name string `json:"name"`
				} `json:"scenario"`
			}
			if json.Unmarshal(b, &head) == nil {
				kind, _, _ := strings.Cut(strings.TrimPrefix(head.Schema, "wormlab."), "/")
				if strings.HasPrefix(head.Schema, "wormlab.") {
					sf.Kind = kind
				}
				sf.Scenario, sf.Seed, sf.Version = head.Scenario.Name, head.Seed, head.Version
			}
		}
		st.list[name] = sf
		out = append(out, sf)
	}
	slices.SortFunc(out, func(a, b savedFile) int { return strings.Compare(a.File, b.File) })
	return out, nil
}

func (s *Server) noData(w http.ResponseWriter, r *http.Request) bool {
	if s.store == nil {
		s.fail(w, r, &requestError{Status: http.StatusNotFound, Msg: "the lab keeps nothing on disk: start it with --data DIR to save runs"})
		return true
	}
	return false
}

func (s *Server) handleSavedPage(w http.ResponseWriter, r *http.Request) {
	var files []savedFile
	dir := ""
	if s.store != nil {
		var err error
		if files, err = s.store.files(); err != nil {
			s.fail(w, r, err)
			return
		}
		dir = s.store.dir
	}
	s.render(w, r, http.StatusOK, "saved", struct {
		pageData
		Dir   string
		Files []savedFile
	}{pageData{Title: "Saved runs", Page: "saved", Version: version.Version}, dir, files})
}

func (s *Server) handleSavedList(w http.ResponseWriter, r *http.Request) {
	if s.noData(w, r) {
		return
	}
	files, err := s.store.files()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, map[string]any{"files": files})
}

// savedRecord reads the run record the request's {file} or {name} names.
func (s *Server) savedRecord(r *http.Request, param string) (string, *runrec.Record, error) {
	file, err := fileName(r.PathValue(param))
	if err != nil {
		return "", nil, err
	}
	rec, err := s.store.readRecord(file)
	return file, rec, err
}

// handleSavedRun answers GET /api/saved/{file}: a saved run's chart data.
func (s *Server) handleSavedRun(w http.ResponseWriter, r *http.Request) {
	if s.noData(w, r) {
		return
	}
	_, rec, err := s.savedRecord(r, "file")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	b, err := chartJSON(rec, runSpec{TOML: rec.ScenarioTOML, Seed: rec.Seed}, 0)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

// handleSavedRunPage shows a saved run in the run view; editing it makes
// new runs of its scenario.
func (s *Server) handleSavedRunPage(w http.ResponseWriter, r *http.Request) {
	if s.noData(w, r) {
		return
	}
	file, rec, err := s.savedRecord(r, "file")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sp := runSpec{TOML: rec.ScenarioTOML, Seed: rec.Seed}
	q := sp.query().Encode()
	s.render(w, r, http.StatusOK, "run", runPage{
		pageData: pageData{Title: file, Page: "run", Version: version.Version, Note: versionNote(rec.Version)},
		Spec:     sp, Scenario: rec.Scenario, TOML: rec.ScenarioTOML, Form: editorForm(rec.Scenario),
		Query: template.URL(q), ChartURL: "/api/saved/" + file, CanSave: true,
	})
}

// handleSavedDownload answers /download/saved/{name}/{file}: the saved
// file itself (file), or a run's run.csv, run.json or report.html.
func (s *Server) handleSavedDownload(w http.ResponseWriter, r *http.Request) {
	if s.noData(w, r) {
		return
	}
	if r.PathValue("file") == "file" {
		file, err := fileName(r.PathValue("name"))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		b, err := s.store.read(file)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", file))
		w.Write(b)
		return
	}
	file, rec, err := s.savedRecord(r, "name")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeRecord(w, r, r.PathValue("file"), rec, strings.TrimSuffix(file, ".json"))
}

// handleSave answers POST /api/save: file (the name to save under), and
// either a run (a permalink's query: scenario or toml, changed keys, seed)
// or an upload's detect report (upload).
func (s *Server) handleSave(w http.ResponseWriter, r *http.Request) {
	if s.noData(w, r) {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 2*maxScenarioBytes)
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, badRequest("the form could not be read: %v", err))
		return
	}
	file, err := fileName(r.PostForm.Get("file"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var write func(io.Writer) error
	if id := r.PostForm.Get("upload"); id != "" {
		up, ok := s.uploads.get(id)
		if !ok {
			s.fail(w, r, &requestError{Status: http.StatusNotFound, Key: "upload", Msg: "that upload is no longer held (the lab keeps the last few); upload the log again"})
			return
		}
		write = func(w io.Writer) error { _, err := w.Write(up.reportJSON); return err }
	} else {
		res, err := s.runFrom(r, r.PostForm)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		write = res.rec.WriteJSON
	}
	if err := s.store.save(file, write); err != nil {
		s.fail(w, r, err)
		return
	}
	s.log.Info("saved", "file", file)
	writeJSON(w, map[string]string{"file": file, "url": "/saved/" + file})
}
