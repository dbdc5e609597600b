// Package shield recognises worm probes (Code Red, Code Red II, Nimda) from
// the request line alone and answers them for next to nothing, so that a
// patched server behind it keeps its speed while thousands of probes a
// second arrive. It is HTTP middleware plus the reverse proxy and server
// settings that `wormlab shield` runs.
package shield

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wormlab/wormlab/internal/atomicfile"
	"github.com/wormlab/wormlab/internal/series"
	"github.com/wormlab/wormlab/internal/signature"
)

// Defaults for the zero values of Options.
const (
	DefaultTarpitHold   = 30 * time.Second // long enough to idle one worm thread, short enough to bound fds
	DefaultTarpitMax    = 1024             // held connections: a fraction of a default 1024..65536 fd limit
	DefaultBanFor       = 10 * time.Minute
	DefaultBanTableSize = 1 << 16 // 65,536 sources in 3.5 MB
	DefaultLogPerSecond = 10
)

// Options configure a Shield. The zero value is usable: built-in
// signatures, every family dropped, no bans, no metrics, no logs.
type Options struct {
	// Signatures classify requests; nil means signature.Builtin(). The
	// shield's own IIS signatures (internal/shield/iis.toml) are tried
	// after them.
	Signatures *signature.Set
	// Actions maps a signature family ("codered1", "codered2", "nimda",
	// or a user family) to its action; the key "*" covers families not
	// listed. A family in neither is dropped.
	Actions map[string]Action

	// TarpitHold is how long a tarpitted connection is held (default
	// DefaultTarpitHold); TarpitMax caps connections held at once (default
	// DefaultTarpitMax), past which tarpitted probes are dropped.
	TarpitHold time.Duration
	TarpitMax  int

	// BanAfter bans a source that sends BanAfter probes within BanWindow
	// (default BanFor); 0 disables bans. A banned source has every request
	// dropped, probe or not, for BanFor (default DefaultBanFor). The ban
	// table holds BanTableSize sources (default DefaultBanTableSize) and
	// evicts rather than grows: sources not banned (or whose ban ended)
	// first, live bans only when it is full, counted in
	// wormlab_shield_bans_evicted_total. IPv6 sources are grouped by /64. The source is the TCP peer address: behind
	// another proxy every request would share one source, so enable bans
	// only on a shield that faces clients directly.
	BanAfter     int
	BanFor       time.Duration
	BanWindow    time.Duration
	BanTableSize int

	// Registry, if not nil, receives the shield's metrics.
	Registry *prometheus.Registry
	// Logger, if not nil, receives one line per probe and per ban, at most
	// LogPerSecond probe lines and as many ban lines a second (default
	// DefaultLogPerSecond); the next line that gets through says how many
	// were suppressed.
	Logger       *slog.Logger
	LogPerSecond int
	// Series records probes per UTC minute for Shield.Series.
	Series bool
	// Clock is the source of time; nil means the system clock.
	Clock Clock
}

// Shield classifies requests and answers probes. Its methods are safe for
// concurrent use.
type Shield struct {
	sigs    *signature.Set
	actions map[string]Action
	def     Action
	hold    time.Duration
	clock   Clock
	met     *metrics
	bans    *banTable
	rec     *recorder
	log     *slog.Logger
	sample  sampler // probe log lines
	banLog  sampler // ban log lines
	hasBans bool
	tarpit  chan struct{} // a token per held connection
	mu      sync.Mutex
	held    map[net.Conn]func() bool
	closed  bool
	dropped atomic.Int64 // probes answered without reaching next, for tests and summaries
	passedN atomic.Int64
	probesN atomic.Int64
	bannedN atomic.Int64
}

