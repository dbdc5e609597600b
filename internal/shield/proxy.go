package shield

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Server timeouts and limits. Each bounds what one slow or hostile client can
// hold; none is reached by a well-behaved browser or API client.
const (
	readHeaderTimeout = 5 * time.Second  // a probe's request line and headers fit in one packet; a slow one is slowloris
	readTimeout       = 60 * time.Second // whole request with body: room for a legitimate upload, no more
	writeTimeout      = 90 * time.Second // whole response: longer than upstreamHeaderTimeout so slow upstreams still answer
	idleTimeout       = 60 * time.Second // keep-alive between requests: an idle client costs a goroutine and an fd
	maxHeaderBytes    = 16 << 10         // request line plus headers: Code Red sends about 400 bytes, browsers under 8 KiB

	upstreamDialTimeout   = 5 * time.Second  // the upstream is near; a slow dial means it is down
	upstreamHeaderTimeout = 60 * time.Second // time to the upstream's response headers
	upstreamIdleConns     = 256              // kept-alive upstream connections; net/http's default of 2 per host serialises a burst

	// DefaultGrace is how long Serve lets in-flight requests finish after
	// its context is cancelled.
	DefaultGrace = 10 * time.Second
)

// NewProxy returns a reverse proxy to upstream, and only to upstream:
// whatever Host header or absolute request URI a client sends, the outbound
// request goes to upstream's scheme and host, with the client's path joined
// to upstream's path, so the shield is never an open proxy. Upstream
// latency (time to response headers) is observed into a histogram
// registered on reg, if reg is not nil.
//
// The ErrorHandler answers 502 Bad Gateway with a short fixed body when the
// upstream cannot be reached or fails, and logs the error through log (if
// not nil); when the client has already gone it writes nothing.
func NewProxy(upstream *url.URL, log *slog.Logger, reg *prometheus.Registry) (*httputil.ReverseProxy, error) {
	if err := checkUpstream(upstream); err != nil {
		return nil, err
	}
	hist := prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: "wormlab", Subsystem: "shield", Name: "upstream_duration_seconds",
		Help: "Time from sending a request upstream to its response headers.",
		// 100 µs to about 6.5 s, by fours: loopback to a slow page.
		Buckets: prometheus.ExponentialBuckets(100e-6, 4, 9),
	})
	errs := prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "wormlab", Subsystem: "shield", Name: "upstream_errors_total",
		Help: "Requests answered 502 because the upstream failed.",
	})
	if reg != nil {
		for _, c := range []prometheus.Collector{hist, errs} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("shield: register metrics: %w", err)
			}
		}
	}
	tr := &http.Transport{
		Proxy:                 nil, // never route through an environment proxy
		DialContext:           (&net.Dialer{Timeout: upstreamDialTimeout, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          upstreamIdleConns,
		MaxIdleConnsPerHost:   upstreamIdleConns,
		IdleConnTimeout:       idleTimeout,
		ResponseHeaderTimeout: upstreamHeaderTimeout,
		ForceAttemptHTTP2:     false,
	}
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(upstream)
			pr.SetXForwarded()
		},
		Transport: timedTransport{tr, hist},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			errs.Inc()
			if r.Context().Err() != nil {
				return // the client went away; nobody to answer
			}
			if log != nil {
				log.Warn("upstream failed", "method", r.Method, "path", r.URL.Path, "err", err)
			}
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusBadGateway)
			w.Write([]byte("bad gateway\n"))
		},
	}, nil
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
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
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
