package shield

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestRequestTargetForms sends every request-target form of RFC 9112
// section 3.2 (origin, absolute, authority, asterisk) and the opaque form
// net/http also accepts, to a shield whose upstream has a path prefix:
// only origin and absolute forms may reach the upstream, always inside the
// prefix and on the upstream's own host; the rest get 400 (CONNECT 405).
func TestRequestTargetForms(t *testing.T) {
	up := &recordingUpstream{}
	upSrv := httptest.NewServer(up)
	defer upSrv.Close()
	upHost := upSrv.Listener.Addr().String()
	for _, plain := range []bool{false, true} {
		reg := prometheus.NewRegistry()
		addr, _ := startFrontWith(t, upSrv.URL+"/app", reg, 0, ProxyOptions{}, plain)
		up.reset()
		for _, c := range []struct {
			name, target string
			want         string // what the upstream sees, or "" for a refusal
		}{
			{"origin", "/x?y=1", "/app/x?y=1"},
			{"origin dot segment inside", "/a/../b", "/app/a/../b"},
			{"absolute", "http://secret.internal/x", "/app/x"},
			{"absolute no path", "http://secret.internal", "/app/"},
			{"authority", "secret.internal:80", ""},
			{"asterisk", "*", ""},
			{"opaque", "http:http://secret.internal/admin", ""},
			{"opaque relative", "http:admin", ""},
			{"opaque nimda", "http:http://x/scripts/..%c0%af../winnt/system32/cmd%2eexe?/c+dir", ""},
			{"other scheme", "ftp://secret.internal/x", ""},
			{"climbs", "/../secret", ""},
			{"climbs encoded", "/%2e%2e/secret", ""},
			{"climbs backslash", "/a/..%5c..%5csecret", ""},
		} {
			for _, method := range []string{"GET", "OPTIONS"} {
				up.reset()
				res := sendRaw(t, addr, method+" "+c.target+" HTTP/1.1\r\nHost: secret.internal\r\nConnection: close\r\n\r\n", 5*time.Second)
				got := up.requests()
				if c.name == "asterisk" && method == "OPTIONS" {
					// net/http answers OPTIONS * itself with an empty 200.
					if len(got) != 0 || !strings.HasPrefix(res.data, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n") {
						t.Errorf("plain=%v OPTIONS *: got %.40q, upstream saw %q", plain, res.data, got)
					}
					continue
				}
				if c.want == "" {
					if len(got) != 0 {
						t.Errorf("plain=%v %s %s: upstream saw %q", plain, method, c.name, got)
					}
					if res.data != "" && !strings.HasPrefix(res.data, "HTTP/1.1 400 ") {
						t.Errorf("plain=%v %s %s: got %.40q, want 400 or a close", plain, method, c.name, res.data)
					}
					continue
				}
				if want := upHost + " " + c.want; len(got) != 1 || got[0] != want {
					t.Errorf("plain=%v %s %s: upstream saw %q, want %q", plain, method, c.name, got, want)
				}
			}
		}
		up.reset()
		res := sendRaw(t, addr, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 5*time.Second)
		if len(up.requests()) != 0 || res.data != "" && !strings.HasPrefix(res.data, "HTTP/1.1 4") && !strings.HasPrefix(res.data, "HTTP/1.1 505") {
			t.Errorf("plain=%v PRI: got %.40q, upstream saw %q", plain, res.data, up.requests())
		}
		if n := testutil.ToFloat64(counterOf(t, reg, "wormlab_shield_bad_requests_total", "bad_target")); n < 10 {
			t.Errorf("plain=%v: bad_target counted %v times, want every refused target", plain, n)
		}
	}
}

// counterOf finds one counter of a vector in reg by its reason label.
func counterOf(t *testing.T, reg *prometheus.Registry, name, reason string) prometheus.Collector {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "reason" && l.GetValue() == reason {
					c := prometheus.NewCounter(prometheus.CounterOpts{Name: "x"})
					c.Add(m.GetCounter().GetValue())
					return c
				}
			}
		}
	}
	t.Fatalf("no %s{reason=%q}", name, reason)
	return nil
}

