package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/wormlab/wormlab/internal/sweep"
)

// Config says how to run the lab. The zero value is usable: nothing kept
// on disk, one run a core, the default limits.
type Config struct {
	// Data is the directory of saved runs (the CLI's run records and detect
	// reports); "" keeps nothing on disk.
	Data string
	// Logger receives one line per request and per problem; nil discards.
	Logger *slog.Logger
	// Registry receives the lab's metrics; nil makes a new one. /metrics
	// serves it.
	Registry *prometheus.Registry
	// Workers is the number of runs at once; 0 means GOMAXPROCS.
	Workers int
	// MaxWaiting is the number of requests that may wait for a run; past
	// it they are refused with 503. 0 means 64.
	MaxWaiting int
	// MaxUpload bounds an uploaded log, in bytes; 0 means 64 MiB.
	MaxUpload int64
	// MaxEnsemble bounds the runs of one ensemble; 0 means 200.
	MaxEnsemble int
	// RunTimeout bounds one run; 0 means 60 s.
	RunTimeout time.Duration
}

// Server is the lab: an http.Handler over the engines.
type Server struct {
	cfg       Config
	log       *slog.Logger
	reg       *prometheus.Registry
	metrics   *metrics
	jobs      *queue
	runs      *lru[*runResult]
	uploads   *lru[*upload]
	ensembles *lru[*ensembleResult]
	sweeps    *lru[*sweep.Result]
	thumbs    *thumbCache
	store     *store // nil without Data
	handler   http.Handler
	// background is the context of work no request waits for (thumbnails);
	// Serve's shutdown and Close end it.
	background     context.Context
	stopBackground context.CancelFunc
}

// New returns the lab for cfg. It opens cfg.Data, which must exist.
func New(cfg Config) (*Server, error) {
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	if cfg.MaxWaiting <= 0 {
		cfg.MaxWaiting = 64
	}
	if cfg.MaxUpload <= 0 {
		cfg.MaxUpload = 64 << 20
	}
	if cfg.MaxEnsemble <= 0 {
		cfg.MaxEnsemble = 200
	}
	if cfg.RunTimeout <= 0 {
		cfg.RunTimeout = 60 * time.Second
	}
	s := &Server{
		cfg:       cfg,
		log:       cfg.Logger,
		reg:       cfg.Registry,
		jobs:      newQueue(cfg.Workers, cfg.MaxWaiting),
		runs:      newLRU[*runResult](32),
		uploads:   newLRU[*upload](8),
		ensembles: newLRU[*ensembleResult](2),
		sweeps:    newLRU[*sweep.Result](2),
		thumbs:    newThumbCache(),
	}
	s.background, s.stopBackground = context.WithCancel(context.Background())
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.reg == nil {
		s.reg = prometheus.NewRegistry()
	}
	s.metrics = newMetrics(s.reg)
	s.jobs.onChange = s.metrics.queueChanged
	if cfg.Data != "" {
		st, err := openStore(cfg.Data)
		if err != nil {
			return nil, err
		}
		s.store = st
	}
	s.handler = s.routes()
	return s, nil
}

// Close stops the background work and releases the data directory.
func (s *Server) Close() error {
	s.stopBackground()
	if s.store != nil {
		return s.store.Close()
	}
	return nil
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	page := func(pattern string, h http.HandlerFunc) { mux.Handle(pattern, gzipped(h)) }
	page("GET /{$}", s.handleGallery)
	page("GET /run", s.handleRunPage)
	page("GET /compare", s.handleComparePage)
	page("GET /ensemble", s.handleEnsemblePage)
	page("GET /pipeline", s.handlePipelinePage)
	page("GET /saved", s.handleSavedPage)
	page("GET /saved/{file}", s.handleSavedRunPage)
	page("GET /thumb/{name}", s.handleThumb)
	page("GET /assets/{path...}", s.handleAsset)

	page("GET /api/scenarios", s.handleScenarios)
	page("GET /api/run", s.handleRun)
	page("POST /api/edit", s.handleEdit)
	page("GET /api/compare", s.handleCompare)
	mux.HandleFunc("GET /api/ensemble", s.handleEnsemble) // streams: not buffered by gzip
	mux.HandleFunc("GET /api/sweep", s.handleSweep)
	page("POST /api/detect", s.handleDetect)
	page("POST /api/fit", s.handleFit)
	page("GET /api/forecast", s.handleForecast)
	page("POST /api/save", s.handleSave)
	page("GET /api/saved", s.handleSavedList)
	page("GET /api/saved/{file}", s.handleSavedRun)

	page("GET /download/{file}", s.handleDownload)
	page("GET /download/ensemble/{file}", s.handleEnsembleDownload)
	page("GET /download/sweep/{file}", s.handleSweepDownload)
	page("GET /download/detect/{id}/{file}", s.handleDetectDownload)
	page("GET /download/compare/{file}", s.handleCompareDownload)
	page("GET /download/saved/{name}/{file}", s.handleSavedDownload)

	mux.Handle("GET /metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{Registry: s.reg}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })

	var h http.Handler = mux
	h = http.NewCrossOriginProtection().Handler(h)
	h = securityHeaders(h)
	h = s.observe(h)
	return h
}

// fail answers a request that went wrong: JSON {"error", "key", "line"}
// for /api/ requests, the error page otherwise. A request whose browser
// went away gets nothing; a problem of the lab's own is logged.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil {
		// The client is gone (a newer edit cancelled it, or the tab was
		// closed): 499 in nginx's sense, for the logs and metrics only.
		w.WriteHeader(499)
		return
	}
	re := &requestError{Status: http.StatusInternalServerError, Msg: "the lab failed: " + err.Error()}
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &re):
	case errors.Is(err, errBusy):
		re = &requestError{Status: http.StatusServiceUnavailable, Msg: err.Error()}
		w.Header().Set("Retry-After", "2")
	case errors.As(err, &mbe):
		re = &requestError{Status: http.StatusRequestEntityTooLarge, Msg: fmt.Sprintf("the upload is over the lab's limit of %s", sizeText(mbe.Limit))}
	default:
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if isAPI(r) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(re.Status)
		body := map[string]any{"error": re.Msg, "key": re.Key, "line": re.Line}
		if len(re.Fields) > 0 {
			body["errors"] = re.Fields
		}
		json.NewEncoder(w).Encode(body)
		return
	}
	s.renderError(w, r, re)
}

func isAPI(r *http.Request) bool {
	p := r.URL.Path
	return len(p) >= 5 && p[:5] == "/api/"
}

// sizeText formats a byte count as "64 MiB".
func sizeText(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// Server timeouts. There is no write timeout: an ensemble's event stream
// lasts as long as the ensemble, and runs end with their request instead.
const (
	readHeaderTimeout = 5 * time.Second   // browsers send headers at once; slow ones are slowloris
	idleTimeout       = 120 * time.Second // keep-alive between a page and its fetches
	// shutdownGrace is how long requests under way may take after SIGTERM;
	// runs are stopped at once, so this is mostly for uploads.
	shutdownGrace = 5 * time.Second
)

// Serve answers on ln until ctx ends, then shuts down: it stops accepting,
// cancels the runs under way and waits up to shutdownGrace for requests
// to finish.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	base, cancelRuns := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelRuns()
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		BaseContext:       func(net.Listener) context.Context { return base },
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down", "grace", shutdownGrace)
	cancelRuns()
	s.stopBackground()
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	err := srv.Shutdown(sctx)
	<-done
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// IsLoopback reports whether the listen address host:port names only this
// machine: localhost or a loopback IP. An empty host listens everywhere.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

var _ http.Handler = (*Server)(nil)
