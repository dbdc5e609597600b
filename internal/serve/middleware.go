package serve

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/wormlab/wormlab/internal/sim"
)

// contentSecurityPolicy allows scripts, styles and fetches from the lab
// itself only: no inline script, no inline style sheet, no framing.
// Thumbnails are SVG images from /thumb/. uPlot sets styles through the
// CSSOM, which style-src does not govern.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// securityHeaders sets the headers every answer carries.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// statusWriter remembers the status and size of an answer, for logs and
// metrics; Unwrap lets http.ResponseController reach Flush.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *statusWriter) Flush() { http.NewResponseController(w.ResponseWriter).Flush() }

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observe logs each request and counts it by route pattern (not path, so
// that the metric's labels stay few), and turns a panic into a 500.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		began := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("panic", "method", r.Method, "path", r.URL.Path, "panic", v)
				if sw.status == 0 {
					http.Error(sw, "the lab failed on this request; the server log says why", http.StatusInternalServerError)
				}
			}
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			status := sw.status
			if status == 0 {
				status = http.StatusOK
			}
			d := time.Since(began)
			s.metrics.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
			s.metrics.duration.WithLabelValues(route).Observe(d.Seconds())
			level := s.log.Info
			if status >= 500 && status != 503 {
				level = s.log.Warn
			}
			level("request", "method", r.Method, "path", r.URL.Path, "route", route, "status", status,
				"bytes", sw.bytes, "ms", float64(d.Microseconds())/1000)
		}()
		next.ServeHTTP(sw, r)
	})
}

// metrics are the lab's Prometheus metrics, on the registry Config gives.
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	runs     *prometheus.CounterVec
	runTime  *prometheus.HistogramVec
	running  prometheus.Gauge
	waiting  prometheus.Gauge
	uploaded prometheus.Counter
}

func newMetrics(reg *prometheus.Registry) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "wormlab", Subsystem: "serve", Name: "requests_total",
			Help: "HTTP requests answered, by route pattern and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "wormlab", Subsystem: "serve", Name: "request_duration_seconds",
			Help:    "Time to answer a request, by route pattern (event streams last their ensemble).",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"route"}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "wormlab", Subsystem: "serve", Name: "runs_total",
			Help: "Simulations made, by kind (run, ensemble, forecast, thumbnail) and outcome (ok, stopped, error).",
		}, []string{"kind", "outcome"}),
		runTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "wormlab", Subsystem: "serve", Name: "run_seconds",
			Help:    "Wall time of a simulation, by kind.",
			Buckets: []float64{.01, .025, .05, .1, .15, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"kind"}),
		running: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "wormlab", Subsystem: "serve", Name: "jobs_running",
			Help: "Run slots in use (at most one a core).",
		}),
		waiting: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "wormlab", Subsystem: "serve", Name: "jobs_waiting",
			Help: "Requests waiting for a run slot.",
		}),
		uploaded: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "wormlab", Subsystem: "serve", Name: "upload_bytes_total",
			Help: "Bytes of logs uploaded to the pipeline, before decompression.",
		}),
	}
	reg.MustRegister(m.requests, m.duration, m.runs, m.runTime, m.running, m.waiting, m.uploaded,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) queueChanged(running, waiting int) {
	m.running.Set(float64(running))
	m.waiting.Set(float64(waiting))
}

// observeRun counts a finished simulation of kind.
func (m *metrics) observeRun(kind string, d time.Duration, err error) {
	outcome := "ok"
	switch {
	case errors.Is(err, sim.ErrStopped):
		outcome = "stopped"
	case err != nil:
		outcome = "error"
	}
	m.runs.WithLabelValues(kind, outcome).Inc()
	m.runTime.WithLabelValues(kind).Observe(d.Seconds())
}
