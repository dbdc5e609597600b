package serve

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/wormlab/wormlab/internal/ensemble"
	"github.com/wormlab/wormlab/internal/logsynth"
	"github.com/wormlab/wormlab/internal/runrec"
	"github.com/wormlab/wormlab/internal/scenario"
	"github.com/wormlab/wormlab/internal/simrun"
	"github.com/wormlab/wormlab/internal/sweep"
)

// small is a built-in that runs in milliseconds (1,406 hosts in 2^24).
const small = "codered-v2-scaled"

func newTestServer(t *testing.T, cfg Config) (*Server, *httptest.Server) {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(func() { ts.Close(); s.Close() })
	return s, ts
}

func get(t *testing.T, url string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// post sends a same-origin form, as the lab's own pages do.
func post(t *testing.T, target, ctype string, body io.Reader, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest("POST", target, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func postForm(t *testing.T, target string, form url.Values) (*http.Response, []byte) {
	return post(t, target, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()), nil)
}

func builtinSource(t *testing.T, name string) string {
	t.Helper()
	s, err := scenario.Builtin(name)
	if err != nil {
		t.Fatal(err)
	}
	return s.Source
}

// TestPages opens every page and checks its status, the security headers
// and the ids the browser tests rely on.
func TestPages(t *testing.T) {
	_, ts := newTestServer(t, Config{Data: t.TempDir()})
	cases := []struct {
		path string
		ids  []string
	}{
		{"/", []string{`id="gallery"`, `data-name="codered-v2-2001-07-19"`, `data-test="open-scenario"`}},
		{"/run?scenario=" + small + "&seed=3", []string{`id="seed"`, `id="toml"`, `id="chart-states"`, `data-drawn="0"`, `id="pin"`, `id="save-name"`, `data-chart-url="/api/run?scenario=codered-v2-scaled&amp;seed=3&amp;v=`}},
		{"/compare", []string{`id="compare-chart"`, `id="pins"`}},
		{"/ensemble?scenario=" + small, []string{`id="ens-runs"`, `id="ens-cancel"`, `id="ens-chart"`}},
		{"/pipeline", []string{`id="log-file"`, `id="fit-coverage"`, `id="forecast-block"`}},
		{"/saved", []string{`id="saved-list"`}},
	}
	for _, c := range cases {
		resp, body := get(t, ts.URL+c.path)
		if resp.StatusCode != 200 {
			t.Errorf("GET %s: status %d", c.path, resp.StatusCode)
		}
		csp := resp.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("GET %s: Content-Security-Policy %q", c.path, csp)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("X-Frame-Options") != "DENY" {
			t.Errorf("GET %s: missing security headers: %v", c.path, resp.Header)
		}
		for _, id := range c.ids {
			if !bytes.Contains(body, []byte(id)) {
				t.Errorf("GET %s: no %s in the page", c.path, id)
			}
		}
		// No inline script: every <script> has a src.
		for _, m := range strings.Split(string(body), "<script")[1:] {
			if !strings.HasPrefix(strings.TrimSpace(m), `defer src="/assets/`) {
				t.Errorf("GET %s: inline script <script%.40s", c.path, m)
			}
		}
	}
}

// TestFirstLoadSize holds the gallery's first load (page, style sheets,
// scripts, thumbnails) under the 300 KB, gzip as browsers ask.
func TestFirstLoadSize(t *testing.T) {
	_, ts := newTestServer(t, Config{})
	fetch := func(path string) int {
		req, _ := http.NewRequest("GET", ts.URL+path, nil)
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("GET %s: %d, Content-Encoding %q", path, resp.StatusCode, resp.Header.Get("Content-Encoding"))
		}
		return len(b) + 300 // headers, roughly
	}
	total := fetch("/")
	for _, a := range []string{"vendor/uplot.min.css", "style.css", "vendor/uplot.iife.min.js", "app.js"} {
		total += fetch(assetURL(a))
	}
	// Thumbnails are SVG polylines of at most thumbPoints points, about
	// 12 bytes each; counted at their bound rather than run here.
	total += len(scenario.Names()) * (thumbPoints*12 + 400)
	if total > 300_000 {
		t.Errorf("first load %d bytes, want under 300 KB", total)
	}
	t.Logf("first load about %d bytes", total)
}

// TestBadInput sends what a careless or hostile client might and checks
// the status, the message and that nothing is written.
func TestBadInput(t *testing.T) {
	data := t.TempDir()
	_, ts := newTestServer(t, Config{Data: data, MaxUpload: 64 << 10})
	edited := strings.Replace(builtinSource(t, small), "scan_rate = ", "scan_rate = 1e9 #", 1)
	big := strings.Replace(builtinSource(t, small), "size = 1406", "size = 5000000", 1)
	bits := strings.Replace(big, "bits = 24", "bits = 32", 1)
	fileLayout := strings.Replace(builtinSource(t, "codered-v2-2001-07-19"), `layout = "allocated"`, `layout = "file"`+"\nfile = \"/etc/passwd\"", 1)
	binary := bytes.Repeat([]byte{0, 1, 2, 0xff, 0xfe, '\n', 0x80, 0x90}, 2000)
	cases := []struct {
		name     string
		method   string
		path     string
		ctype    string
		body     string
		header   map[string]string
		status   int
		contains string
	}{
		{"unknown scenario page", "GET", "/run?scenario=nope", "", "", nil, 404, "no built-in scenario &#34;nope&#34;"},
		{"unknown scenario api", "GET", "/api/run?scenario=nope", "", "", nil, 404, `no built-in scenario \"nope\"`},
		{"unknown scenario thumbnail", "GET", "/thumb/nope", "", "", nil, 404, "no built-in scenario"},
		{"scenario path in name", "GET", "/api/run?scenario=../../etc/passwd", "", "", nil, 404, "no built-in scenario"},
		{"bad seed", "GET", "/api/run?scenario=" + small + "&seed=-1", "", "", nil, 400, `"key":"seed"`},
		{"damaged link", "GET", "/api/run?toml=%21%21%21", "", "", nil, 400, "damaged"},
		{"name and toml", "GET", "/api/run?scenario=" + small + "&toml=" + encodeTOML("x"), "", "", nil, 400, "not both"},
		{"malformed toml", "POST", "/api/edit", "application/x-www-form-urlencoded", url.Values{"source": {"name = = 1"}}.Encode(), nil, 422, `"line":1`},
		{"invalid value", "POST", "/api/edit", "application/x-www-form-urlencoded", url.Values{"source": {edited}}.Encode(), nil, 422, `"key":"worm.scan_rate"`},
		{"over the host limit", "POST", "/api/edit", "application/x-www-form-urlencoded", url.Values{"source": {bits}}.Encode(), nil, 422, `"key":"population.size"`},
		{"layout file", "POST", "/api/edit", "application/x-www-form-urlencoded", url.Values{"source": {fileLayout}}.Encode(), nil, 422, "does not read layout files"},
		{"no source", "POST", "/api/edit", "application/x-www-form-urlencoded", "seed=1", nil, 400, "no scenario"},
		{"huge form", "POST", "/api/edit", "application/x-www-form-urlencoded", "source=" + strings.Repeat("a", 300<<10), nil, 400, "could not be read"},
		{"scenario too long", "POST", "/api/edit", "application/x-www-form-urlencoded", "source=" + strings.Repeat("a", 100<<10), nil, 400, "over 64 KiB"},
		{"cross-site post", "POST", "/api/edit", "application/x-www-form-urlencoded", "source=x", map[string]string{"Sec-Fetch-Site": "cross-site"}, 403, ""},
		{"cross-origin post", "POST", "/api/save", "application/x-www-form-urlencoded", "file=x&scenario=" + small, map[string]string{"Sec-Fetch-Site": "", "Origin": "http://evil.example"}, 403, ""},
		{"binary upload", "POST", "/api/detect", "application/octet-stream", string(binary), nil, 422, "unparsable"},
		{"oversized upload", "POST", "/api/detect", "text/plain", strings.Repeat("x", 65<<10), nil, 413, "over the lab's limit of 64 KiB"},
		{"empty upload", "POST", "/api/detect", "text/plain", "", nil, 422, "empty"},
		{"multipart without log", "POST", "/api/detect", "multipart/form-data; boundary=XX", "--XX\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nhi\r\n--XX--\r\n", nil, 400, `no file in the field \"log\"`},
		{"save outside data", "POST", "/api/save", "application/x-www-form-urlencoded", "file=../escape&scenario=" + small, nil, 400, `"key":"file"`},
		{"save absolute", "POST", "/api/save", "application/x-www-form-urlencoded", "file=/tmp/escape&scenario=" + small, nil, 400, `"key":"file"`},
		{"save hidden", "POST", "/api/save", "application/x-www-form-urlencoded", "file=.hidden&scenario=" + small, nil, 400, `"key":"file"`},
		{"saved escape", "GET", "/api/saved/..%2f..%2fetc%2fpasswd", "", "", nil, 400, `"key":"file"`},
		{"saved missing", "GET", "/api/saved/nothing.json", "", "", nil, 404, "no nothing.json"},
		{"download escape", "GET", "/download/saved/..%2fx/file", "", "", nil, 400, "want 1 to 64 letters"},
		{"ensemble one run", "GET", "/api/ensemble?scenario=" + small + "&runs=1", "", "", nil, 400, `"key":"runs"`},
		{"ensemble too many", "GET", "/api/ensemble?scenario=" + small + "&runs=100000", "", "", nil, 400, "want 2 to 200"},
		{"forecast bad block", "GET", "/api/forecast?scenario=codered-v2-2001-07-19&block=1.2.3", "", "", nil, 400, `"key":"block"`},
		{"forecast wide block", "GET", "/api/forecast?scenario=codered-v2-2001-07-19&block=0.0.0.0/4", "", "", nil, 400, "want a /8 to /32"},
		{"fit unknown upload", "POST", "/api/fit", "application/x-www-form-urlencoded", "upload=nope&family=codered2", nil, 404, "no longer held"},
		{"sweep nothing to vary", "GET", "/api/sweep?scenario=" + small + "&runs=2", "", "", nil, 400, "one or two keys"},
		{"sweep unknown key", "GET", "/api/sweep?scenario=" + small + "&runs=2&set=worm.nope=1,2", "", "", nil, 400, `"key":"set1"`},
		{"sweep too big", "GET", "/api/sweep?scenario=" + small + "&runs=50&set=worm.scan_rate=1..9/9", "", "", nil, 400, "at most 25 points and 200 runs"},
		{"sweep bad value", "GET", "/api/sweep?scenario=" + small + "&runs=2&set=worm.scan_rate=-1,2", "", "", nil, 422, "scan_rate"},
		{"sweep download unknown", "GET", "/download/sweep/sweep.csv?key=x", "", "", nil, 404, "no longer held"},
		{"detect download unknown", "GET", "/download/detect/nope/detect.json", "", "", nil, 404, "no longer held"},
		{"compare download nothing", "GET", "/download/compare/report.html", "", "", nil, 400, "pin runs"},
		{"compare nothing", "GET", "/api/compare", "", "", nil, 400, "pin runs"},
		{"compare unknown", "GET", "/api/compare?run=" + url.QueryEscape("scenario=nope"), "", "", nil, 404, "run 1"},
		{"asset escape", "GET", "/assets/..%2fserver.go", "", "", nil, 404, ""},
		{"unknown download", "GET", "/download/passwd?scenario=" + small, "", "", nil, 404, "no download"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var resp *http.Response
			var body []byte
			if c.method == "GET" {
				resp, body = get(t, ts.URL+c.path)
			} else {
				resp, body = post(t, ts.URL+c.path, c.ctype, strings.NewReader(c.body), c.header)
			}
			if resp.StatusCode != c.status {
				t.Errorf("status %d, want %d; body %.300s", resp.StatusCode, c.status, body)
			}
			if !bytes.Contains(body, []byte(c.contains)) {
				t.Errorf("body %.300s\nwant it to contain %s", body, c.contains)
			}
		})
	}
	if entries, _ := os.ReadDir(data); len(entries) != 0 {
		t.Errorf("bad input wrote %d files into --data", len(entries))
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(data), "escape.json")); err == nil {
		t.Error("a save escaped --data")
	}
}

