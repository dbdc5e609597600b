package serve

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/wormlab/wormlab/internal/scenario"
	"github.com/wormlab/wormlab/internal/scenarioform"
	"github.com/wormlab/wormlab/internal/version"
)

// maxScenarioBytes bounds an edited scenario, in the URL or a form: the
// built-ins are under 5 KB; a layout is a file, which the lab refuses.
const maxScenarioBytes = 64 << 10

// runSpec is what a permalink holds: a scenario (a built-in's name, or an
// edited TOML text), a seed, and the version that made the link.
type runSpec struct {
	Name string // built-in name; "" when TOML is set
	TOML string // edited scenario
	// Changes are form values (dotted keys) applied to the scenario, as
	// scenarioform.Apply takes them: an edited built-in's link carries
	// only the keys that differ.
	Changes url.Values
	Seed    uint64
	Version string // of the link; "" for this build
}

// query returns the URL query of sp, as the pages and permalinks use it:
// scenario=NAME or toml=ENCODED, seed, and v.
func (sp runSpec) query() url.Values {
	q := url.Values{}
	if sp.TOML != "" {
		q.Set("toml", encodeTOML(sp.TOML))
	} else {
		q.Set("scenario", sp.Name)
	}
	for k, v := range sp.Changes {
		q[k] = v
	}
	q.Set("seed", strconv.FormatUint(sp.Seed, 10))
	q.Set("v", version.Version)
	return q
}

// key identifies the run in caches: the same key, the same run.
func (sp runSpec) key() string {
	base := "name:" + sp.Name
	if sp.TOML != "" {
		base = "toml:" + sp.TOML
	}
	return base + "\x00" + sp.Changes.Encode() + "\x00" + strconv.FormatUint(sp.Seed, 10)
}

// encodeTOML packs a scenario for a URL: raw DEFLATE, then unpadded
// base64url, which takes a commented built-in's text to about 70% of its
// length and an uncommented one to less.
func encodeTOML(src string) string {
	var b bytes.Buffer
	zw, _ := flate.NewWriter(&b, flate.BestCompression)
	zw.Write([]byte(src))
	zw.Close()
	return base64.RawURLEncoding.EncodeToString(b.Bytes())
}

// decodeTOML undoes encodeTOML, refusing text over maxScenarioBytes.
func decodeTOML(enc string) (string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		return "", errors.New("the scenario in the link is damaged (not base64url); was the link cut short?")
	}
	out, err := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(raw)), maxScenarioBytes+1))
	if err != nil {
		return "", errors.New("the scenario in the link is damaged (not DEFLATE); was the link cut short?")
	}
	if len(out) > maxScenarioBytes {
		return "", fmt.Errorf("the scenario in the link is over %d KiB", maxScenarioBytes>>10)
	}
	return string(out), nil
}

// requestError is a problem with a request, shown to the user as it is.
// Key names the scenario field or form input at fault, when one is.
type requestError struct {
	Status int
	Msg    string
	Key    string
	Line   int
	Fields map[string]string // every field's message, when several are wrong
}

func (e *requestError) Error() string { return e.Msg }

func badRequest(format string, args ...any) *requestError {
	return &requestError{Status: http.StatusBadRequest, Msg: fmt.Sprintf(format, args...)}
}

// specFrom reads a run spec from a query or form: scenario or toml, seed.
// An unknown name is a 404; a bad seed or damaged TOML a 400.
func specFrom(q url.Values) (runSpec, error) {
	sp := runSpec{Name: q.Get("scenario"), Version: q.Get("v"), Seed: 1}
	if s := q.Get("seed"); s != "" {
		seed, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return sp, &requestError{Status: http.StatusBadRequest, Msg: fmt.Sprintf("seed %q: want a whole number from 0 to 18446744073709551615", s), Key: "seed"}
		}
		sp.Seed = seed
	}
	switch {
	case q.Get("toml") != "" && sp.Name != "":
		return sp, badRequest("give a scenario name or an edited scenario (toml), not both")
	case q.Has("toml"):
		src, err := decodeTOML(q.Get("toml"))
		if err != nil {
			return sp, badRequest("%v", err)
		}
		sp.TOML = src
	case q.Has("source"):
		// A form posts the text as it is.
		src := q.Get("source")
		if len(src) > maxScenarioBytes {
			return sp, badRequest("the scenario is over %d KiB", maxScenarioBytes>>10)
		}
		sp.TOML = src
	case sp.Name == "":
		sp.Name = scenario.Default
	}
	if ch := formChanges(q); len(ch) > 0 {
		sp.Changes = ch
	}
	if sp.TOML == "" && !isBuiltin(sp.Name) {
		return sp, &requestError{Status: http.StatusNotFound, Key: "scenario",
			Msg: fmt.Sprintf("no built-in scenario %q; the gallery lists them: %s", printable(sp.Name), strings.Join(scenario.Names(), ", "))}
	}
	return sp, nil
}

func isBuiltin(name string) bool {
	for _, n := range scenario.Names() {
		if n == name {
			return true
		}
	}
	return false
}

// loadSpec reads a run's description from q and loads its scenario, the
// first thing most pages and endpoints do.
func loadSpec(q url.Values) (runSpec, *scenario.Scenario, error) {
	sp, err := specFrom(q)
	if err != nil {
		return sp, nil, err
	}
	sc, err := sp.load()
	return sp, sc, err
}

// load parses the scenario of sp and applies its changes. A scenario
// that names a file (a population layout file) is refused: the lab reads
// no file a request names.
func (sp runSpec) load() (*scenario.Scenario, error) {
	var base *scenario.Scenario
	var err error
	if sp.TOML == "" {
		if base, err = scenario.Builtin(sp.Name); err != nil {
			return nil, &requestError{Status: http.StatusNotFound, Msg: err.Error(), Key: "scenario"}
		}
	} else if base, err = scenarioform.ParseTOML([]byte(sp.TOML), "edited scenario"); err != nil {
		var se *scenario.Error
		if errors.As(err, &se) {
			return nil, &requestError{Status: http.StatusUnprocessableEntity, Msg: se.Msg, Key: se.Key, Line: se.Line}
		}
		return nil, &requestError{Status: http.StatusUnprocessableEntity, Msg: err.Error()}
	}
	if len(sp.Changes) == 0 {
		return base, nil
	}
	s, errs := scenarioform.Apply(base, sp.Changes)
	if len(errs) > 0 {
		keys := slices.Sorted(maps.Keys(errs))
		return nil, &requestError{Status: http.StatusUnprocessableEntity, Key: keys[0], Msg: errs[keys[0]], Fields: errs}
	}
	return s, nil
}

// printable quotes at most 80 bytes of s for a message.
func printable(s string) string {
	if len(s) > 80 {
		s = s[:80] + "..."
	}
	return strings.ToValidUTF8(s, "?")
}
