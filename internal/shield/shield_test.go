package shield

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/wormlab/wormlab/internal/series"
)

// TestCodeRedRequestLine pins down what Go's HTTP server makes of a Code Red
// II request sent raw, as the worm sends it: HTTP/1.0, no Host header, a
// query full of %u escapes that are not valid URL escapes. The shield relies
// on the server accepting it, on Path and RawQuery being intact, and on the
// parsed query failing, which is why it classifies on RawQuery and
// RequestURI.
func TestCodeRedRequestLine(t *testing.T) {
	type seen struct {
		path, rawQuery, uri, proto string
		queryErr                   error
		bodyLen                    int
	}
	got := make(chan seen, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		_, qerr := url.ParseQuery(r.URL.RawQuery)
		got <- seen{r.URL.Path, r.URL.RawQuery, r.RequestURI, r.Proto, qerr, len(b)}
		w.WriteHeader(http.StatusNotFound)
	}))
	defer srv.Close()
	res := sendRaw(t, srv.Listener.Addr().String(), wormRequest(codeRed2), 5*time.Second)
	if !strings.HasPrefix(res.data, "HTTP/1.0 404 ") || !res.closed {
		t.Fatalf("response %q (closed %v), want an HTTP/1.0 404 and a closed connection", res.data, res.closed)
	}
	s := <-got
	if s.path != "/default.ida" {
		t.Errorf("Path = %q, want /default.ida", s.path)
	}
	if want := codeRed2[len("/default.ida?"):]; s.rawQuery != want {
		t.Errorf("RawQuery = %q, want %q", s.rawQuery, want)
	}
	if s.uri != codeRed2 {
		t.Errorf("RequestURI = %q, want the target as sent", s.uri)
	}
	if s.proto != "HTTP/1.0" {
		t.Errorf("Proto = %q", s.proto)
	}
	if s.queryErr == nil {
		t.Errorf("url.ParseQuery accepted %%u escapes; the shield's reasons for RawQuery no longer hold")
	}
	if s.bodyLen != 3379 {
		t.Errorf("body %d bytes, want 3379 (Content-length with a trailing space)", s.bodyLen)
	}
}

func TestClassify(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ target, family string }{
		{codeRed2, "codered2"},
		{codeRed1, "codered1"},
		{nimda, "nimda"},
		{"/scripts/root.exe?/c+dir", "nimda"},
		{"/", ""},
		{"/index.html?q=default.ida", ""},
	} {
		r := httptest.NewRequest("GET", c.target, nil)
		sig, ok := s.Classify(r)
		fam := ""
		if ok {
			fam = sig.Family
		}
		if fam != c.family {
			t.Errorf("Classify(%.40q) family %q, want %q", c.target, fam, c.family)
		}
	}
}

// TestActions sends each kind of request through a real loopback server and
// checks what the client got and whether the site behind saw it.
func TestActions(t *testing.T) {
	acts := map[string]Action{"codered2": Drop, "nimda": NotFound, "codered1": LogOnly}
	next := &countingHandler{}
	_, srv := serveShield(t, Options{Actions: acts}, next)
	addr := srv.Listener.Addr().String()

	// drop: nothing at all comes back, and the connection ends.
	res := sendRaw(t, addr, wormRequest(codeRed2), 5*time.Second)
	if res.data != "" || !res.closed {
		t.Errorf("drop: got %q (closed %v), want no bytes and a closed connection", res.data, res.closed)
	}
	// 404: the fixed response, then close.
	res = sendRaw(t, addr, "GET "+nimda+" HTTP/1.0\r\n\r\n", 5*time.Second)
	if !strings.HasPrefix(res.data, "HTTP/1.0 404 Not Found\r\n") || !strings.HasSuffix(res.data, "\r\n\r\n"+notFoundBody) || !res.closed {
		t.Errorf("404: got %q (closed %v)", res.data, res.closed)
	}
	if next.n.Load() != 0 {
		t.Fatalf("site saw %d requests after drop and 404, want 0", next.n.Load())
	}
	// log-only: passed through.
	res = sendRaw(t, addr, wormRequest(codeRed1), 5*time.Second)
	if !strings.HasPrefix(res.data, "HTTP/1.0 200 OK") {
		t.Errorf("log-only: got %q, want the site's 200", res.data)
	}
	// legitimate, HTTP/1.1 keep-alive: passed.
	resp, err := srv.Client().Get(srv.URL + "/index.html")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || next.n.Load() != 2 {
		t.Errorf("legit: status %d, site saw %d requests; want 200 and 2", resp.StatusCode, next.n.Load())
	}
}