// TestRunMatchesCLI: the lab's run record is the CLI's, byte for byte, and
// its chart data carries the same series.
func TestRunMatchesCLI(t *testing.T) {
	_, ts := newTestServer(t, Config{})
	sc, _ := scenario.Builtin(small)
	rec, _, _, err := simrun.Run(sc, 3, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	rec.WriteJSON(&want)
	resp, got := get(t, ts.URL+"/download/run.json?scenario="+small+"&seed=3")
	if resp.StatusCode != 200 || !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("run.json: status %d, %d bytes, want the CLI's %d bytes", resp.StatusCode, len(got), want.Len())
	}
	if cd := resp.Header.Get("Content-Disposition"); cd != `attachment; filename="codered-v2-scaled-seed3.json"` {
		t.Errorf("Content-Disposition %q", cd)
	}
	_, body := get(t, ts.URL+"/api/run?scenario="+small+"&seed=3")
	var c chart
	if err := json.Unmarshal(body, &c); err != nil {
		t.Fatal(err)
	}
	if len(c.Infected) != len(rec.Series) || c.Infected[len(c.Infected)-1] != rec.Summary.Final.Infected || c.Seed != 3 {
		t.Errorf("chart: %d points ending at %d infected, seed %d; want %d ending at %d, seed 3",
			len(c.Infected), c.Infected[len(c.Infected)-1], c.Seed, len(rec.Series), rec.Summary.Final.Infected)
	}
	resp, csv := get(t, ts.URL+"/download/run.csv?scenario="+small+"&seed=3")
	var wantCSV bytes.Buffer
	rec.WriteCSV(&wantCSV)
	if resp.StatusCode != 200 || !bytes.Equal(csv, wantCSV.Bytes()) {
		t.Errorf("run.csv differs from the CLI's")
	}
	resp, html := get(t, ts.URL+"/download/report.html?scenario="+small+"&seed=3")
	if resp.StatusCode != 200 || !bytes.Contains(html, []byte("<svg")) {
		t.Errorf("report.html: status %d, %d bytes without a chart", resp.StatusCode, len(html))
	}
}

