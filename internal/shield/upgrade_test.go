package shield

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// upgradeUpstream switches protocols to "tick" on any request and then
// either echoes what the client sends (path /echo) or sends a byte every
// tick itself for push, ignoring the client (path /push), and then falls
// silent with the connection open.
type upgradeUpstream struct {
	tick time.Duration
	push int // bytes /push sends
}

func (u upgradeUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Connection", "Upgrade")
	w.Header().Set("Upgrade", "tick")
	w.WriteHeader(http.StatusSwitchingProtocols)
	c, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer c.Close()
	brw.Flush()
	if r.URL.Path == "/push" {
		for range u.push {
			time.Sleep(u.tick)
			if _, err := c.Write([]byte{'.'}); err != nil {
				return
			}
		}
		io.Copy(io.Discard, c) // silent until the front closes
		return
	}
	io.Copy(c, c)
}

// TestUpgradedIdleTimeout checks how --idle-timeout applies to a
// connection switched to another protocol (a WebSocket): it is one tunnel
// that stays open as long as a byte moves either way within the idle
// timeout, however long that lasts, and is closed once none has for the
// idle timeout (to within the sixteenth of it by which deadlines are
// re-armed).
//
// The talk goes on for two idle timeouts, a byte every quarter of one: a
// stall of the machine longer than three quarters of the idle timeout
// would cut the tunnel and fail the test, hence an idle timeout of 800 ms
// rather than less.
func TestUpgradedIdleTimeout(t *testing.T) {
	const idle = 800 * time.Millisecond
	const tick = idle / 4
	const ticks = 8
	up := httptest.NewServer(upgradeUpstream{tick: tick, push: ticks})
	defer up.Close()
	addr, _ := startFrontWith(t, up.URL, nil, 0, ProxyOptions{IdleTimeout: idle}, false)

	open := func(path string) (net.Conn, *bufio.Reader) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tick\r\n\r\n")
		br := bufio.NewReader(c)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(br, nil)
		if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("%s: upgrade answered %v, %v", path, resp, err)
		}
		return c, br
	}
	// closedWithin waits for the front to close c and checks that it took
	// at least the idle timeout (less the sixteenth by which deadlines are
	// re-armed) after since, a time no later than the last byte's passage.
	closedWithin := func(name string, c net.Conn, br *bufio.Reader, since time.Time) {
		t.Helper()
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err := br.ReadByte()
		after := time.Since(since)
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatalf("%s: still open %v after the last byte, want closed after about %v", name, after, idle)
		}
		if after < idle*15/16 {
			t.Errorf("%s: closed %v after the last byte, before the idle timeout %v", name, after, idle)
		}
		t.Logf("%s: closed %v after the last byte (idle timeout %v)", name, after, idle)
	}

	// The client talks every tick for two idle timeouts: the tunnel
	// stays up, then closes once the talk stops. The last byte passes
	// the upstream connection after the client's last write begins.
	c, br := open("/echo")
	var lastWrite time.Time
	for i := range ticks {
		time.Sleep(tick)
		lastWrite = time.Now()
		if _, err := c.Write([]byte{'a' + byte(i)}); err != nil {
			t.Fatalf("echo: write %d after %v: %v", i, time.Duration(i+1)*tick, err)
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if b, err := br.ReadByte(); err != nil || b != 'a'+byte(i) {
			t.Fatalf("echo: byte %d after %v: %q, %v", i, time.Duration(i+1)*tick, b, err)
		}
	}
	closedWithin("echo", c, br, lastWrite)

	// Only the upstream talks: that keeps the tunnel up as well. When it
	// sent its last byte is not known here, only that the front must
	// close the tunnel in the end.
	c, br = open("/push")
	for i := range ticks {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := br.ReadByte(); err != nil {
			t.Fatalf("push: byte %d after about %v: %v", i, time.Duration(i+1)*tick, err)
		}
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := br.ReadByte(); err == nil {
		t.Errorf("push: a byte after the upstream fell silent")
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Errorf("push: still open 5 s after the upstream fell silent, want closed after about %v", idle)
	}
}
