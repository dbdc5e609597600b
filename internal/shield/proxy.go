package shield

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Server timeouts and limits. Each bounds what one slow or hostile client can
// hold; none is reached by a well-behaved browser or API client.
const (
	readHeaderTimeout = 5 * time.Second  // a probe's request line and headers fit in one packet; a slow one is slowloris
	idleTimeout       = 60 * time.Second // keep-alive between requests: an idle client costs a goroutine and an fd
	// maxHeaderBytes is net/http's MaxHeaderBytes. The server reads up to
	// 4 KiB more than it before giving up, so the request line and headers
	// together are cut off at 16 KiB: Code Red sends about 400 bytes,
	// browsers under 8 KiB.
	maxHeaderBytes = 12 << 10

	upstreamDialTimeout   = 5 * time.Second  // the upstream is near; a slow dial means it is down
	upstreamHeaderTimeout = 60 * time.Second // time to the upstream's response headers

	// bodyBufferSize is how much of a request body the proxy reads before
	// it dials the upstream, as nginx does: a body this small reaches the
	// upstream only once it is whole, so a slow uploader holds a shield
	// goroutine, not an upstream connection.
	bodyBufferSize = 64 << 10

	// DefaultIdleTimeout is how long an upload, a download or an upstream
	// connection may go without progress (ProxyOptions.IdleTimeout).
	DefaultIdleTimeout = 60 * time.Second
	// DefaultUpstreamConns caps connections to the upstream
	// (ProxyOptions.UpstreamConns); half of them at most carry request
	// bodies too big to buffer.
	DefaultUpstreamConns = 256

	// DefaultGrace is how long Serve lets in-flight requests finish after
	// its context is cancelled.
	DefaultGrace = 10 * time.Second
)

// ProxyOptions tune NewProxy. The zero value is usable: defaults below, no
// metrics, no logs.
type ProxyOptions struct {
	// Logger, if not nil, receives upstream failures.
	Logger *slog.Logger
	// Registry, if not nil, receives the proxy's metrics.
	Registry *prometheus.Registry
	// IdleTimeout ends a request whose body makes no progress for this
	// long (408), a response the client stops reading for this long, and
	// an upstream connection that moves no byte either way for this long
	// (default DefaultIdleTimeout). A transfer that keeps moving is never
	// cut, however long it takes.
	IdleTimeout time.Duration
	// MaxUploadTime and MaxResponseTime, if not zero, also bound the whole
	// request body and the whole response, counted from the request's
	// headers.
	MaxUploadTime, MaxResponseTime time.Duration
	// UpstreamConns caps connections to the upstream (default
	// DefaultUpstreamConns); requests beyond it wait for one. Request
	// bodies over 64 KiB are streamed and may hold at most half of them at
	// once; past that they are refused with 503.
	UpstreamConns int
}