// TestEditReruns changes a parameter in the TOML and checks the run
// changes with it and the permalink reproduces it.
func TestEditReruns(t *testing.T) {
	_, ts := newTestServer(t, Config{})
	src := builtinSource(t, small)
	slow := strings.Replace(src, "scan_rate = 5.9667", "scan_rate = 2.0", 1)
	if slow == src {
		t.Fatal("the scaled scenario's scan rate moved; update the test")
	}
	var runs [2]chart
	for i, s := range []string{src, slow} {
		resp, body := postForm(t, ts.URL+"/api/edit", url.Values{"source": {s}, "seed": {"2"}})
		if resp.StatusCode != 200 {
			t.Fatalf("edit %d: %d %s", i, resp.StatusCode, body)
		}
		json.Unmarshal(body, &runs[i])
	}
	if !strings.HasPrefix(runs[0].Query, "scenario="+small) {
		t.Errorf("the unedited built-in's query %q, want its name", runs[0].Query)
	}
	// A third of the scan rate: the logistic rate K falls by a third too.
	k0, k1 := runs[0].Summary.Logistic.KPerHour, runs[1].Summary.Logistic.KPerHour
	if !(k1 < k0*0.5) {
		t.Errorf("K %.3f after cutting the scan rate to a third, %.3f before", k1, k0)
	}
	// The edited built-in's link names it and carries the changed key.
	q, _ := url.ParseQuery(runs[1].Query)
	if q.Get("scenario") != small || q.Get("worm.scan_rate") != "2" || q.Get("seed") != "2" || q.Has("toml") {
		t.Fatalf("permalink %q, want the built-in's name, worm.scan_rate=2 and seed 2", runs[1].Query)
	}
	_, body := get(t, ts.URL+"/api/run?"+runs[1].Query)
	var again chart
	json.Unmarshal(body, &again)
	if !slices.Equal(again.Infected, runs[1].Infected) {
		t.Error("the permalink's run differs from the edited run")
	}
	resp, page := get(t, ts.URL+"/run?"+runs[1].Query)
	if resp.StatusCode != 200 || !bytes.Contains(page, []byte("scan_rate = 2.0")) || !bytes.Contains(page, []byte(`name="worm.scan_rate" value="2"`)) {
		t.Errorf("the permalink's page: status %d, without the edited TOML", resp.StatusCode)
	}
}

