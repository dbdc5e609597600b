package shield

import (
	"io"
	"net"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestEarlyDrop runs the shield's listener and middleware together, as
// `wormlab shield` does, and checks that each probe is answered and counted
// exactly once, whichever of the two catches it.
func TestEarlyDrop(t *testing.T) {
	reg := prometheus.NewRegistry()
	s, err := New(Options{Actions: map[string]Action{"nimda": NotFound}, Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	next := &countingHandler{}
	srv := httptest.NewUnstartedServer(s.Wrap(next))
	srv.Listener = s.Listener(srv.Listener)
	srv.Start()
	defer srv.Close()
	addr := srv.Listener.Addr().String()

	// Whole request in one write: dropped by the listener.
	if r := sendRaw(t, addr, wormRequest(codeRed2), 5*time.Second); r.data != "" || !r.closed {
		t.Errorf("probe: got %q, want a drop", r.data)
	}
	// The request line split across two reads: the listener sees no
	// whole line, so the middleware drops it. A pipe delivers each write
	// to one read, so the split is certain, not a matter of timing.
	client, server := net.Pipe()
	pl := &pipeListener{conns: make(chan net.Conn, 1), addr: srv.Listener.Addr()}
	pl.conns <- server
	go srv.Config.Serve(s.Listener(pl))
	req := wormRequest(codeRed2)
	go func() {
		io.WriteString(client, req[:20])
		io.WriteString(client, req[20:])
	}()
	client.SetReadDeadline(time.Now().Add(5 * time.Second))
	if b, err := io.ReadAll(client); len(b) != 0 || isTimeout(err) {
		t.Errorf("split probe: got %q, %v; want a drop", b, err)
	}
	client.Close()
	pl.Close()
	// A 404 family is left to the middleware.
	if r := sendRaw(t, addr, "GET "+nimda+" HTTP/1.0\r\n\r\n", 5*time.Second); !strings.HasPrefix(r.data, "HTTP/1.0 404") {
		t.Errorf("nimda: got %q, want 404", r.data)
	}
	// A legitimate request passes both.
	if r := sendRaw(t, addr, "GET / HTTP/1.0\r\n\r\n", 5*time.Second); !strings.HasSuffix(r.data, "\r\n\r\nok") {
		t.Errorf("legit: got %q", r.data)
	}
	if st := s.Stats(); st.Probes != 3 || st.Blocked != 3 || st.Passed != 1 || next.n.Load() != 1 {
		t.Errorf("stats %+v, next saw %d; want 3 probes blocked once each, 1 passed", st, next.n.Load())
	}
	want := `
# HELP wormlab_shield_probes_total Worm probes recognised, by signature and the action taken.
# TYPE wormlab_shield_probes_total counter
wormlab_shield_probes_total{action="404",signature="nimda-cmd-exe"} 1
wormlab_shield_probes_total{action="drop",signature="codered2"} 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "wormlab_shield_probes_total"); err != nil {
		t.Error(err)
	}
}

// TestEarlyBan checks that a banned source's new connections are dropped by
// the listener, legitimate or not.
func TestEarlyBan(t *testing.T) {
	clk := newFakeClock()
	s, err := New(Options{BanAfter: 1, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	next := &countingHandler{}
	srv := httptest.NewUnstartedServer(s.Wrap(next))
	srv.Listener = s.Listener(srv.Listener)
	srv.Start()
	defer srv.Close()
	addr := srv.Listener.Addr().String()
	sendRaw(t, addr, wormRequest(codeRed1), 5*time.Second)
	if r := sendRaw(t, addr, "GET / HTTP/1.0\r\n\r\n", 5*time.Second); r.data != "" {
		t.Errorf("banned source's legit request got %q", r.data)
	}
	if st := s.Stats(); st.Banned != 1 || st.Probes != 1 || next.n.Load() != 0 {
		t.Errorf("stats %+v, next saw %d", st, next.n.Load())
	}
}

// TestAcceptDrop checks the check in Accept directly: with a probe and a
// legitimate request both waiting, one Accept must reset the probe's
// connection and return the legitimate one with its bytes intact.
func TestAcceptDrop(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	// On Linux, listen sets TCP_DEFER_ACCEPT: the kernel hands over a
	// connection only once its first bytes are there, so Accept always
	// finds them waiting, with no sleep to make sure.
	raw, err := listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := s.Listener(raw)
	defer ln.Close()
	probe, err := net.Dial("tcp", raw.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer probe.Close()
	io.WriteString(probe, wormRequest(codeRed2))
	legit, err := net.Dial("tcp", raw.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer legit.Close()
	const req = "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n"
	io.WriteString(legit, req)

	// Whichever connection the kernel queued first, Accept returns only
	// the legitimate one; a second Accept, ended by closing the listener,
	// deals with the probe if it came second.
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	go func() {
		if c2, err := ln.Accept(); err == nil {
			c2.Close()
		}
	}()
	if c.RemoteAddr().String() != legit.LocalAddr().String() {
		t.Fatalf("Accept returned %v, want the legitimate connection %v", c.RemoteAddr(), legit.LocalAddr())
	}
	if ec := c.(*earlyConn); len(ec.pending) == 0 && runtime.GOOS == "linux" {
		t.Errorf("Accept found no bytes waiting; the check in Accept was not exercised")
	}
	buf := make([]byte, len(req))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != req {
		t.Errorf("legitimate bytes: %q, %v; want %q", buf, err, req)
	}
	probe.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := probe.Read(make([]byte, 1)); n != 0 || err == nil || isTimeout(err) {
		t.Errorf("probe connection: read %d, %v; want a reset", n, err)
	}
	ln.Close()
	if st := s.Stats(); st.Probes != 1 || st.Blocked != 1 {
		t.Errorf("stats %+v, want 1 probe blocked", st)
	}
}

// pipeListener hands out the connections sent on conns, then blocks until
// closed.
type pipeListener struct {
	conns  chan net.Conn
	addr   net.Addr
	closed chan struct{}
	once   sync.Once
}

func (l *pipeListener) Accept() (net.Conn, error) {
	l.once.Do(func() { l.closed = make(chan struct{}) })
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.once.Do(func() { l.closed = make(chan struct{}) })
	select {
	case <-l.closed:
	default:
		close(l.closed)
	}
	return nil
}

func (l *pipeListener) Addr() net.Addr { return l.addr }

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}
