package shield

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The worms' requests as they go on the wire (docs/DESIGN.md §6). Code Red
// sends its request line, two headers and then about 3.4 KB of code as a
// body; the tests send filler of the same length, never the code.
var (
	crShell  = "%u9090%u6858%ucbd3%u7801%u9090%u6858%ucbd3%u7801%u9090%u6858%ucbd3%u7801%u9090%u9090%u8190%u00c3%u0003%u8b00%u531b%u53ff%u0078%u0000%u00=a"
	codeRed2 = "/default.ida?" + strings.Repeat("X", 224) + crShell
	codeRed1 = "/default.ida?" + strings.Repeat("N", 224) + crShell
	nimda    = "/scripts/..%255c../winnt/system32/cmd.exe?/c+dir"
)

func wormRequest(target string) string {
	return "GET " + target + " HTTP/1.0\r\nContent-type: text/xml\r\nContent-length: 3379 \r\n\r\n" + strings.Repeat("\x00", 3379)
}

// fakeClock is a Clock that moves only when told.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	at      time.Time
	f       func()
	stopped bool
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2001, 8, 4, 12, 0, 30, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) func() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		was := t.stopped
		t.stopped = true
		return !was
	}
}

// Advance moves the clock on by d and runs the timers that came due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []func()
	keep := c.timers[:0]
	for _, t := range c.timers {
		switch {
		case t.stopped:
		case !t.at.After(c.now):
			t.stopped = true
			due = append(due, t.f)
		default:
			keep = append(keep, t)
		}
	}
	c.timers = keep
	c.mu.Unlock()
	for _, f := range due {
		f()
	}
}

// countingHandler answers 200 "ok" and counts the requests it saw.
type countingHandler struct{ n atomic.Int64 }

func (h *countingHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.n.Add(1)
	io.WriteString(w, "ok")
}

// serveShield starts a loopback server with next behind a Shield for opts.
func serveShield(t *testing.T, opts Options, next http.Handler) (*Shield, *httptest.Server) {
	t.Helper()
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Wrap(next))
	t.Cleanup(func() {
		s.Close()
		srv.Close()
	})
	return s, srv
}

// rawResult is what a raw client got back.
type rawResult struct {
	data    string // bytes read before EOF, reset or timeout
	timeout bool   // the read deadline passed with the connection still open
	closed  bool   // the connection ended (EOF or reset)
}

// sendRaw writes req on a new connection to addr and reads until the
// connection ends or wait passes.
func sendRaw(t *testing.T, addr, req string, wait time.Duration) rawResult {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, req); err != nil {
		// A server that drops at once may reset before the body is sent.
		return rawResult{closed: true}
	}
	c.SetReadDeadline(time.Now().Add(wait))
	b, err := io.ReadAll(bufio.NewReader(c))
	var res rawResult
	res.data = string(b)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		res.timeout = true
	} else {
		res.closed = true
	}
	return res
}

// runOnLoopback starts Run, with its listener and metrics on loopback
// ports, in front of an upstream serving up. It returns the two addresses
// and stop, which ends Run and returns its error.
func runOnLoopback(t *testing.T, up http.Handler) (addr, metrics string, stop func() error) {
	t.Helper()
	upSrv := httptest.NewServer(up)
	t.Cleanup(upSrv.Close)
	u, err := ParseUpstream(upSrv.URL)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	addrs := make(chan [2]string, 1)
	done := make(chan error, 1)
	go func() {
		_, err := Run(ctx, Config{Listen: "127.0.0.1:0", Metrics: "127.0.0.1:0", Upstream: u, Grace: time.Second},
			func(a, m net.Addr) { addrs <- [2]string{a.String(), m.String()} })
		done <- err
	}()
	select {
	case a := <-addrs:
		return a[0], a[1], func() error { cancel(); return <-done }
	case err := <-done:
		t.Fatalf("Run: %v", err)
		return "", "", nil
	}
}