func TestVersionNote(t *testing.T) {
	_, ts := newTestServer(t, Config{})
	_, page := get(t, ts.URL+"/run?scenario="+small+"&v=v0.0.1-old")
	if !bytes.Contains(page, []byte(`id="version-note"`)) || !bytes.Contains(page, []byte("v0.0.1-old")) {
		t.Error("a link of another version shows no note")
	}
}

// TestSaveAndCLI saves a run into --data, finds it listed and readable as
// a run record, and refuses a second save under the same name; a record
// the CLI wrote there is listed and shown.
func TestSaveAndCLI(t *testing.T) {
	data := t.TempDir()
	_, ts := newTestServer(t, Config{Data: data})
	resp, body := postForm(t, ts.URL+"/api/save", url.Values{"file": {"mine"}, "scenario": {small}, "seed": {"4"}})
	if resp.StatusCode != 200 {
		t.Fatalf("save: %d %s", resp.StatusCode, body)
	}
	f, err := os.Open(filepath.Join(data, "mine.json"))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := runrec.Read(f, "mine.json")
	f.Close()
	if err != nil || rec.Seed != 4 || rec.Scenario.Name != small {
		t.Fatalf("saved record: %v, seed %v", err, rec)
	}
	resp, body = postForm(t, ts.URL+"/api/save", url.Values{"file": {"mine"}, "scenario": {small}, "seed": {"5"}})
	if resp.StatusCode != http.StatusConflict {
		t.Errorf("second save: %d %s, want 409", resp.StatusCode, body)
	}
	// A record the CLI made.
	sc, _ := scenario.Builtin(small)
	cli, _, _, _ := simrun.Run(sc, 9, "", nil)
	var b bytes.Buffer
	cli.WriteJSON(&b)
	os.WriteFile(filepath.Join(data, "cli-run.json"), b.Bytes(), 0o644)
	os.WriteFile(filepath.Join(data, "notes.txt"), []byte("not listed"), 0o644)
	_, body = get(t, ts.URL+"/api/saved")
	var list struct{ Files []savedFile }
	json.Unmarshal(body, &list)
	if len(list.Files) != 2 || list.Files[0].File != "cli-run.json" || list.Files[0].Kind != "run" || list.Files[0].Seed != 9 || list.Files[1].File != "mine.json" {
		t.Errorf("saved list %+v", list.Files)
	}
	resp, page := get(t, ts.URL+"/saved/cli-run.json")
	if resp.StatusCode != 200 || !bytes.Contains(page, []byte(`data-chart-url="/api/saved/cli-run.json"`)) {
		t.Errorf("saved run page: %d", resp.StatusCode)
	}
	_, body = get(t, ts.URL+"/api/saved/cli-run.json")
	var c chart
	json.Unmarshal(body, &c)
	if c.Seed != 9 || len(c.Infected) != len(cli.Series) {
		t.Errorf("saved chart: seed %d, %d points", c.Seed, len(c.Infected))
	}
	entries, _ := os.ReadDir(data)
	if len(entries) != 3 {
		t.Errorf("data holds %d files, want mine.json, cli-run.json and notes.txt (no temporary files left)", len(entries))
	}
}

