package shield

import (
	"io"
	"net"
	"net/http/httptest"
	"strings"
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
	// The request line split across two writes: the listener sees no
	// whole line, so the middleware drops it.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	req := wormRequest(codeRed2)
	io.WriteString(c, req[:20])
	time.Sleep(50 * time.Millisecond)
	io.WriteString(c, req[20:])
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if b, _ := io.ReadAll(c); len(b) != 0 {
		t.Errorf("split probe: got %q, want a drop", b)
	}
	c.Close()
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
