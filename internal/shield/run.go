package shield

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Config is a whole shield deployment: a listener in front of one upstream,
// an optional metrics listener, and what to write at shutdown.
type Config struct {
	Listen   string   // address to serve on, such as 127.0.0.1:8080
	Upstream *url.URL // the only server requests are proxied to
	Metrics  string   // address for /metrics; empty: no metrics listener
	Series   string   // file for the observed series of probes; empty: none
	Grace    time.Duration
	// MaxConns and MaxConnsPerSource cap client connections open at once,
	// in all and per address (per /64 for IPv6); past them a connection is
	// reset as soon as it is accepted. Zero means DefaultMaxConns and
	// DefaultMaxConnsPerSource; MaxConns is lowered to fit the process's
	// file descriptor limit, with room for the upstream connections; -1
	// means no cap.
	MaxConns, MaxConnsPerSource int
	// Plain runs the same server and proxy without the shield, as a
	// baseline for load tests. The connection caps apply to it too.
	Plain   bool
	Options Options      // Registry, Series and Logger are set by Run
	Proxy   ProxyOptions // Registry and Logger are set by Run
	Logger  *slog.Logger
}

// Summary is what a finished Run reports.
type Summary struct {
	Stats
	SeriesPoints int  // minutes written to Config.Series
	SeriesCapped bool // source counts in the series are lower bounds
}

// connCaps returns the connection caps for cfg (0 meaning none).
func connCaps(cfg Config, popts ProxyOptions) (total, perSource int) {
	total, perSource = cfg.MaxConns, cfg.MaxConnsPerSource
	if total == 0 {
		total = DefaultMaxConns
		up := popts.UpstreamConns
		if up == 0 {
			up = DefaultUpstreamConns
		}
		if fds := fdLimit(); fds > 0 && total > fds-up-fdReserve {
			total = max(fds-up-fdReserve, 16)
		}
	}
	if perSource == 0 {
		perSource = DefaultMaxConnsPerSource
	}
	return max(total, 0), max(perSource, 0)
}

// Run serves cfg until ctx is cancelled, then shuts down gracefully (see
// Serve), releases the tarpit and writes the series file. ready, if not
// nil, is called with the bound addresses once both listeners are up (the
// metrics address is nil without a metrics listener).
func Run(ctx context.Context, cfg Config, ready func(addr, metrics net.Addr)) (Summary, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	popts := cfg.Proxy
	popts.Logger, popts.Registry = cfg.Logger, reg
	proxy, err := NewProxy(cfg.Upstream, popts)
	if err != nil {
		return Summary{}, err
	}
	opts := cfg.Options
	opts.Registry, opts.Logger, opts.Series = reg, cfg.Logger, cfg.Series != ""
	sh, err := New(opts)
	if err != nil {
		return Summary{}, err
	}
	var seriesOut *seriesFile
	if cfg.Series != "" {
		if seriesOut, err = startSeriesFile(cfg.Series, sh.rec, sh.clock); err != nil {
			sh.Close()
			return Summary{}, err
		}
		defer seriesOut.stop()
	}
	var h http.Handler = proxy
	if !cfg.Plain {
		h = sh.Wrap(proxy)
	}
	maxConns, perSource := connCaps(cfg, popts)
	lim := newConnLimiter("shield", maxConns, perSource, cfg.Logger)
	// The metrics listener has its own small caps, so that a flood on the
	// main one cannot take it down and a scraper cannot hold many.
	mlim := newConnLimiter("shield_metrics", 64, 16, cfg.Logger)
	rej := newRejectCounter()
	for _, c := range append(append(lim.collectors(), mlim.collectors()...), rej.collectors()...) {
		reg.MustRegister(c)
	}
	ln, err := listen(cfg.Listen)
	if err != nil {
		return Summary{}, err
	}
	ln = rej.Listener(lim.Listener(ln))
	var mln net.Listener
	if cfg.Metrics != "" {
		if mln, err = net.Listen("tcp", cfg.Metrics); err != nil {
			ln.Close()
			return Summary{}, fmt.Errorf("metrics: %w", err)
		}
		mln = mlim.Listener(mln)
	}
	if ready != nil {
		var maddr net.Addr
		if mln != nil {
			maddr = mln.Addr()
		}
		ready(ln.Addr(), maddr)
	}

	// The metrics listener lives as long as the main one, even when that
	// one fails on its own.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	merrc := make(chan error, 1)
	if mln != nil {
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		msrv := NewServer(mux, cfg.Logger)
		go func() { merrc <- Serve(ctx, msrv, mln, cfg.Grace) }()
	} else {
		merrc <- nil
	}
	if !cfg.Plain {
		ln = sh.Listener(ln)
	}
	err = Serve(ctx, NewServer(h, cfg.Logger), ln, cfg.Grace)
	cancel()
	sh.Close()
	if merr := <-merrc; err == nil && merr != nil {
		err = fmt.Errorf("metrics: %w", merr)
	}
	sum := Summary{Stats: sh.Stats()}
	if cfg.Series != "" {
		ser, capped := sh.Series()
		sum.SeriesPoints, sum.SeriesCapped = len(ser.Points), capped
		err = errors.Join(err, seriesOut.close())
	}
	return sum, err
}