func TestTarpit(t *testing.T) {
	clk := newFakeClock()
	reg := prometheus.NewRegistry()
	s, srv := serveShield(t, Options{
		Actions:    map[string]Action{"*": Tarpit},
		TarpitHold: time.Minute, TarpitMax: 2,
		Clock: clk, Registry: reg,
	}, &countingHandler{})
	addr := srv.Listener.Addr().String()

	held := make(chan rawResult, 2)
	for range 2 {
		go func() { held <- sendRaw(t, addr, wormRequest(codeRed2), 10*time.Second) }()
	}
	waitFor(t, "two held connections", func() bool { return s.Held() == 2 })
	// The tarpit is full: a third probe is dropped at once.
	start := time.Now()
	res := sendRaw(t, addr, wormRequest(codeRed2), 10*time.Second)
	if !res.closed || res.data != "" || time.Since(start) > 5*time.Second {
		t.Errorf("over the cap: got %q after %v, want an immediate close", res.data, time.Since(start))
	}
	if got := testutil.ToFloat64(s.met.tarpitOverflow); got != 1 {
		t.Errorf("overflow = %v, want 1", got)
	}
	select {
	case r := <-held:
		t.Fatalf("held connection ended before the hold: %+v", r)
	case <-time.After(100 * time.Millisecond):
	}
	clk.Advance(59 * time.Second)
	if s.Held() != 2 {
		t.Fatalf("after 59 s of a 1 min hold, %d held, want 2", s.Held())
	}
	clk.Advance(time.Second)
	for range 2 {
		r := <-held
		if !r.closed || r.data != "" {
			t.Errorf("released connection: %+v, want closed without data", r)
		}
	}
	if s.Held() != 0 || testutil.ToFloat64(s.met.tarpitHeld) != 0 {
		t.Errorf("after the hold: %d held, gauge %v; want 0", s.Held(), testutil.ToFloat64(s.met.tarpitHeld))
	}
	// Close releases holds at once.
	go func() { held <- sendRaw(t, addr, wormRequest(codeRed2), 10*time.Second) }()
	waitFor(t, "one held connection", func() bool { return s.Held() == 1 })
	s.Close()
	if r := <-held; !r.closed {
		t.Errorf("Close did not release the held connection: %+v", r)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestBan checks the whole ban cycle through a server: three probes ban the
// source, the ban drops its legitimate requests too, and it ends on time.
func TestBan(t *testing.T) {
	clk := newFakeClock()
	next := &countingHandler{}
	s, srv := serveShield(t, Options{
		Actions:  map[string]Action{"*": NotFound},
		BanAfter: 3, BanFor: 10 * time.Minute, Clock: clk,
	}, next)
	addr := srv.Listener.Addr().String()
	legit := func() rawResult { return sendRaw(t, addr, "GET / HTTP/1.0\r\n\r\n", 5*time.Second) }
	for i := range 3 {
		if r := legit(); !strings.HasPrefix(r.data, "HTTP/1.0 200") {
			t.Fatalf("before probe %d a legit request got %q", i+1, r.data)
		}
		if r := sendRaw(t, addr, wormRequest(codeRed2), 5*time.Second); !strings.HasPrefix(r.data, "HTTP/1.0 404") {
			t.Fatalf("probe %d got %q, want the 404 (not yet banned)", i+1, r.data)
		}
	}
	if r := legit(); r.data != "" || !r.closed {
		t.Fatalf("banned source's legit request got %q, want a dropped connection", r.data)
	}
	clk.Advance(10*time.Minute - time.Nanosecond)
	if r := legit(); r.data != "" {
		t.Fatalf("1 ns before the ban ends: got %q, want a drop", r.data)
	}
	clk.Advance(time.Nanosecond)
	if r := legit(); !strings.HasPrefix(r.data, "HTTP/1.0 200") {
		t.Fatalf("after the ban: got %q, want 200", r.data)
	}
	if st := s.Stats(); st.Banned != 2 || st.Probes != 3 || next.n.Load() != 4 {
		t.Errorf("stats %+v, site saw %d; want 2 banned requests, 3 probes, 4 legit served", st, next.n.Load())
	}
}

// TestMetrics checks the exposition after a known sequence of requests.
func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	clk := newFakeClock()
	_, srv := serveShield(t, Options{
		Actions:  map[string]Action{"codered2": Drop, "nimda": NotFound, "codered1": LogOnly},
		BanAfter: 4, Clock: clk, Registry: reg,
	}, &countingHandler{})
	addr := srv.Listener.Addr().String()
	send := func(req string, n int) {
		for range n {
			sendRaw(t, addr, req, 5*time.Second)
		}
	}
	send(wormRequest(codeRed2), 2)
	send("GET "+nimda+" HTTP/1.0\r\n\r\n", 1)
	send(wormRequest(codeRed1), 1)    // the fourth probe: banned, but served (log-only)
	send("GET / HTTP/1.0\r\n\r\n", 3) // banned: dropped
	clk.Advance(DefaultBanFor)
	send("GET / HTTP/1.0\r\n\r\n", 1)

	want := `
# HELP wormlab_shield_probes_total Worm probes recognised, by signature and the action taken.
# TYPE wormlab_shield_probes_total counter
wormlab_shield_probes_total{action="404",signature="nimda-cmd-exe"} 1
wormlab_shield_probes_total{action="drop",signature="codered2"} 2
wormlab_shield_probes_total{action="log-only",signature="codered1"} 1
# HELP wormlab_shield_requests_passed_total Requests passed to the next handler (log-only probes included).
# TYPE wormlab_shield_requests_passed_total counter
wormlab_shield_requests_passed_total 2
# HELP wormlab_shield_banned_requests_total Requests dropped because their source was banned, probes or not.
# TYPE wormlab_shield_banned_requests_total counter
wormlab_shield_banned_requests_total 3
# HELP wormlab_shield_sources_banned_total Bans imposed on sources that sent too many probes.
# TYPE wormlab_shield_sources_banned_total counter
wormlab_shield_sources_banned_total 1
# HELP wormlab_shield_bans_active Sources banned now.
# TYPE wormlab_shield_bans_active gauge
wormlab_shield_bans_active 0
# HELP wormlab_shield_bans_evicted_total Live bans forgotten before their end because the ban table was full (raise --ban-table).
# TYPE wormlab_shield_bans_evicted_total counter
wormlab_shield_bans_evicted_total 0
# HELP wormlab_shield_tarpit_connections Connections held in the tarpit now.
# TYPE wormlab_shield_tarpit_connections gauge
wormlab_shield_tarpit_connections 0
# HELP wormlab_shield_tarpit_overflow_total Probes dropped instead of tarpitted because the tarpit was full.
# TYPE wormlab_shield_tarpit_overflow_total counter
wormlab_shield_tarpit_overflow_total 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}

func TestSeries(t *testing.T) {
	clk := newFakeClock() // 12:00:30
	s, err := New(Options{Series: true, Clock: clk, Actions: map[string]Action{"*": NotFound}})
	if err != nil {
		t.Fatal(err)
	}
	h := s.Wrap(&countingHandler{})
	probe := func(src string) {
		r := httptest.NewRequest("GET", codeRed2, nil)
		r.RemoteAddr = src
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	probe("192.0.2.1:1000")
	probe("192.0.2.2:1000")
	probe("192.0.2.1:1001")
	clk.Advance(2 * time.Minute) // 12:02:30: minute 12:01 had nothing
	probe("192.0.2.1:1002")
	probe("[2001:db8::1]:80")
	ser, capped := s.Series()
	if capped {
		t.Error("capped")
	}
	var buf bytes.Buffer
	if err := series.Write(&buf, ser); err != nil {
		t.Fatal(err)
	}
	want := "minute,utc,probes,sources,new_sources\n" +
		"0,2001-08-04T12:00:00Z,3,2,2\n" +
		"1,2001-08-04T12:01:00Z,0,0,0\n" +
		"2,2001-08-04T12:02:00Z,2,2,1\n"
	if buf.String() != want {
		t.Errorf("series:\n%s\nwant:\n%s", buf.String(), want)
	}
}

// TestDropWithoutHijack checks the fallback where the connection cannot be
// hijacked (HTTP/2, or a ResponseRecorder as here): http.ErrAbortHandler.
func TestDropWithoutHijack(t *testing.T) {
	h := Middleware(&countingHandler{}, Options{})
	defer func() {
		if p := recover(); p != http.ErrAbortHandler {
			t.Errorf("recovered %v, want http.ErrAbortHandler", p)
		}
	}()
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", codeRed2, nil))
	t.Error("drop without a hijackable connection returned normally")
}

func TestLogSampling(t *testing.T) {
	clk := newFakeClock()
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	s, err := New(Options{Logger: log, LogPerSecond: 2, Clock: clk, Actions: map[string]Action{"*": NotFound}})
	if err != nil {
		t.Fatal(err)
	}
	h := s.Wrap(&countingHandler{})
	for i := range 7 {
		if i == 5 {
			clk.Advance(time.Second)
		}
		r := httptest.NewRequest("GET", codeRed2, nil)
		r.RemoteAddr = "192.0.2.7:4000"
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d log lines for 5+2 probes at 2/s, want 4:\n%s", len(lines), buf.String())
	}
	if !strings.Contains(lines[2], "suppressed=3") || !strings.Contains(lines[0], "signature=codered2") {
		t.Errorf("log lines:\n%s\nwant the third to report 3 suppressed", buf.String())
	}
}

func TestParseActions(t *testing.T) {
	m, err := ParseActions("codered2=tarpit, nimda=404,*=log-only")
	if err != nil {
		t.Fatal(err)
	}
	if m["codered2"] != Tarpit || m["nimda"] != NotFound || m["*"] != LogOnly || len(m) != 3 {
		t.Errorf("got %v", m)
	}
	for _, bad := range []string{"codered2", "codered2=block", "=drop", "nimda=drop,nimda=404"} {
		if _, err := ParseActions(bad); err == nil {
			t.Errorf("ParseActions(%q) accepted", bad)
		}
	}
}
