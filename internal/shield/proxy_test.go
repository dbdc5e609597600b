package shield

import (
	"context"
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

// recordingUpstream records the Host and target of each request it gets.
type recordingUpstream struct {
	mu   sync.Mutex
	seen []string // "host target"
}

func (u *recordingUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u.mu.Lock()
	u.seen = append(u.seen, r.Host+" "+r.RequestURI)
	u.mu.Unlock()
	io.WriteString(w, "upstream")
}

func (u *recordingUpstream) reset() {
	u.mu.Lock()
	u.seen = nil
	u.mu.Unlock()
}

func (u *recordingUpstream) requests() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.seen...)
}

// startFront runs the shield and proxy in front of upstream the way
// `wormlab shield` does, and returns its address and a function that shuts
// it down and returns Serve's error.
func startFront(t *testing.T, upstream string, reg *prometheus.Registry, grace time.Duration) (string, func() error) {
	t.Helper()
	return startFrontWith(t, upstream, reg, grace, ProxyOptions{}, false)
}

// startFrontWith is startFront with proxy options, and without the shield
// (as `wormlab shield --plain`) if plain.
func startFrontWith(t *testing.T, upstream string, reg *prometheus.Registry, grace time.Duration, popts ProxyOptions, plain bool) (string, func() error) {
	t.Helper()
	u, err := ParseUpstream(upstream)
	if err != nil {
		t.Fatal(err)
	}
	popts.Registry = reg
	proxy, err := NewProxy(u, popts)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Options{Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h, sln := s.Wrap(proxy), s.Listener(ln)
	if plain {
		h, sln = proxy, ln
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- Serve(ctx, NewServer(h, nil), sln, grace) }()
	var once sync.Once
	var serr error
	stop := func() error {
		once.Do(func() {
			cancel()
			serr = <-errc
			s.Close()
		})
		return serr
	}
	t.Cleanup(func() { stop() })
	return ln.Addr().String(), stop
}

// TestNotOpenProxy sends the requests an open-proxy scanner would: absolute
// URIs and Host headers naming another server, and CONNECT. Only the
// configured upstream may see anything, always under its own host name.
func TestNotOpenProxy(t *testing.T) {
	up, other := &recordingUpstream{}, &recordingUpstream{}
	upSrv, otherSrv := httptest.NewServer(up), httptest.NewServer(other)
	defer upSrv.Close()
	defer otherSrv.Close()
	upHost, otherHost := upSrv.Listener.Addr().String(), otherSrv.Listener.Addr().String()
	addr, _ := startFront(t, upSrv.URL, nil, 0)

	for _, req := range []string{
		"GET http://" + otherHost + "/abs HTTP/1.1\r\nHost: " + otherHost + "\r\nConnection: close\r\n\r\n",
		"GET /host HTTP/1.1\r\nHost: " + otherHost + "\r\nConnection: close\r\n\r\n",
		"GET http://" + otherHost + "/abs10 HTTP/1.0\r\n\r\n",
		"GET https://" + otherHost + "/tls HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
	} {
		res := sendRaw(t, addr, req, 5*time.Second)
		if !strings.Contains(res.data, "\r\n\r\nupstream") {
			t.Errorf("%q: got %q, want the upstream's answer", req, res.data)
		}
	}
	res := sendRaw(t, addr, "CONNECT "+otherHost+" HTTP/1.1\r\nHost: "+otherHost+"\r\n\r\n", 5*time.Second)
	if !strings.HasPrefix(res.data, "HTTP/1.1 405 ") {
		t.Errorf("CONNECT: got %q, want 405", res.data)
	}
	if got := other.requests(); len(got) != 0 {
		t.Errorf("the other server saw %q; the shield is an open proxy", got)
	}
	want := []string{upHost + " /abs", upHost + " /host", upHost + " /abs10", upHost + " /tls"}
	if got := up.requests(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("upstream saw %q, want %q", got, want)
	}
}

// TestGracefulShutdown cancels the server while a request is in flight: the
// request must complete, new connections must be refused, and Serve must
// return only after the request finished.
func TestGracefulShutdown(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	upSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		io.WriteString(w, "finished")
	}))
	defer upSrv.Close()
	addr, stop := startFront(t, upSrv.URL, nil, 10*time.Second)

	got := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + addr + "/slow")
		if err != nil {
			got <- "error: " + err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got <- string(b)
	}()
	<-entered
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	// Wait until the listener is closed, which Shutdown does first.
	waitFor(t, "the listener to close", func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	select {
	case err := <-stopped:
		t.Fatalf("Serve returned (%v) with a request in flight", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	if body := <-got; body != "finished" {
		t.Errorf("in-flight request got %q, want finished", body)
	}
	if err := <-stopped; err != nil {
		t.Errorf("Serve: %v", err)
	}
}

// TestShutdownGraceExpires checks that a request outliving the grace period
// makes Serve return an error instead of hanging.
func TestShutdownGraceExpires(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	upSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
	}))
	defer upSrv.Close()
	defer close(release) // before upSrv.Close, which waits for the handler
	addr, stop := startFront(t, upSrv.URL, nil, 100*time.Millisecond)
	go http.Get("http://" + addr + "/stuck")
	<-entered
	start := time.Now()
	err := stop()
	if err == nil || !strings.Contains(err.Error(), "did not finish") {
		t.Errorf("Serve = %v, want a grace-period error", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("shutdown took %v with a 100 ms grace", d)
	}
}

