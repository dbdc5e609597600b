package shield

import (
	"bytes"
	"io"
	"net"
	"net/netip"

	"github.com/wormlab/wormlab/internal/signature"
)

// Listener returns ln with an early check on each new connection: when the
// connection's first read holds a whole request line that the shield would
// drop (a probe whose family's action is Drop, or any request from a banned
// source), the connection is reset right there, before net/http parses a
// header, allocates a request or starts a handler. A worm sends its whole
// request in one segment, so nearly every probe is caught here; anything
// else (a request line split across reads, later requests on a kept-alive
// connection, other actions) goes on to net/http and the middleware, which
// applies the same policy. Probes dropped here are counted, logged, banned
// and recorded exactly as the middleware would.
func (s *Shield) Listener(ln net.Listener) net.Listener { return earlyListener{ln, s} }

type earlyListener struct {
	net.Listener
	s *Shield
}

func (l earlyListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &earlyConn{Conn: c, s: l.s}, nil
}

// earlyConn checks its first read. net/http reads a connection from one
// goroutine at a time, so checked needs no lock.
type earlyConn struct {
	net.Conn
	s       *Shield
	checked bool
}

func (c *earlyConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if c.checked || n == 0 {
		return n, err
	}
	c.checked = true
	if c.s.early(c.Conn, p[:n]) {
		resetClose(c.Conn)
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
	sig, probe := s.sigs.Match(signature.Request{URI: line})
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