// TestClientGoneStopsRun: a browser that leaves mid-run (a newer edit
// aborts the old fetch) frees its slot at once, and the run stops.
func TestClientGoneStopsRun(t *testing.T) {
	s, err := New(Config{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	// July and August 2001 run in the event engine for about 5 s.
	ctx, cancel := context.WithCancel(context.Background())
	req := httptest.NewRequestWithContext(ctx, "GET", "/api/run?scenario=codered-v2-july-august-2001", nil)
	rec := httptest.NewRecorder()
	done := make(chan struct{})
	go func() { s.ServeHTTP(rec, req); close(done) }()
	time.Sleep(300 * time.Millisecond)
	began := time.Now()
	cancel()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("the run went on 2 s after its client left")
	}
	t.Logf("stopped %v after the client left", time.Since(began))
	if rec.Code != 499 {
		t.Errorf("status %d, want 499 (client gone)", rec.Code)
	}
	// The slot is free: a small run gets it at once.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel2()
	release, err := s.jobs.acquire(ctx2)
	if err != nil {
		t.Fatalf("the slot was not given back: %v", err)
	}
	release()
}

// TestEnsembleClientGone: closing an ensemble's stream (Cancel, or a
// closed tab) stops its runs and frees every slot.
func TestEnsembleClientGone(t *testing.T) {
	s, ts := newTestServer(t, Config{Workers: 2})
	resp, err := http.Get(ts.URL + "/api/ensemble?scenario=codered-v2-2001-07-19&runs=200")
	if err != nil {
		t.Fatal(err)
	}
	bufio.NewReader(resp.Body).ReadString('\n') // the stream has started
	for len(s.jobs.slots) < 2 {
		time.Sleep(time.Millisecond) // the runs hold both slots
	}
	resp.Body.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n, release, err := s.jobs.acquireUpTo(ctx, 2)
	for err == nil && n < 2 {
		// A slot still held: try again until the deadline.
		release()
		time.Sleep(20 * time.Millisecond)
		n, release, err = s.jobs.acquireUpTo(ctx, 2)
	}
	if err != nil {
		t.Fatalf("the slots were not given back 5 s after the stream closed: %v", err)
	}
	release()
}

// TestQueue: one slot, one waiter; the next request is turned away.
func TestQueue(t *testing.T) {
	q := newQueue(1, 1)
	ctx := context.Background()
	r1, err := q.acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	go func() {
		r, err := q.acquire(ctx)
		if err == nil {
			r()
		}
		got <- err
	}()
	for q.waiting.Load() != 1 {
		time.Sleep(time.Millisecond)
	}
	third, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := q.acquire(third); err != errBusy {
		t.Fatalf("third request: %v, want errBusy at once", err)
	}
	r1()
	if err := <-got; err != nil {
		t.Errorf("waiter: %v", err)
	}
	n, r, err := q.acquireUpTo(ctx, 4)
	if err != nil || n != 1 {
		t.Errorf("acquireUpTo(4) on one slot: %d, %v", n, err)
	}
	r()
	r() // twice is harmless
	if len(q.slots) != 0 {
		t.Errorf("%d slots held after release", len(q.slots))
	}
}

// TestEnsembleStream runs a small ensemble and checks the stream: bands
// after each round with more runs done, and final bands equal to the
// ensemble package's own over all runs.
func TestEnsembleStream(t *testing.T) {
	_, ts := newTestServer(t, Config{})
	resp, err := http.Get(ts.URL + "/api/ensemble?scenario=" + small + "&seed=5&runs=12")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	var dones []int
	var last bandsEvent
	var key string
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 16<<20)
	event := ""
	for sc.Scan() {
		line := sc.Text()
		if e, ok := strings.CutPrefix(line, "event: "); ok {
			event = e
		}
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			continue
		}
		switch event {
		case "bands":
			var ev bandsEvent
			json.Unmarshal([]byte(data), &ev)
			dones = append(dones, ev.Done)
			if ev.Median != nil {
				last = ev
			}
		case "done":
			var d struct{ Key string }
			json.Unmarshal([]byte(data), &d)
			key = d.Key
		case "error":
			t.Fatalf("error event %s", data)
		}
	}
	// 12 runs in 10 rounds: shards of 2, 2, then 1 each.
	if want := []int{0, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12}; !slices.Equal(dones, want) {
		t.Errorf("runs done per event %v, want %v", dones, want)
	}
	if key == "" {
		t.Fatal("no done event")
	}
	s, _ := scenario.Builtin(small)
	set, err := ensemble.Run(context.Background(), ensemble.Spec{Scenario: s, Engine: "event", BaseSeed: 5, Runs: 12, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	col := slices.Index(set.Columns, "infected")
	for b, band := range set.Bands() {
		q := band.Q[col]
		if last.Low[b] != q[0] || last.Median[b] != q[1] || last.High[b] != q[2] {
			t.Fatalf("bin %d: streamed bands %d/%d/%d, ensemble's %v", b, last.Low[b], last.Median[b], last.High[b], q)
		}
	}
	resp3, html := get(t, ts.URL+"/download/ensemble/report.html?key="+url.QueryEscape(key))
	if resp3.StatusCode != 200 || !bytes.Contains(html, []byte("<svg")) {
		t.Errorf("ensemble report: %d", resp3.StatusCode)
	}
	resp2, csv := get(t, ts.URL+"/download/ensemble/bands.csv?key="+url.QueryEscape(key))
	var want bytes.Buffer
	set.WriteCSV(&want)
	if resp2.StatusCode != 200 || !bytes.Equal(csv, want.Bytes()) {
		t.Errorf("bands.csv: status %d, differs from the CLI's", resp2.StatusCode)
	}
}

// readStream collects a stream's events by name, the data of each.
func readStream(t *testing.T, body io.Reader) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	sc := bufio.NewScanner(body)
	sc.Buffer(nil, 16<<20)
	event := ""
	for sc.Scan() {
		line := sc.Text()
		if e, ok := strings.CutPrefix(line, "event: "); ok {
			event = e
		}
		if d, ok := strings.CutPrefix(line, "data: "); ok {
			out[event] = append(out[event], d)
		}
	}
	return out
}

