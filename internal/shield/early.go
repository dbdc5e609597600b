package shield

import (
	"bytes"
	"io"
	"net"
	"net/netip"
	"sync"

	"github.com/wormlab/wormlab/internal/signature"
)

// Listener returns ln with an early check on each new connection: when the
// connection's first bytes hold a whole request line that the shield would
// drop (a probe whose family's action is Drop, or any request from a banned
// source), the connection is reset right there, before net/http parses a
// header, allocates a request or starts a handler. On Unix the check runs in
// Accept itself, on the bytes already waiting (a worm sends its request in
// the same breath as the handshake), so a dropped probe never costs a
// goroutine; when nothing is waiting yet it runs on the connection's first
// read. Anything else (a request line split across reads, later requests
// on a kept-alive connection, other actions) goes on to net/http and the
// middleware, which applies the same policy. Probes dropped here are
// counted, logged, banned and recorded exactly as the middleware would.
func (s *Shield) Listener(ln net.Listener) net.Listener { return earlyListener{ln, s} }

type earlyListener struct {
	net.Listener
	s *Shield
}

// peekBufs hold the bytes Accept finds waiting; a request line longer than
// a buffer is left to the later checks.
var peekBufs = sync.Pool{New: func() any { return new([2048]byte) }}

func (l earlyListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		buf := peekBufs.Get().(*[2048]byte)
		n := peek(c, buf[:])
		if n > 0 && l.s.early(c, buf[:n]) {
			peekBufs.Put(buf)
			resetClose(c)
			continue
		}
		ec := &earlyConn{Conn: c, s: l.s}
		if n > 0 {
			ec.checked = true
			ec.pending = append([]byte(nil), buf[:n]...)
		}
		peekBufs.Put(buf)
		return ec, nil
	}
}

// earlyConn replays the bytes Accept read, or checks its first read if
// Accept found none. net/http reads a connection from one goroutine at a
// time, so its fields need no lock.
type earlyConn struct {
	net.Conn
	s       *Shield
	checked bool
	pending []byte // read by Accept, not yet passed on
}

// NetConn returns the connection underneath.
func (c *earlyConn) NetConn() net.Conn { return c.Conn }

func (c *earlyConn) Read(p []byte) (int, error) {
	if len(c.pending) > 0 {
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		return n, nil
	}
	n, err := c.Conn.Read(p)
	if c.checked || n == 0 {
		return n, err
	}
	c.checked = true
	if c.s.early(c.Conn, p[:n]) {
		resetClose(c)
		// net/http closes a connection that ends before a request
		// without answering it.
		return 0, io.EOF
	}
	return n, err
}

// early reports whether the connection whose first bytes are b should be
// dropped now, and if so accounts for it.
func (s *Shield) early(conn net.Conn, b []byte) bool {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return false // no whole request line yet
	}
	line := bytes.TrimSuffix(b[:i], []byte("\r"))
	sig, probe := s.classify(signature.Request{URI: line})
	if !probe && !s.hasBans {
		return false
	}
	var src netip.Addr
	srcOK := false
	if ta, ok := conn.RemoteAddr().(*net.TCPAddr); ok {
		src, srcOK = ta.AddrPort().Addr().Unmap(), true
	}
	now := s.clock.Now()
	if s.hasBans && srcOK && s.bans.banned(src, now) {
		s.met.bannedRequests.Inc()
		s.bannedN.Add(1)
		if probe {
			s.noteProbe(sig, Drop, src, srcOK, now)
		}
		return true
	}
	if !probe || s.ActionFor(sig.Family) != Drop {
		return false
	}
	s.noteProbe(sig, Drop, src, srcOK, now)
	s.banProbe(sig, src, srcOK, now)
	return true
}
