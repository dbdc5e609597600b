package shield

import (
	"errors"
	"net"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"
)

// A request that net/http cannot read (headers over MaxHeaderBytes, a
// malformed request line or header, a missing Host, a transfer coding it
// does not know) is answered by the server itself, 431, 400 or 501, and
// never reaches a handler, so neither the shield nor the proxy sees it.
// rejectCounter counts them where they leave: on the connection. net/http
// writes such an answer straight to the connection as one write, its
// status line followed at once by errorHeaders; a handler's answer cannot
// look like that, as net/http sorts a response's headers and so always
// puts Connection before Content-Type (and adds Date).
type rejectCounter struct {
	rejected *prometheus.CounterVec
}

// errorHeaders is what net/http's server writes after the status line of
// a request it refused (net/http/server.go, conn.serve).
const errorHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

func newRejectCounter() *rejectCounter {
	return &rejectCounter{rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "wormlab", Subsystem: "shield", Name: "requests_rejected_total",
		Help: "Requests net/http refused before any handler saw them (headers too large, a malformed request, an unknown transfer coding), by the status it answered.",
	}, []string{"code"})}
}

func (rc *rejectCounter) collectors() []prometheus.Collector {
	return []prometheus.Collector{rc.rejected}
}

// Listener wraps ln so that the refusals written on its connections are
// counted.
func (rc *rejectCounter) Listener(ln net.Listener) net.Listener { return rejectListener{ln, rc} }

type rejectListener struct {
	net.Listener
	rc *rejectCounter
}

func (l rejectListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &rejectConn{Conn: c, rc: l.rc}, nil
}

// rejectConn looks at the start of each write for a refusal.
type rejectConn struct {
	net.Conn
	rc *rejectCounter
}

func (c *rejectConn) Write(p []byte) (int, error) {
	if code, ok := refusal(p); ok {
		c.rc.rejected.WithLabelValues(code).Inc()
	}
	return c.Conn.Write(p)
}

// refusal reports whether p is a response net/http's server wrote itself
// for a request it could not read, and its status code.
func refusal(p []byte) (string, bool) {
	const proto = "HTTP/1.1 "
	// The cheap tests first: most writes are bodies, or answers of 1xx
	// to 3xx.
	if len(p) < len(proto)+3+len(errorHeaders) || string(p[:len(proto)]) != proto || (p[len(proto)] != '4' && p[len(proto)] != '5') {
		return "", false
	}
	for i := len(proto) + 3; i+len(errorHeaders) <= len(p); i++ {
		switch p[i] {
		case '\r':
			if string(p[i:i+len(errorHeaders)]) != errorHeaders {
				return "", false
			}
			return string(p[len(proto) : len(proto)+3]), true
		case '\n':
			return "", false
		}
	}
	return "", false
}

// NetConn returns the connection underneath.
func (c *rejectConn) NetConn() net.Conn { return c.Conn }

// SyscallConn passes the socket through for the early check's peek.
func (c *rejectConn) SyscallConn() (syscall.RawConn, error) {
	if sc, ok := c.Conn.(syscall.Conn); ok {
		return sc.SyscallConn()
	}
	return nil, errors.New("shield: connection has no socket")
}