// New returns a Shield for opts, or an error if an option is out of range or
// its metrics cannot be registered.
func New(opts Options) (*Shield, error) {
	s := &Shield{
		sigs:    opts.Signatures,
		actions: map[string]Action{},
		hold:    opts.TarpitHold,
		clock:   opts.Clock,
		met:     newMetrics(),
		log:     opts.Logger,
		held:    map[net.Conn]func() bool{},
	}
	if s.sigs == nil {
		s.sigs = signature.Builtin()
	}
	s.sigs = withIIS(s.sigs)
	for fam, a := range opts.Actions {
		if a >= numActions {
			return nil, fmt.Errorf("shield: family %q: invalid action %d", fam, a)
		}
		if fam == "*" {
			s.def = a
			continue
		}
		s.actions[fam] = a
	}
	if s.clock == nil {
		s.clock = systemClock{}
	}
	if s.hold == 0 {
		s.hold = DefaultTarpitHold
	}
	max := opts.TarpitMax
	if max == 0 {
		max = DefaultTarpitMax
	}
	if s.hold < 0 || max < 0 || opts.BanAfter < 0 || opts.BanFor < 0 || opts.BanWindow < 0 || opts.BanTableSize < 0 || opts.LogPerSecond < 0 {
		return nil, errors.New("shield: negative option")
	}
	s.tarpit = make(chan struct{}, max)
	if opts.BanAfter > 0 {
		banFor, window, size := opts.BanFor, opts.BanWindow, opts.BanTableSize
		if banFor == 0 {
			banFor = DefaultBanFor
		}
		if window == 0 {
			window = banFor
		}
		if size == 0 {
			size = DefaultBanTableSize
		}
		s.bans = newBanTable(size, opts.BanAfter, window, banFor)
		s.hasBans = true
	}
	if opts.Series {
		s.rec = newRecorder()
	}
	s.sample.perSec = opts.LogPerSecond
	if s.sample.perSec == 0 {
		s.sample.perSec = DefaultLogPerSecond
	}
	s.banLog.perSec = s.sample.perSec
	if opts.Registry != nil {
		cs := s.met.collectors()
		if s.bans != nil {
			cs = append(cs, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Namespace: "wormlab", Subsystem: "shield", Name: "bans_active",
				Help: "Sources banned now.",
			}, func() float64 {
				s.bans.sweep(s.clock.Now())
				n, _ := s.bans.stats()
				return float64(n)
			}), prometheus.NewCounterFunc(prometheus.CounterOpts{
				Namespace: "wormlab", Subsystem: "shield", Name: "bans_evicted_total",
				Help: "Live bans forgotten before their end because the ban table was full (raise --ban-table).",
			}, func() float64 { return float64(s.bans.lost.Load()) }))
		}
		for _, c := range cs {
			if err := opts.Registry.Register(c); err != nil {
				return nil, fmt.Errorf("shield: register metrics: %w", err)
			}
		}
	}
	return s, nil
}

// Middleware returns next behind a new Shield for opts. It panics if opts
// are invalid, like regexp.MustCompile; use New to get the error instead.
func Middleware(next http.Handler, opts Options) http.Handler {
	s, err := New(opts)
	if err != nil {
		panic(err)
	}
	return s.Wrap(next)
}

// Wrap returns a handler that answers probes itself and passes every other
// request to next.
func (s *Shield) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.serve(w, r, next)
	})
}

// bytesOf views s as bytes without copying. The matcher only reads its
// input, and a copy per request would be most of the classification cost.
func bytesOf(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// ActionFor returns the action for a signature family.
func (s *Shield) ActionFor(family string) Action {
	if a, ok := s.actions[family]; ok {
		return a
	}
	return s.def
}

func (s *Shield) serve(w http.ResponseWriter, r *http.Request, next http.Handler) {
	sig, probe := s.Classify(r)
	if !probe && !s.hasBans {
		s.passed()
		next.ServeHTTP(w, r)
		return
	}
	now := s.clock.Now()
	src, srcOK := sourceOf(r)
	if s.hasBans && srcOK && s.bans.banned(src, now) {
		s.met.bannedRequests.Inc()
		s.bannedN.Add(1)
		if probe {
			s.noteProbe(sig, Drop, src, srcOK, now)
		}
		s.drop(w)
		return
	}
	if !probe {
		s.passed()
		next.ServeHTTP(w, r)
		return
	}
	act := s.ActionFor(sig.Family)
	if act == Tarpit && !s.acquireTarpit() {
		s.met.tarpitOverflow.Inc()
		act = Drop
	}
	s.noteProbe(sig, act, src, srcOK, now)
	s.banProbe(sig, src, srcOK, now)
	switch act {
	case Drop:
		s.drop(w)
	case NotFound:
		s.notFound(w)
	case Tarpit:
		s.hold1(w)
	case LogOnly:
		s.passed()
		next.ServeHTTP(w, r)
	}
}

// banProbe counts a probe towards its source's ban.
func (s *Shield) banProbe(sig *signature.Signature, src netip.Addr, srcOK bool, now time.Time) {
	if s.hasBans && srcOK && s.bans.probe(src, now) {
		s.met.sourcesBanned.Inc()
		if s.log != nil {
			// Rate-limited like probe lines: a flood of new sources must
			// not make the accept loop a log writer.
			if ok, suppressed := s.banLog.allow(now); ok {
				s.log.Warn("source banned", "source", src, "signature", sig.Name, "for", time.Duration(s.bans.dur), "suppressed", suppressed)
			}
		}
	}
}

func (s *Shield) passed() {
	s.met.passed.Inc()
	s.passedN.Add(1)
}

func (s *Shield) noteProbe(sig *signature.Signature, act Action, src netip.Addr, srcOK bool, now time.Time) {
	s.probesN.Add(1)
	if act != LogOnly {
		s.dropped.Add(1)
	}
	s.met.probe(sig, act)
	if s.rec != nil && srcOK {
		s.rec.add(src.As16(), now)
	}
	if s.log != nil {
		if ok, suppressed := s.sample.allow(now); ok {
			s.log.Info("worm probe", "signature", sig.Name, "family", sig.Family,
				"action", act.String(), "source", src, "suppressed", suppressed)
		}
	}
}

// sourceOf returns the request's TCP peer address.
func sourceOf(r *http.Request) (netip.Addr, bool) {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}, false
	}
	return ap.Addr().Unmap(), true
}