// TestQueryForwardedRaw checks that the upstream gets the query and path
// byte for byte, including what url.ParseQuery rejects (IIS sites use ';'
// separators and %u escapes).
func TestQueryForwardedRaw(t *testing.T) {
	up := &recordingUpstream{}
	upSrv := httptest.NewServer(up)
	defer upSrv.Close()
	upHost := upSrv.Listener.Addr().String()
	for _, plain := range []bool{false, true} {
		addr, _ := startFrontWith(t, upSrv.URL, nil, 0, ProxyOptions{}, plain)
		for _, target := range []string{
			"/s?q=a;b&y=1",
			"/s?n=%u00e9",
			"/s?a=%zz&b=%",
			"/s?x&&y=&=z",
			"/s?q=caf%c3%a9+x&q=2",
			"/caf%c3%a9/a%2fb?k=%3B",
			"/p;params?q",
		} {
			up.reset()
			sendRaw(t, addr, "GET "+target+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 5*time.Second)
			if got := up.requests(); len(got) != 1 || got[0] != upHost+" "+target {
				t.Errorf("plain=%v: sent %q, upstream saw %q", plain, target, got)
			}
		}
	}
}

// TestFailedUpload breaks request bodies in every way a client can: the
// client must never be told 200, the right 4xx and reason must be counted,
// and none of it is an upstream error. Each case runs through the shield
// and through the plain proxy.
func TestFailedUpload(t *testing.T) {
	var mu sync.Mutex
	var upBodies []string
	upSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			upBodies = append(upBodies, "error")
			return
		}
		upBodies = append(upBodies, fmt.Sprint(len(b)))
		io.WriteString(w, "stored")
	}))
	defer upSrv.Close()
	big := strings.Repeat("b", 100<<10) // over bodyBufferSize: streamed
	const idle = 300 * time.Millisecond
	for _, c := range []struct {
		name     string
		head     string // request line and headers
		body     string
		stall    bool // keep the connection open after the body
		status   string
		reason   string
		upstream bool // the upstream may see (part of) the request
	}{
		{"half-close short", "POST /u HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n", "0123456789", false, "400", "body_incomplete", false},
		{"stall short", "POST /u HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n", "0123456789", true, "408", "body_timeout", false},
		{"bad chunk", "POST /u HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", "zz\r\nabc\r\n", true, "400", "body_malformed", false},
		{"half-close chunked", "POST /u HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", "3\r\nabc\r\n", false, "400", "body_incomplete", false},
		{"half-close big", fmt.Sprintf("POST /u HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", 2*len(big)), big, false, "400", "body_incomplete", true},
		{"stall big", fmt.Sprintf("POST /u HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", 2*len(big)), big, true, "408", "body_timeout", true},
	} {
		for _, plain := range []bool{false, true} {
			reg := prometheus.NewRegistry()
			addr, stop := startFrontWith(t, upSrv.URL, reg, 0, ProxyOptions{IdleTimeout: idle}, plain)
			mu.Lock()
			upBodies = nil
			mu.Unlock()
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			io.WriteString(conn, c.head+c.body)
			if !c.stall {
				conn.(*net.TCPConn).CloseWrite()
			}
			// Generous: the answer comes after the idle timeout at most.
			conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			resp, _ := io.ReadAll(conn)
			conn.Close()
			stop()
			if !strings.HasPrefix(string(resp), "HTTP/1.1 "+c.status+" ") {
				t.Errorf("%s, plain=%v: got %.60q, want %s", c.name, plain, resp, c.status)
			}
			if n := testutil.ToFloat64(counterOf(t, reg, "wormlab_shield_bad_requests_total", c.reason)); n != 1 {
				t.Errorf("%s, plain=%v: %s counted %v times, want 1", c.name, plain, c.reason, n)
			}
			if n := testutil.CollectAndCount(reg, "wormlab_shield_upstream_errors_total"); n != 1 {
				t.Fatalf("no upstream error counter")
			}
			var errs float64
			if mfs, _ := reg.Gather(); mfs != nil {
				for _, mf := range mfs {
					if mf.GetName() == "wormlab_shield_upstream_errors_total" {
						errs = mf.GetMetric()[0].GetCounter().GetValue()
					}
				}
			}
			if errs != 0 {
				t.Errorf("%s, plain=%v: %v upstream errors, want 0: a client's failure is not the upstream's", c.name, plain, errs)
			}
			mu.Lock()
			seen := append([]string(nil), upBodies...)
			mu.Unlock()
			if !c.upstream && len(seen) != 0 {
				t.Errorf("%s, plain=%v: upstream saw %v, want nothing (small bodies are buffered whole first)", c.name, plain, seen)
			}
			for _, b := range seen {
				if b != "error" {
					t.Errorf("%s, plain=%v: upstream read a whole body of %s bytes", c.name, plain, b)
				}
			}
		}
	}
}