// TestSweepStream sweeps the scan rate: a point event per point, in
// order, and downloads equal to what the sweep package writes.
func TestSweepStream(t *testing.T) {
	_, ts := newTestServer(t, Config{})
	resp, err := http.Get(ts.URL + "/api/sweep?scenario=" + small + "&seed=3&runs=3&set=" + url.QueryEscape("worm.scan_rate=3,6"))
	if err != nil {
		t.Fatal(err)
	}
	events := readStream(t, resp.Body)
	resp.Body.Close()
	if len(events["error"]) > 0 {
		t.Fatalf("error: %v", events["error"])
	}
	if len(events["point"]) != 2 || len(events["done"]) != 1 || len(events["progress"]) != 7 {
		t.Fatalf("events: %d point, %d done, %d progress; want 2, 1 and 7 (a start and one a run)", len(events["point"]), len(events["done"]), len(events["progress"]))
	}
	var p0, p1 pointEvent
	json.Unmarshal([]byte(events["point"][0]), &p0)
	json.Unmarshal([]byte(events["point"][1]), &p1)
	if p0.Label != "worm.scan_rate=3" || p1.Label != "worm.scan_rate=6" || p1.Done != 6 {
		t.Errorf("points %q, %q (done %d)", p0.Label, p1.Label, p1.Done)
	}
	// Twice the scan rate: half the time to half infected (K doubles).
	h0, h1 := p0.Row.MinutesToHalf[1], p1.Row.MinutesToHalf[1]
	if h0 == nil || h1 == nil || !(*h1 < 0.7**h0) {
		t.Errorf("median minutes to half: %v at rate 3, %v at rate 6", h0, h1)
	}
	var d struct{ Key string }
	json.Unmarshal([]byte(events["done"][0]), &d)
	base, _ := scenario.Builtin(small)
	p, _ := sweep.ParseSet("worm.scan_rate=3,6")
	res, err := sweep.Run(context.Background(), sweep.Spec{Base: base, Params: []sweep.Param{p}, BaseSeed: 3, Runs: 3, Workers: 2,
		Engine: func(*scenario.Scenario) (string, error) { return "event", nil }})
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	res.WriteCSV(&want)
	_, got := get(t, ts.URL+"/download/sweep/sweep.csv?key="+url.QueryEscape(d.Key))
	if !bytes.Equal(got, want.Bytes()) {
		t.Errorf("sweep.csv differs from the sweep package's:\n%s\nwant\n%s", got, want.Bytes())
	}
	resp, html := get(t, ts.URL+"/download/sweep/report.html?key="+url.QueryEscape(d.Key))
	if resp.StatusCode != 200 || !bytes.Contains(html, []byte("<svg")) || resp.Header.Get("Content-Security-Policy") != "sandbox" {
		t.Errorf("sweep report: %d, %d bytes, CSP %q", resp.StatusCode, len(html), resp.Header.Get("Content-Security-Policy"))
	}
}

func TestCompareDownloads(t *testing.T) {
	_, ts := newTestServer(t, Config{})
	q := url.Values{"run": {"scenario=" + small + "&seed=1", "scenario=" + small + "&seed=2"}}.Encode()
	resp, csv := get(t, ts.URL+"/download/compare/runs.csv?"+q)
	sc, _ := scenario.Builtin(small)
	rec, _, _, _ := simrun.Run(sc, 1, "", nil)
	lines := strings.Split(strings.TrimSpace(string(csv)), "\n")
	if resp.StatusCode != 200 || len(lines) != 1+2*len(rec.Series) || lines[0] != "label,minute,infected,new_infections_per_minute" {
		t.Fatalf("runs.csv: %d, %d lines", resp.StatusCode, len(lines))
	}
	last := rec.Series[len(rec.Series)-1]
	if want := fmt.Sprintf("seed=1,%g,%d,", last.Minute, last.Infected); !strings.HasPrefix(lines[len(rec.Series)], want) {
		t.Errorf("run 1's last line %q, want it to start %q", lines[len(rec.Series)], want)
	}
	resp, html := get(t, ts.URL+"/download/compare/report.html?"+q)
	if resp.StatusCode != 200 || bytes.Count(html, []byte("<svg")) < 3 {
		t.Errorf("compare report: %d, %d charts", resp.StatusCode, bytes.Count(html, []byte("<svg")))
	}
}

