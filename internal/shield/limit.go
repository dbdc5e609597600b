package shield

import (
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults for the connection caps (Config.MaxConns and
// Config.MaxConnsPerSource).
const (
	// DefaultMaxConns is the cap on client connections open at once. An
	// idle keep-alive connection costs a goroutine, about 10 KB and a file
	// descriptor; Run lowers the cap to fit the process's descriptor limit.
	DefaultMaxConns = 10_000
	// DefaultMaxConnsPerSource is the cap per client address (per /64 for
	// IPv6). A browser opens 6 per site; 256 leaves room for an office
	// behind one NAT address while keeping one host from taking the rest.
	DefaultMaxConnsPerSource = 256
	// fdReserve is what Run keeps free under the descriptor limit for the
	// listeners, upstream dials, the metrics server and the series file.
	fdReserve = 128
)

// connLimiter caps the connections a listener hands out, in all and per
// source, and refuses the rest with a reset as soon as they are accepted,
// so that the kernel's queue never fills and a flood from one address
// cannot take the descriptors everyone else needs.
type connLimiter struct {
	max, perSource int
	open           atomic.Int64
	mu             sync.Mutex
	bySource       map[[16]byte]int

	openGauge prometheus.GaugeFunc
	refused   *prometheus.CounterVec
	log       *slog.Logger
	sample    sampler
}

func newConnLimiter(name string, max, perSource int, log *slog.Logger) *connLimiter {
	l := &connLimiter{max: max, perSource: perSource, bySource: map[[16]byte]int{}, log: log}
	l.sample.perSec = 1
	l.openGauge = prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: "wormlab", Subsystem: name, Name: "connections",
		Help: "Client connections open now.",
	}, func() float64 { return float64(l.open.Load()) })
	l.refused = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "wormlab", Subsystem: name, Name: "connections_refused_total",
		Help: "Connections reset on accept because a cap was reached: limit=\"global\" (all clients) or \"source\" (one address, or one /64 for IPv6).",
	}, []string{"limit"})
	l.refused.WithLabelValues("global")
	l.refused.WithLabelValues("source")
	return l
}

func (l *connLimiter) collectors() []prometheus.Collector {
	return []prometheus.Collector{l.openGauge, l.refused}
}

// Listener returns ln with the caps applied.
func (l *connLimiter) Listener(ln net.Listener) net.Listener { return limitListener{ln, l} }

type limitListener struct {
	net.Listener
	l *connLimiter
}

func (ll limitListener) Accept() (net.Conn, error) {
	for {
		c, err := ll.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if lc, ok := ll.l.admit(c); ok {
			return lc, nil
		}
	}
}

// admit counts c in, or resets it and reports false.
func (l *connLimiter) admit(c net.Conn) (net.Conn, bool) {
	var key [16]byte
	if ta, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		key = banKey(ta.AddrPort().Addr())
	}
	limit := ""
	l.mu.Lock()
	switch {
	case l.max > 0 && l.open.Load() >= int64(l.max):
		limit = "global"
	case l.perSource > 0 && l.bySource[key] >= l.perSource:
		limit = "source"
	default:
		l.bySource[key]++
		l.open.Add(1)
	}
	l.mu.Unlock()
	if limit == "" {
		return &limitedConn{Conn: c, l: l, key: key}, true
	}
	l.refused.WithLabelValues(limit).Inc()
	if l.log != nil {
		if ok, suppressed := l.sample.allow(time.Now()); ok {
			l.log.Warn("connection refused", "limit", limit, "source", netip.AddrFrom16(key).Unmap(), "suppressed", suppressed)
		}
	}
	resetClose(c)
	return nil, false
}

func (l *connLimiter) release(key [16]byte) {
	l.mu.Lock()
	if n := l.bySource[key] - 1; n > 0 {
		l.bySource[key] = n
	} else {
		delete(l.bySource, key)
	}
	l.open.Add(-1)
	l.mu.Unlock()
}

// limitedConn gives its slot back when it is closed, however that happens
// (net/http, a drop, the tarpit).
type limitedConn struct {
	net.Conn
	l    *connLimiter
	key  [16]byte
	once sync.Once
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c.key) })
	return err
}

// NetConn returns the connection underneath.
func (c *limitedConn) NetConn() net.Conn { return c.Conn }

// SyscallConn passes the socket through for the early check's peek.
func (c *limitedConn) SyscallConn() (syscall.RawConn, error) {
	if sc, ok := c.Conn.(syscall.Conn); ok {
		return sc.SyscallConn()
	}
	return nil, errors.New("shield: connection has no socket")
}