// drop closes the connection without a response. It hijacks the connection
// rather than panicking with http.ErrAbortHandler: that way the shield holds
// the net.Conn and can close it with a reset (SO_LINGER 0), so neither side
// keeps the socket in TIME_WAIT, which at thousands of probes a second would
// pin hundreds of thousands of sockets; and it skips a panic and recover per
// probe. Where hijacking is not possible (HTTP/2, a ResponseWriter that
// does not support it) it falls back to http.ErrAbortHandler, which the
// server turns into a closed connection or a reset stream.
func (s *Shield) drop(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	resetClose(conn)
}

// resetClose closes conn with a TCP reset where it can. It closes conn
// itself, not the socket under it, so that wrappers (the connection caps)
// see the close.
func resetClose(conn net.Conn) {
	inner := conn
	for {
		w, ok := inner.(interface{ NetConn() net.Conn })
		if !ok {
			break
		}
		inner = w.NetConn()
	}
	if tc, ok := inner.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	conn.Close()
}

// notFoundBody is the whole 404 body: short, fixed, and not the site's own
// error page, which may be expensive.
const notFoundBody = "not found\n"

var (
	notFoundBytes = []byte(notFoundBody)
	textPlain     = []string{"text/plain; charset=utf-8"}
	closeConn     = []string{"close"}
)

// notFound writes the fixed 404 and asks the server to close the connection,
// since a worm never sends a second request on it.
func (s *Shield) notFound(w http.ResponseWriter) {
	h := w.Header()
	// The shared slices are never modified by net/http, so assigning them
	// saves an allocation per probe.
	h["Content-Type"] = textPlain
	h["Connection"] = closeConn
	w.WriteHeader(http.StatusNotFound)
	w.Write(notFoundBytes)
}

func (s *Shield) acquireTarpit() bool {
	select {
	case s.tarpit <- struct{}{}:
		return true
	default:
		return false
	}
}

func (s *Shield) releaseTarpit() { <-s.tarpit }

// hold1 tarpits one connection: it takes the connection from the server and
// arranges to close it after the hold, so a held connection costs a file
// descriptor and a timer, not a goroutine. The caller holds a tarpit token.
func (s *Shield) hold1(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		s.releaseTarpit()
		panic(http.ErrAbortHandler)
	}
	// The server's read and write deadlines may still be set; the hold
	// decides when this connection ends, so clear them.
	conn.SetDeadline(time.Time{})
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.releaseTarpit()
		resetClose(conn)
		return
	}
	s.met.tarpitHeld.Inc()
	s.held[conn] = s.clock.AfterFunc(s.hold, func() { s.release(conn) })
	s.mu.Unlock()
}

// release ends one tarpit hold, if it has not ended yet.
func (s *Shield) release(conn net.Conn) {
	s.mu.Lock()
	_, ok := s.held[conn]
	delete(s.held, conn)
	s.mu.Unlock()
	if !ok {
		return
	}
	resetClose(conn)
	s.met.tarpitHeld.Dec()
	s.releaseTarpit()
}

// Held returns the number of connections in the tarpit now.
func (s *Shield) Held() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.held)
}

// Close releases every connection held in the tarpit and makes later
// tarpitted probes drop. A server's Shutdown does not see hijacked
// connections, so call Close after it.
func (s *Shield) Close() {
	s.mu.Lock()
	s.closed = true
	held := s.held
	s.held = map[net.Conn]func() bool{}
	s.mu.Unlock()
	for conn, stop := range held {
		stop()
		resetClose(conn)
		s.met.tarpitHeld.Dec()
		s.releaseTarpit()
	}
}

// Stats are the shield's running totals.
type Stats struct {
	Passed  int64 // requests passed to the next handler, log-only probes included
	Probes  int64 // probes recognised, from banned sources too
	Blocked int64 // probes answered by the shield (dropped, 404, tarpit)
	Banned  int64 // requests dropped because the source was banned
}

// Stats returns the totals so far.
func (s *Shield) Stats() Stats {
	return Stats{Passed: s.passedN.Load(), Probes: s.probesN.Load(), Blocked: s.dropped.Load(), Banned: s.bannedN.Load()}
}

// Series returns the probes recorded per UTC minute, and whether the source
// counts hit their bound and are lower bounds. It is empty unless
// Options.Series was set.
func (s *Shield) Series() (series.Series, bool) {
	if s.rec == nil {
		return series.Series{}, false
	}
	return s.rec.series()
}

// WriteSeries writes the probes recorded so far to path as an observed
// series, atomically.
func (s *Shield) WriteSeries(path string) error {
	ser, _ := s.Series()
	return atomicfile.Write(path, func(w io.Writer) error { return series.Write(w, ser) })
}