// TestPipeline uploads a synthetic log with a growing Code Red II
// outbreak, finds its probes, fits it and saves the report.
func TestPipeline(t *testing.T) {
	data := t.TempDir()
	_, ts := newTestServer(t, Config{Data: data})
	var log bytes.Buffer
	counts, err := logsynth.Generate(&log, logsynth.Config{
		Format: logsynth.Combined, Seed: 7, Start: time.Date(2001, 8, 4, 0, 0, 0, 0, time.UTC), Duration: 24 * time.Hour,
		Lines: 20000, Probes: map[string]int{"codered2": 4000}, Sources: map[string]int{"codered2": 800}, Growth: 1.8,
	})
	if err != nil {
		t.Fatal(err)
	}
	resp, body := post(t, ts.URL+"/api/detect", "text/plain", bytes.NewReader(log.Bytes()), map[string]string{"X-File-Name": "access.log"})
	if resp.StatusCode != 200 {
		t.Fatalf("detect: %d %s", resp.StatusCode, body)
	}
	var d struct {
		Upload string
		Report struct {
			Totals   struct{ Probes int64 }
			Families []struct {
				Family  string
				Sources int
			}
		}
	}
	json.Unmarshal(body, &d)
	var probes int64
	for _, c := range counts.Signatures {
		probes += int64(c.Probes)
	}
	sources := 0
	for _, f := range d.Report.Families {
		if f.Family == "codered2" {
			sources = f.Sources
		} else if f.Sources != 0 {
			t.Errorf("detect found %d sources of %s; the log holds codered2 only", f.Sources, f.Family)
		}
	}
	if d.Report.Totals.Probes != probes || sources != counts.Signatures["codered2"].Sources {
		t.Fatalf("detect found %+v, the log holds %v", d.Report, counts.Signatures)
	}
	resp, body = postForm(t, ts.URL+"/api/fit", url.Values{"upload": {d.Upload}, "family": {"codered2"}, "model": {"logistic"}, "forecast": {"2"}})
	if resp.StatusCode != 200 {
		t.Fatalf("fit: %d %s", resp.StatusCode, body)
	}
	var f fitAnswer
	json.Unmarshal(body, &f)
	if f.Model != "logistic" || len(f.Fitted) <= len(f.Observed) || len(f.Params) == 0 {
		t.Errorf("fit: model %q, %d fitted points for %d observed, %d params", f.Model, len(f.Fitted), len(f.Observed), len(f.Params))
	}
	// The log ends 21.6 e-foldings past the outbreak's midpoint (growth
	// 1.8 an hour, midpoint at 12 h), so the curve is saturated and the
	// fitted plateau is the count of sources seen, up to the fit's misfit
	// of the last bins: within 1% (8 sources), and inside its interval.
	t.Logf("fitted population %v, %d sources seen", f.Population, sources)
	if p, n := f.Population, float64(sources); math.Abs(p[0]-n) > 0.01*n || !(p[1] <= n && n <= p[2]) {
		t.Errorf("fitted population %v (estimate, 95%% interval), want about the %d sources seen", p, sources)
	}
	resp, html := get(t, ts.URL+"/download/detect/"+d.Upload+"/report.html")
	if resp.StatusCode != 200 || !bytes.Contains(html, []byte("codered2")) {
		t.Errorf("detect report: %d", resp.StatusCode)
	}
	resp, body = postForm(t, ts.URL+"/api/save", url.Values{"file": {"upload"}, "upload": {d.Upload}})
	if resp.StatusCode != 200 {
		t.Fatalf("save: %d %s", resp.StatusCode, body)
	}
	saved, _ := os.ReadFile(filepath.Join(data, "upload.json"))
	if !bytes.Contains(saved, []byte(`"schema": "wormlab.detect/v1"`)) {
		t.Errorf("saved detect report: %.200s", saved)
	}
	if entries, _ := os.ReadDir(data); len(entries) != 1 {
		t.Errorf("data holds %d files; the log itself must not be kept", len(entries))
	}
}

func TestForecast(t *testing.T) {
	_, ts := newTestServer(t, Config{})
	resp, body := get(t, ts.URL+"/api/forecast?scenario=codered-v2-2001-07-19&seed=1&block=24.0.0.0/16")
	if resp.StatusCode != 200 {
		t.Fatalf("forecast: %d %s", resp.StatusCode, body)
	}
	var f struct {
		Minutes []float64
		PPS     []float64 `json:"probes_per_s"`
		Peak    float64   `json:"peak_probes_per_s"`
	}
	json.Unmarshal(body, &f)
	// At the peak nearly all 360,000 hosts scan 5.97 probes a second over
	// 2^32 addresses: a /16 receives 360000*5.97/65536 ≈ 32.8 a second.
	if len(f.PPS) != 14*60+1 || f.Peak < 30 || f.Peak > 34 {
		t.Errorf("forecast: %d bins, peak %.2f probes a second; want 841 bins and about 32.8", len(f.PPS), f.Peak)
	}
}

func TestCompareLabels(t *testing.T) {
	_, ts := newTestServer(t, Config{})
	src := builtinSource(t, small)
	edited := strings.Replace(src, "scan_rate = 5.9667", "scan_rate = 3", 1)
	runs := []string{
		"scenario=" + small + "&seed=1",
		"scenario=" + small + "&seed=2",
		"toml=" + encodeTOML(edited) + "&seed=1",
	}
	q := url.Values{"run": runs}
	resp, body := get(t, ts.URL+"/api/compare?"+q.Encode())
	if resp.StatusCode != 200 {
		t.Fatalf("compare: %d %s", resp.StatusCode, body)
	}
	var c struct{ Runs []compareRun }
	json.Unmarshal(body, &c)
	var labels []string
	for _, r := range c.Runs {
		labels = append(labels, r.Label)
	}
	want := []string{"seed=1, worm.scan_rate=5.9667", "seed=2, worm.scan_rate=5.9667", "seed=1, worm.scan_rate=3"}
	if !slices.Equal(labels, want) {
		t.Errorf("labels %q, want %q", labels, want)
	}
}

func TestAcceptsGzip(t *testing.T) {
	for ae, want := range map[string]bool{
		"gzip, deflate, br": true, "br;q=1.0, gzip;q=0.8": true, "gzip;q=0": false, "identity": false, "": false, "GZIP": true, "x-gzip": false,
	} {
		if got := acceptsGzip(ae); got != want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", ae, got, want)
		}
	}
}

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:8080": true, "localhost:80": true, "[::1]:8080": true, "127.1.2.3:1": true,
		":8080": false, "0.0.0.0:8080": false, "192.168.1.2:80": false, "[::]:80": false, "example.com:80": false, "nonsense": false,
	} {
		if got := IsLoopback(addr); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", addr, got, want)
		}
	}
}