func TestBadGateway(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there now
	reg := prometheus.NewRegistry()
	addr, _ := startFront(t, dead, reg, 0)
	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway || string(b) != "bad gateway\n" {
		t.Errorf("got %d %q, want 502 bad gateway", resp.StatusCode, b)
	}
	if n := testutil.CollectAndCount(reg, "wormlab_shield_upstream_errors_total"); n != 1 {
		t.Errorf("%d upstream error series", n)
	}
}

// TestBadInput sends what a hostile or broken client might: each must get a
// 4xx (or 505 for an unknown version), or a closed connection, and the
// upstream must see none.
func TestBadInput(t *testing.T) {
	up := &recordingUpstream{}
	upSrv := httptest.NewServer(up)
	defer upSrv.Close()
	addr, _ := startFront(t, upSrv.URL, nil, 0)
	for name, req := range map[string]string{
		"garbage line":   "\x00\x01\x02 not http\r\n\r\n",
		"no version":     "GET /\r\n\r\n",
		"bad version":    "GET / HTTP/9.9\r\n\r\n",
		"huge header":    "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 1<<20) + "\r\n\r\n",
		"bad escape":     "GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n",
		"space in URI":   "GET /a b c HTTP/1.1\r\nHost: x\r\n\r\n",
		"http11 no host": "GET / HTTP/1.1\r\n\r\n",
	} {
		// Each gets an answer or a close at once; 5 s is only the bound
		// that tells a server still waiting from one that answered.
		res := sendRaw(t, addr, req, 5*time.Second)
		if res.timeout {
			t.Errorf("%s: no answer within 5 s", name)
		}
		if res.data != "" && !strings.HasPrefix(res.data, "HTTP/1.1 4") && !strings.HasPrefix(res.data, "HTTP/1.1 505 ") {
			t.Errorf("%s: got %.60q, want a 4xx, a 505 or a close", name, res.data)
		}
	}
	if got := up.requests(); len(got) != 0 {
		t.Errorf("upstream saw %q", got)
	}
}

func TestParseUpstream(t *testing.T) {
	for _, bad := range []string{"", "127.0.0.1:8081", "ftp://x/", "http://", "http://u:p@h/", "http://h/?q=1", "http://h/#f", "http://[::1"} {
		if _, err := ParseUpstream(bad); err == nil {
			t.Errorf("ParseUpstream(%q) accepted", bad)
		}
	}
	u, err := ParseUpstream("http://127.0.0.1:8081/base")
	if err != nil || u.Host != "127.0.0.1:8081" {
		t.Errorf("got %v, %v", u, err)
	}
}

// TestSlowloris trickles a header a byte every 20 ms, as a slowloris
// client does: the server must close the connection once its header
// timeout has passed, whatever arrives meanwhile, and the upstream must see
// nothing. The server here has a 300 ms header timeout so the test runs in
// well under a second; it asserts only what cannot flake: the close comes
// no earlier than the timeout, and it comes at all (within a bound 30 times
// the timeout, reached only if the protection is gone). The real server's
// timeout is checked as a value.
func TestSlowloris(t *testing.T) {
	if got := NewServer(http.NotFoundHandler(), nil).ReadHeaderTimeout; got != readHeaderTimeout || got <= 0 {
		t.Fatalf("NewServer's ReadHeaderTimeout is %v, want %v", got, readHeaderTimeout)
	}
	const timeout = 300 * time.Millisecond
	up := &recordingUpstream{}
	upSrv := httptest.NewServer(up)
	defer upSrv.Close()
	u, _ := ParseUpstream(upSrv.URL)
	proxy, err := NewProxy(u, ProxyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(nil)
	srv.Config = NewServer(proxy, nil)
	srv.Config.ReadHeaderTimeout = timeout
	srv.Start()
	defer srv.Close()
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
	closed := make(chan time.Duration, 1)
	go func() {
		c.SetReadDeadline(time.Now().Add(30 * timeout))
		_, err := io.ReadAll(c)
		if isTimeout(err) {
			closed <- -1
			return
		}
		closed <- time.Since(start)
	}()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case d := <-closed:
			if d < 0 {
				t.Fatalf("still open after %v of trickling with a %v header timeout", 30*timeout, timeout)
			}
			if d < timeout {
				t.Errorf("closed after %v, before the %v header timeout", d, timeout)
			}
			if got := up.requests(); len(got) != 0 {
				t.Errorf("upstream saw %q", got)
			}
			return
		case <-tick.C:
			c.Write([]byte("a")) // may fail once the server has closed
		}
	}
}