// NewProxy returns a handler that proxies to upstream, and only to
// upstream: whatever Host header or absolute request URI a client sends,
// the outbound request goes to upstream's scheme and host, with the
// client's path joined to upstream's path, so the shield is never an open
// proxy.
//
// It answers itself, without contacting the upstream:
//   - 400 to a request target that is not an origin-form path or an
//     absolute http(s) URL (the opaque form "http:REST" that net/http
//     accepts, the asterisk form, PRI) or whose path climbs above the root
//     with "..", which would escape the upstream's path prefix;
//   - 408 to a request body that stalls, 400 to one that ends early or is
//     malformed, with the connection closed, never a made-up success;
//   - 503 to a large streamed upload when the streamed uploads already
//     hold half the upstream connections.
//
// The query is forwarded byte for byte, as received. X-Forwarded-For and
// X-Real-IP are set to the TCP peer, X-Forwarded-Proto to the scheme the
// client used, and X-Forwarded-Host to the Host header the client sent
// (whatever it is); values the client sent for them are dropped.
//
// When the upstream cannot be reached or fails, the client gets 502 Bad
// Gateway with a short fixed body and the error is logged. A client that
// hangs up first is counted apart and gets nothing.
func NewProxy(upstream *url.URL, opts ProxyOptions) (http.Handler, error) {
	if err := checkUpstream(upstream); err != nil {
		return nil, err
	}
	if opts.IdleTimeout < 0 || opts.MaxUploadTime < 0 || opts.MaxResponseTime < 0 || opts.UpstreamConns < 0 {
		return nil, errors.New("shield: negative proxy option")
	}
	if opts.IdleTimeout == 0 {
		opts.IdleTimeout = DefaultIdleTimeout
	}
	if opts.UpstreamConns == 0 {
		opts.UpstreamConns = DefaultUpstreamConns
	}
	p := &proxy{
		opts:    opts,
		streams: make(chan struct{}, max(1, opts.UpstreamConns/2)),
		hist: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "wormlab", Subsystem: "shield", Name: "upstream_duration_seconds",
			Help: "Time from sending a request upstream to its response headers.",
			// 100 µs to about 6.5 s, by fours: loopback to a slow page.
			Buckets: prometheus.ExponentialBuckets(100e-6, 4, 9),
		}),
		upErrs: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "wormlab", Subsystem: "shield", Name: "upstream_errors_total",
			Help: "Requests answered 502 because the upstream failed.",
		}),
		bad: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "wormlab", Subsystem: "shield", Name: "bad_requests_total",
			Help: "Requests the proxy answered itself as bad input, by reason: bad_target (400), body_timeout (408), body_incomplete and body_malformed (400), upload_busy (503).",
		}, []string{"reason"}),
		aborts: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "wormlab", Subsystem: "shield", Name: "client_aborts_total",
			Help: "Requests whose client hung up before the upstream answered.",
		}),
	}
	for _, r := range badReasons {
		p.bad.WithLabelValues(r) // show every reason at zero
	}
	if opts.Registry != nil {
		for _, c := range []prometheus.Collector{p.hist, p.upErrs, p.bad, p.aborts} {
			if err := opts.Registry.Register(c); err != nil {
				return nil, fmt.Errorf("shield: register metrics: %w", err)
			}
		}
	}
	idle := opts.IdleTimeout
	dialer := &net.Dialer{Timeout: upstreamDialTimeout, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy: nil, // never route through an environment proxy
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := dialer.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return newIdleConn(c, idle), nil
		},
		MaxIdleConns:          opts.UpstreamConns,
		MaxIdleConnsPerHost:   opts.UpstreamConns,
		MaxConnsPerHost:       opts.UpstreamConns,
		IdleConnTimeout:       idleTimeout,
		ResponseHeaderTimeout: upstreamHeaderTimeout,
		ForceAttemptHTTP2:     false,
	}
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(upstream)
			// ReverseProxy drops query parameters url.ParseQuery rejects
			// (";" separators, IIS's %u escapes); the upstream gets the
			// query exactly as the client sent it instead.
			pr.Out.URL.RawQuery = pr.In.URL.RawQuery
			pr.SetXForwarded()
			pr.Out.Header.Del("X-Real-Ip")
			if ap, err := netip.ParseAddrPort(pr.In.RemoteAddr); err == nil {
				pr.Out.Header.Set("X-Real-Ip", ap.Addr().Unmap().String())
			}
		},
		Transport:    timedTransport{tr, p.hist},
		ErrorHandler: p.failed,
		// ReverseProxy's own messages (a body copy cut short) are the
		// other side of errors counted elsewhere: debug level.
		ErrorLog: errorLog(opts.Logger),
		ModifyResponse: func(resp *http.Response) error {
			// An upstream that answers a request whose body broke off
			// answers a request the client never finished: tell the
			// client what happened instead (failed sees the body's error).
			if b := bodyOf(resp.Request); b != nil && b.failure() != nil {
				resp.Body.Close()
				return errBodyFailed
			}
			return nil
		},
	}
	return p, nil
}

func errorLog(l *slog.Logger) *log.Logger {
	if l == nil {
		return log.New(io.Discard, "", 0)
	}
	return slog.NewLogLogger(l.Handler(), slog.LevelDebug)
}