// TestShutdown: cancelling Serve's context ends a stream under way and
// returns within the grace period.
func TestShutdown(t *testing.T) {
	s, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()
	resp, err := http.Get("http://" + ln.Addr().String() + "/api/ensemble?scenario=codered-v2-2001-07-19&runs=200")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	br.ReadString('\n') // the stream has started
	began := time.Now()
	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(shutdownGrace + 2*time.Second):
		t.Fatal("Serve did not return after its context ended")
	}
	io.Copy(io.Discard, br)
	t.Logf("shut down in %v", time.Since(began))
}

func TestMetrics(t *testing.T) {
	s, ts := newTestServer(t, Config{})
	get(t, ts.URL+"/api/run?scenario="+small)
	get(t, ts.URL+"/api/run?scenario="+small) // from the cache: no second run
	get(t, ts.URL+"/api/run?scenario=nope")
	const want = `
# HELP wormlab_serve_requests_total HTTP requests answered, by route pattern and status code.
# TYPE wormlab_serve_requests_total counter
wormlab_serve_requests_total{code="200",route="GET /api/run"} 2
wormlab_serve_requests_total{code="404",route="GET /api/run"} 1
# HELP wormlab_serve_runs_total Simulations made, by kind (run, ensemble, forecast, thumbnail) and outcome (ok, stopped, error).
# TYPE wormlab_serve_runs_total counter
wormlab_serve_runs_total{kind="run",outcome="ok"} 1
# HELP wormlab_serve_jobs_running Run slots in use (at most one a core).
# TYPE wormlab_serve_jobs_running gauge
wormlab_serve_jobs_running 0
`
	if err := testutil.CollectAndCompare(s.reg, strings.NewReader(want),
		"wormlab_serve_requests_total", "wormlab_serve_runs_total", "wormlab_serve_jobs_running"); err != nil {
		t.Error(err)
	}
	resp, body := get(t, ts.URL+"/metrics")
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte("go_goroutines")) {
		t.Errorf("/metrics: %d, without the Go collector", resp.StatusCode)
	}
}

func TestPermalinkEncoding(t *testing.T) {
	src := builtinSource(t, "codered-v2-2001-07-19")
	enc := encodeTOML(src)
	if len(enc) > len(src)*3/4 {
		t.Errorf("encoded %d bytes for %d of TOML", len(enc), len(src))
	}
	back, err := decodeTOML(enc)
	if err != nil || back != src {
		t.Fatalf("round trip: %v", err)
	}
	bomb := encodeTOML(strings.Repeat("#", maxScenarioBytes+10))
	if _, err := decodeTOML(bomb); err == nil || !strings.Contains(err.Error(), "over 64 KiB") {
		t.Errorf("a link inflating past the limit: %v", err)
	}
}

// TestEditorForm checks the generated form: a control per key, each with
// a label, values from the scenario, and edits through the form re-run
// the scenario, with field-level messages for bad values.
func TestEditorForm(t *testing.T) {
	_, ts := newTestServer(t, Config{})
	_, page := get(t, ts.URL+"/run?scenario="+small)
	for _, want := range []string{
		`<label for="f-worm-scan_rate">`, `id="f-worm-scan_rate" name="worm.scan_rate" value="5.9667" data-key="worm.scan_rate"`,
		`data-error-for="worm.scan_rate"`, `<select id="f-worm-strategy" name="worm.strategy"`,
		`<input type="hidden" name="defence.blacklist" value="false"><input type="checkbox" id="f-defence-blacklist"`,
	} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("the editor lacks %s", want)
		}
	}
	// Every control of the form has a label.
	ids := regexp.MustCompile(`<(?:input|select|textarea) id="([^"]+)"`).FindAllSubmatch(page, -1)
	if len(ids) < 30 {
		t.Fatalf("%d controls in the editor", len(ids))
	}
	for _, m := range ids {
		if !bytes.Contains(page, []byte(`<label for="`+string(m[1])+`"`)) {
			t.Errorf("control %s has no label", m[1])
		}
	}
	form := url.Values{"source": {builtinSource(t, small)}, "seed": {"1"}, "mode": {"form"}, "worm.scan_rate": {"3"}, "scenario": {small}}
	resp, body := postForm(t, ts.URL+"/api/edit", form)
	if resp.StatusCode != 200 {
		t.Fatalf("form edit: %d %s", resp.StatusCode, body)
	}
	var c chart
	json.Unmarshal(body, &c)
	if c.Fields["worm.scan_rate"] != "3" || !strings.Contains(c.Query, "worm.scan_rate=3") || !strings.Contains(c.TOML, "scan_rate = 3") {
		t.Errorf("form edit: field %q, query %q", c.Fields["worm.scan_rate"], c.Query)
	}
	form.Set("worm.scan_rate", "fast")
	form.Set("run.step", "a minute")
	resp, body = postForm(t, ts.URL+"/api/edit", form)
	var e struct {
		Key    string
		Errors map[string]string
	}
	json.Unmarshal(body, &e)
	if resp.StatusCode != 422 || e.Errors["worm.scan_rate"] == "" || e.Errors["run.step"] == "" {
		t.Errorf("bad form values: %d %s", resp.StatusCode, body)
	}
	// A value the scenario's checks refuse is reported at its key.
	form.Set("worm.scan_rate", "-1")
	form.Del("run.step")
	resp, body = postForm(t, ts.URL+"/api/edit", form)
	json.Unmarshal(body, &e)
	if resp.StatusCode != 422 || e.Key != "worm.scan_rate" {
		t.Errorf("a refused value: %d %s", resp.StatusCode, body)
	}
}