// TestClientHangUp has a client leave while the upstream is still working:
// it is counted as a client abort, not an upstream error, and no response
// is made up for it.
func TestClientHangUp(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	upSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer upSrv.Close()
	defer close(release)
	reg := prometheus.NewRegistry()
	addr, _ := startFrontWith(t, upSrv.URL, reg, 0, ProxyOptions{}, false)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(conn, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
	<-entered
	conn.Close()
	waitFor(t, "the abort to be counted", func() bool {
		mfs, _ := reg.Gather()
		for _, mf := range mfs {
			if mf.GetName() == "wormlab_shield_client_aborts_total" {
				return mf.GetMetric()[0].GetCounter().GetValue() == 1
			}
		}
		return false
	})
	want := `
# HELP wormlab_shield_upstream_errors_total Requests answered 502 because the upstream failed.
# TYPE wormlab_shield_upstream_errors_total counter
wormlab_shield_upstream_errors_total 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "wormlab_shield_upstream_errors_total"); err != nil {
		t.Error(err)
	}
}

// TestIdleNotTotal sends an upload and a download that each take over three
// times the idle timeout but never pause for long: both must go through
// whole. A download whose upstream stalls must be cut, not hang.
func TestIdleNotTotal(t *testing.T) {
	const idle = 300 * time.Millisecond
	const pieces, gap = 10, idle / 3
	stalled := make(chan struct{})
	upSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/up":
			b, err := io.ReadAll(r.Body)
			fmt.Fprintf(w, "got %d %v", len(b), err)
		case "/down":
			for range pieces {
				io.WriteString(w, strings.Repeat("d", 1000))
				w.(http.Flusher).Flush()
				time.Sleep(gap)
			}
		case "/stall":
			io.WriteString(w, "first")
			w.(http.Flusher).Flush()
			<-stalled
		}
	}))
	defer upSrv.Close()
	defer close(stalled) // before upSrv.Close, which waits for the handler
	addr, _ := startFrontWith(t, upSrv.URL, nil, 0, ProxyOptions{IdleTimeout: idle}, false)

	pr, pw := io.Pipe()
	go func() {
		for range pieces {
			pw.Write([]byte(strings.Repeat("u", 10<<10)))
			time.Sleep(gap)
		}
		pw.Close()
	}()
	resp, err := http.Post("http://"+addr+"/up", "application/octet-stream", pr)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := fmt.Sprintf("got %d <nil>", pieces*10<<10); string(b) != want {
		t.Errorf("slow upload: upstream said %q, want %q", b, want)
	}

	resp, err = http.Get("http://" + addr + "/down")
	if err != nil {
		t.Fatal(err)
	}
	b, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if len(b) != pieces*1000 || err != nil {
		t.Errorf("slow download: got %d bytes, %v; want %d", len(b), err, pieces*1000)
	}

	c := &http.Client{Timeout: 10 * time.Second} // only if the cut never comes
	resp, err = c.Get("http://" + addr + "/stall")
	if err != nil {
		t.Fatal(err)
	}
	b, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if err == nil || isTimeout(err) {
		t.Errorf("stalled upstream: got %q, %v; want the response cut short", b, err)
	}
}

// TestHeaderLimit checks the documented 16 KiB bound on the request line
// and headers.
func TestHeaderLimit(t *testing.T) {
	up := &recordingUpstream{}
	upSrv := httptest.NewServer(up)
	defer upSrv.Close()
	addr, _ := startFront(t, upSrv.URL, nil, 0)
	for _, c := range []struct {
		size int
		want string
	}{{15 << 10, "HTTP/1.1 200 "}, {17 << 10, "HTTP/1.1 431 "}} {
		req := "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Pad: "
		req += strings.Repeat("p", c.size-len(req)-4) + "\r\n\r\n"
		if res := sendRaw(t, addr, req, 5*time.Second); !strings.HasPrefix(res.data, c.want) {
			t.Errorf("%d-byte head: got %.30q, want %q", len(req), res.data, c.want)
		}
	}
}

// TestForwardedHeaders checks what the upstream is told about the client:
// the TCP peer, whatever the client claims.
func TestForwardedHeaders(t *testing.T) {
	got := make(chan http.Header, 1)
	upSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got <- r.Header }))
	defer upSrv.Close()
	addr, _ := startFront(t, upSrv.URL, nil, 0)
	sendRaw(t, addr, "GET / HTTP/1.1\r\nHost: www.example\r\nX-Real-IP: 6.6.6.6\r\nX-Forwarded-For: 6.6.6.6\r\nX-Forwarded-Host: evil\r\nForwarded: for=6.6.6.6\r\nConnection: close\r\n\r\n", 5*time.Second)
	h := <-got
	for k, want := range map[string]string{"X-Real-Ip": "127.0.0.1", "X-Forwarded-For": "127.0.0.1", "X-Forwarded-Host": "www.example", "X-Forwarded-Proto": "http", "Forwarded": ""} {
		if v := strings.Join(h.Values(k), ","); v != want {
			t.Errorf("%s: %q, want %q", k, v, want)
		}
	}
}

// TestBothLengths sends a body framed both ways, the request-smuggling
// shape: the upstream must get it re-framed one way only, as README says.
func TestBothLengths(t *testing.T) {
	type seen struct {
		cl, te string
		body   string
	}
	got := make(chan seen, 1)
	upSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{r.Header.Get("Content-Length"), strings.Join(r.TransferEncoding, ","), string(b)}
	}))
	defer upSrv.Close()
	addr, _ := startFront(t, upSrv.URL, nil, 0)
	sendRaw(t, addr, "POST /u HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 5*time.Second)
	if s := <-got; s.cl != "5" || s.te != "" || s.body != "hello" {
		t.Errorf("upstream got Content-Length %q, Transfer-Encoding %q, body %q; want 5, none, hello", s.cl, s.te, s.body)
	}
}

// TestUploadCap has slow uploaders try to pin the upstream's connections:
// a body small enough to buffer never reaches the upstream until whole, and
// streamed bodies may hold only half of --upstream-conns, past which they
// get 503; a GET still goes through.
func TestUploadCap(t *testing.T) {
	entered := make(chan struct{}, 4)
	upSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, "upstream")
	}))
	defer upSrv.Close()
	reg := prometheus.NewRegistry()
	addr, _ := startFrontWith(t, upSrv.URL, reg, 0, ProxyOptions{UpstreamConns: 2}, false)
	var conns []net.Conn
	defer func() { // before upSrv.Close, which waits for the uploads
		for _, c := range conns {
			c.Close()
		}
	}()
	open := func(head, body string) net.Conn {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		io.WriteString(c, head+body)
		return c
	}
	big := fmt.Sprintf("POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", 1<<20)
	// A slow small upload: buffered, so the upstream sees nothing yet.
	open("POST /small HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n", "part")
	// The first streamed upload takes the one streaming slot.
	open(big, strings.Repeat("b", 100<<10))
	<-entered
	select {
	case <-entered:
		t.Fatal("the upstream saw the unfinished small upload")
	case <-time.After(100 * time.Millisecond):
	}
	// The second is refused.
	second := open(big, strings.Repeat("b", 100<<10))
	second.SetReadDeadline(time.Now().Add(5 * time.Second))
	if line, _ := bufio.NewReader(second).ReadString('\n'); !strings.HasPrefix(line, "HTTP/1.1 503 ") {
		t.Errorf("second streamed upload got %q, want 503", line)
	}
	if n := testutil.ToFloat64(counterOf(t, reg, "wormlab_shield_bad_requests_total", "upload_busy")); n != 1 {
		t.Errorf("upload_busy counted %v times, want 1", n)
	}
	if r := sendRaw(t, addr, "GET / HTTP/1.0\r\n\r\n", 5*time.Second); !strings.HasSuffix(r.data, "upstream") {
		t.Errorf("GET while uploads are held got %q", r.data)
	}
}