var errBodyFailed = errors.New("request body failed")

var badReasons = []string{"bad_target", "body_timeout", "body_incomplete", "body_malformed", "upload_busy"}

type proxy struct {
	opts    ProxyOptions
	rp      *httputil.ReverseProxy
	streams chan struct{} // a token per request body streamed upstream
	hist    prometheus.Histogram
	upErrs  prometheus.Counter
	bad     *prometheus.CounterVec
	aborts  prometheus.Counter
}

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !goodTarget(r) {
		p.refuse(w, "bad_target", http.StatusBadRequest)
		return
	}
	start := time.Now()
	rc := http.NewResponseController(w)
	tw := &timedWriter{ResponseWriter: w, rc: rc, idle: p.opts.IdleTimeout, end: endOf(start, p.opts.MaxResponseTime)}
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		p.rp.ServeHTTP(tw, r)
		return
	}
	body := &requestBody{body: r.Body, rc: rc, idle: p.opts.IdleTimeout, end: endOf(start, p.opts.MaxUploadTime)}
	defer body.done.Store(true)
	// ReverseProxy wraps the body it forwards; the context is how its
	// hooks find this one.
	r = r.WithContext(context.WithValue(r.Context(), bodyKey{}, body))
	r.Body = body
	whole, err := body.buffer(r.ContentLength)
	if err != nil {
		p.bodyFailed(tw, err)
		return
	}
	if whole {
		// The upstream gets the body with a Content-Length, however the
		// client framed it.
		r.ContentLength, r.TransferEncoding = int64(len(body.prefix)), nil
	} else {
		select {
		case p.streams <- struct{}{}:
			defer func() { <-p.streams }()
		default:
			tw.Header().Set("Retry-After", "10")
			p.refuse(tw, "upload_busy", http.StatusServiceUnavailable)
			return
		}
	}
	p.rp.ServeHTTP(tw, r)
}

type bodyKey struct{}

// bodyOf returns the requestBody of r, or nil if it has none.
func bodyOf(r *http.Request) *requestBody {
	b, _ := r.Context().Value(bodyKey{}).(*requestBody)
	return b
}

// refuse answers a request the proxy will not forward, counts it and
// closes the connection.
func (p *proxy) refuse(w http.ResponseWriter, reason string, status int) {
	p.bad.WithLabelValues(reason).Inc()
	h := w.Header()
	h.Set("Connection", "close")
	h.Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	io.WriteString(w, strings.ToLower(http.StatusText(status))+"\n")
}

// bodyFailed answers a request whose body could not be read whole.
func (p *proxy) bodyFailed(w http.ResponseWriter, err error) {
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		p.refuse(w, "body_timeout", http.StatusRequestTimeout)
	case strings.Contains(err.Error(), "chunk"):
		// net/http's chunked reader does not export its errors; each of
		// them names the chunk.
		p.refuse(w, "body_malformed", http.StatusBadRequest)
	default:
		p.refuse(w, "body_incomplete", http.StatusBadRequest)
	}
}

