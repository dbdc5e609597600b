package shield

import (
	"bufio"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func FuzzParseActions(f *testing.F) {
	for _, s := range []string{
		"",                          // no actions: all defaults
		"*=drop",                    // the command's default
		"codered2=tarpit,nimda=404", // two families
		" codered1 = log-only , * = 404 ",
		"nimda=drop,nimda=404", // duplicate
		"=drop", "nimda", "nimda=", "nimda==404", ",,,", "nimda=DROP", "\x00=drop",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseActions(s)
		if err != nil {
			return
		}
		// Whatever parsed must print back to something that parses to the
		// same map.
		var parts []string
		for fam, a := range m {
			if fam == "" || strings.ContainsAny(fam, ",=") {
				t.Fatalf("ParseActions(%q) accepted family %q", s, fam)
			}
			parts = append(parts, fam+"="+a.String())
		}
		m2, err := ParseActions(strings.Join(parts, ","))
		if err != nil || len(m2) != len(m) {
			t.Fatalf("round trip of %q: %v, %v", s, m2, err)
		}
		for fam, a := range m {
			if m2[fam] != a {
				t.Fatalf("round trip of %q changed %s", s, fam)
			}
		}
	})
}

// FuzzMiddleware feeds arbitrary requests, parsed as the server would parse
// them, through the middleware: it must never panic (other than the
// documented http.ErrAbortHandler, not reachable with these actions) and a
// request it classifies as a probe must never reach the next handler.
func FuzzMiddleware(f *testing.F) {
	for _, s := range []string{
		wormRequest(codeRed2),
		wormRequest(codeRed1),
		"GET " + nimda + " HTTP/1.0\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET http://evil.example/default.ida?XXXX HTTP/1.1\r\nHost: x\r\n\r\n", // absolute form
		"GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n",                                 // invalid escape in the path
		"GET /default.ida?%u HTTP/1.0\r\n\r\n",                                 // cut escape
		"GET * HTTP/1.1\r\nHost: x\r\n\r\n",
		"OPTIONS /scripts/root.exe HTTP/1.1\r\nHost: x\r\n\r\n",
	} {
		f.Add(s)
	}
	s, err := New(Options{Actions: map[string]Action{"nimda": LogOnly, "*": NotFound}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
		if err != nil {
			return // the server answers 400 before any handler runs
		}
		sig, probe := s.Classify(r)
		reached := false
		h := s.Wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached = true }))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		switch {
		case probe && s.ActionFor(sig.Family) == NotFound:
			if reached || w.Code != http.StatusNotFound || w.Body.String() != notFoundBody {
				t.Fatalf("probe %s (%q): reached next %v, answered %d", sig.Name, r.RequestURI, reached, w.Code)
			}
		case !reached:
			t.Fatalf("request %q (probe %v) did not reach next", r.RequestURI, probe)
		}
	})
}

// FuzzEarly feeds arbitrary first bytes of a connection to the listener's
// check. It must not panic, must never act without a whole line, and when
// it drops a request that net/http would parse, the middleware must agree
// that the request is a probe, so the two checks tell the same story.
func FuzzEarly(f *testing.F) {
	for _, s := range []string{
		wormRequest(codeRed2),
		"GET " + nimda + " HTTP/1.0\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /default.ida?XXXX",              // no line end yet
		"\n",                                 // empty line
		"GET /default%2eida?XXXX HTTP/1.0\n", // escaped dot: left to the middleware
	} {
		f.Add(s)
	}
	s, err := New(Options{})
	if err != nil {
		f.Fatal(err)
	}
	c1, c2 := net.Pipe()
	defer c1.Close()
	defer c2.Close()
	f.Fuzz(func(t *testing.T, first string) {
		dropped := s.early(c1, []byte(first))
		if dropped && !strings.Contains(first, "\n") {
			t.Fatalf("dropped %q without a whole line", first)
		}
		if !dropped {
			return
		}
		r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(first)))
		if err != nil {
			return // net/http would have answered 400 anyway
		}
		if _, probe := s.Classify(r); !probe {
			t.Fatalf("listener dropped %q, middleware would pass it", first)
		}
	})
}