// failed is the ReverseProxy's ErrorHandler: it tells a failed upload, a
// client that left and a failed upstream apart.
func (p *proxy) failed(w http.ResponseWriter, r *http.Request, err error) {
	if b := bodyOf(r); b != nil {
		if berr := b.failure(); berr != nil {
			p.bodyFailed(w, berr)
			return
		}
	}
	if r.Context().Err() != nil {
		// The client went away. Returning would make net/http send a
		// 200 with an empty body; aborting closes the connection.
		p.aborts.Inc()
		panic(http.ErrAbortHandler)
	}
	p.upErrs.Inc()
	if p.opts.Logger != nil {
		p.opts.Logger.Warn("upstream failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusBadGateway)
	io.WriteString(w, "bad gateway\n")
}

// goodTarget reports whether r's request target may be forwarded: an
// origin-form path, or an absolute http or https URL, whose path does not
// climb above the root.
func goodTarget(r *http.Request) bool {
	u := r.URL
	switch {
	case u.Opaque != "", r.RequestURI == "*":
		return false
	case u.Scheme != "" && u.Scheme != "http" && u.Scheme != "https":
		return false
	case u.Path == "":
		return u.Host != "" // http://host means http://host/
	case u.Path[0] != '/':
		return false
	}
	return !climbs(u.Path)
}

// climbs reports whether a decoded path has a ".." segment that reaches
// above the root, taking '\' as a separator too, as Windows servers do.
func climbs(path string) bool {
	depth := 0
	for seg := range strings.FieldsFuncSeq(path, func(r rune) bool { return r == '/' || r == '\\' }) {
		switch seg {
		case ".":
		case "..":
			if depth--; depth < 0 {
				return true
			}
		default:
			depth++
		}
	}
	return false
}

func endOf(start time.Time, d time.Duration) time.Time {
	if d == 0 {
		return time.Time{}
	}
	return start.Add(d)
}

// nextDeadline returns the deadline for an operation starting at now: idle
// from now, but not past end if end is set.
func nextDeadline(now time.Time, idle time.Duration, end time.Time) time.Time {
	d := now.Add(idle)
	if !end.IsZero() && end.Before(d) {
		d = end
	}
	return d
}

// requestBody reads a client's request body with an idle deadline per
// read, remembers the first error, and can buffer its start.
type requestBody struct {
	body   io.ReadCloser
	rc     *http.ResponseController
	idle   time.Duration
	end    time.Time
	armed  time.Time
	prefix []byte // buffered start, not yet passed on
	err    atomic.Pointer[error]
	done   atomic.Bool // the handler returned: rc is no longer usable
}

// buffer reads up to bodyBufferSize bytes of the body (declared length n,
// or -1) and reports whether that was all of it.
func (b *requestBody) buffer(n int64) (whole bool, err error) {
	size := int64(bodyBufferSize)
	if n >= 0 && n < size {
		size = n + 1 // one more to see the end
	}
	buf := make([]byte, 0, size)
	for int64(len(buf)) < size {
		m, err := b.read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		if err == io.EOF {
			b.prefix = buf
			return true, nil
		}
		if err != nil {
			return false, err
		}
	}
	b.prefix = buf
	return false, nil
}

func (b *requestBody) Read(p []byte) (int, error) {
	if len(b.prefix) > 0 {
		n := copy(p, b.prefix)
		b.prefix = b.prefix[n:]
		return n, nil
	}
	return b.read(p)
}

func (b *requestBody) read(p []byte) (int, error) {
	live := !b.done.Load()
	if live {
		if now := time.Now(); now.Sub(b.armed) > b.idle/16 {
			// Re-arming at most every sixteenth of the timeout keeps the
			// deadline within 1/16 of exact and costs little.
			b.armed = now
			b.rc.SetReadDeadline(nextDeadline(now, b.idle, b.end))
		}
	}
	n, err := b.body.Read(p)
	switch {
	case err == io.EOF:
		if live {
			// net/http now reads ahead in the background to notice a
			// client that leaves; that read must not time out.
			b.rc.SetReadDeadline(time.Time{})
		}
	case err != nil:
		b.err.CompareAndSwap(nil, &err)
	}
	return n, err
}

func (b *requestBody) Close() error { return b.body.Close() }

// failure returns the first error reading the body, if any.
func (b *requestBody) failure() error {
	if e := b.err.Load(); e != nil {
		return *e
	}
	return nil
}

// timedWriter gives each write to the client an idle deadline.
type timedWriter struct {
	http.ResponseWriter
	rc    *http.ResponseController
	idle  time.Duration
	end   time.Time
	armed time.Time
}

func (w *timedWriter) arm() {
	if now := time.Now(); now.Sub(w.armed) > w.idle/16 {
		w.armed = now
		w.rc.SetWriteDeadline(nextDeadline(now, w.idle, w.end))
	}
}

func (w *timedWriter) WriteHeader(code int) {
	w.arm()
	w.ResponseWriter.WriteHeader(code)
}

func (w *timedWriter) Write(b []byte) (int, error) {
	w.arm()
	return w.ResponseWriter.Write(b)
}

func (w *timedWriter) Flush() {
	w.arm()
	w.rc.Flush()
}

// Unwrap lets http.ResponseController reach the server's writer.
func (w *timedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// idleConn is an upstream connection that fails once no byte has moved
// either way for idle. Both deadlines move on any progress, so a long
// upload keeps the read of the response alive and a long download keeps
// the connection alive; each is re-armed at most every idle/16.
type idleConn struct {
	net.Conn
	idle  time.Duration
	armed atomic.Int64 // Unix nanoseconds of the last re-arm
}

func newIdleConn(c net.Conn, idle time.Duration) *idleConn {
	ic := &idleConn{Conn: c, idle: idle}
	ic.arm()
	return ic
}

func (c *idleConn) arm() {
	now := time.Now()
	if now.UnixNano()-c.armed.Load() > int64(c.idle/16) {
		c.armed.Store(now.UnixNano())
		c.Conn.SetDeadline(now.Add(c.idle))
	}
}

func (c *idleConn) Read(p []byte) (int, error) {
	c.arm()
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.arm()
	}
	return n, err
}

func (c *idleConn) Write(p []byte) (int, error) {
	c.arm()
	n, err := c.Conn.Write(p)
	if n > 0 {
		c.arm()
	}
	return n, err
}

// checkUpstream reports whether u can be proxied to.
func checkUpstream(u *url.URL) error {
	switch {
	case u == nil:
		return errors.New("shield: no upstream")
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("shield: upstream %q: scheme must be http or https", u.String())
	case u.Host == "":
		return fmt.Errorf("shield: upstream %q has no host", u.String())
	case u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return fmt.Errorf("shield: upstream %q: want scheme://host[:port][/path] only", u.Redacted())
	}
	return nil
}

// ParseUpstream parses an upstream URL such as http://127.0.0.1:8081.
func ParseUpstream(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("upstream %q is not a URL: %w", s, err)
	}
	if err := checkUpstream(u); err != nil {
		return nil, err
	}
	return u, nil
}

// timedTransport observes each round trip's time to response headers.
type timedTransport struct {
	rt   http.RoundTripper
	hist prometheus.Histogram
}

func (t timedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.rt.RoundTrip(r)
	t.hist.Observe(time.Since(start).Seconds())
	return resp, err
}

// noTunnel refuses CONNECT: a reverse proxy has no business opening tunnels,
// and refusing here keeps the shield from ever being an open proxy.
func noTunnel(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodConnect {
			w.Header().Set("Connection", "close")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// NewServer returns an http.Server for h with the shield's timeouts and
// header limit, refusing CONNECT. Server errors (malformed requests, TLS
// noise) go to log at debug level, if log is not nil, since under a flood
// they are many and uninteresting.
func NewServer(h http.Handler, log *slog.Logger) *http.Server {
	srv := &http.Server{
		Handler:           noTunnel(h),
		ReadHeaderTimeout: readHeaderTimeout,
		// No ReadTimeout or WriteTimeout: they bound whole transfers. The
		// proxy sets idle deadlines on the body and the response instead.
		IdleTimeout:    idleTimeout,
		MaxHeaderBytes: maxHeaderBytes,
	}
	if log != nil {
		srv.ErrorLog = slog.NewLogLogger(log.Handler(), slog.LevelDebug)
	}
	return srv
}

// Serve runs srv on ln until ctx is cancelled, then shuts it down: it stops
// accepting, lets in-flight requests finish for up to grace (0 means
// DefaultGrace), and then closes what is left. It returns nil after a clean
// shutdown, an error if serving failed or the grace period ran out.
func Serve(ctx context.Context, srv *http.Server, ln net.Listener, grace time.Duration) error {
	if grace == 0 {
		grace = DefaultGrace
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := srv.Shutdown(sctx)
	if err != nil {
		srv.Close()
		err = fmt.Errorf("shutdown: in-flight requests did not finish within %v: %w", grace, err)
	}
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		return serr
	}
	return err
}
