package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/wormlab/wormlab/internal/shield"
	"github.com/wormlab/wormlab/internal/shield/loadgen"
)

type loadgenConfig struct {
	cfg           loadgen.Config
	startUpstream string
	work          time.Duration
	json          string
}

func newLoadgenCmd() *cobra.Command {
	var c loadgenConfig
	cmd := &cobra.Command{
		Use:   "loadgen",
		Short: "Flood a server on this machine with worm probes and time legitimate requests",
		Long: `loadgen sends Code Red II probes, each on a new connection as the worm
sends them, and at the same time legitimate GETs on keep-alive connections
to --target, which must be on this machine (127.0.0.0/8, ::1 or
localhost). It stops after --duration or --requests, whichever comes first,
and reports the legitimate requests' latency percentiles, what became of the
probes and, with --upstream-stats, what the upstream received.

--start-upstream runs a counting upstream (see "loadgen upstream") in this
process; for CPU figures of the upstream alone, run it as its own process.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runLoadgen(cmd, c)
		},
	}
	f := cmd.Flags()
	f.StringVar(&c.cfg.Target, "target", "", "base `URL` of the server under test, on loopback (default: the --start-upstream server)")
	f.DurationVar(&c.cfg.Duration, "duration", loadgen.DefaultDuration, fmt.Sprintf("how long to send (at most %v)", loadgen.MaxDuration))
	f.Int64Var(&c.cfg.Requests, "requests", loadgen.DefaultRequests, fmt.Sprintf("most probes plus legitimate requests to send (at most %d)", loadgen.MaxRequests))
	f.Float64Var(&c.cfg.ProbeRate, "probe-rate", 1000, "Code Red II probes a second, each on a new connection (0: none)")
	f.IntVar(&c.cfg.ProbeWorkers, "probe-workers", loadgen.DefaultProbeWorkers, "probe connections in flight at most")
	f.DurationVar(&c.cfg.ProbeTimeout, "probe-timeout", loadgen.DefaultProbeTimeout, "how long a probe waits for an answer or a close")
	f.Float64Var(&c.cfg.LegitRate, "legit-rate", loadgen.DefaultLegitRate, "legitimate requests a second (0: none)")
	f.IntVar(&c.cfg.LegitConns, "legit-conns", loadgen.DefaultLegitConns, "keep-alive connections for legitimate requests")
	f.StringVar(&c.cfg.LegitPath, "legit-path", "/", "path of the legitimate requests")
	f.StringVar(&c.cfg.UpstreamStats, "upstream-stats", "", "stats `URL` of a loadgen upstream, such as http://127.0.0.1:8081"+loadgen.StatsPath)
	f.StringVar(&c.startUpstream, "start-upstream", "", "run a counting upstream in this process on this loopback `address`")
	f.DurationVar(&c.work, "work", 0, "with --start-upstream: CPU time the upstream spends on each request")
	outputFlag(f, &c.json, "json", "", "write the result as JSON to this `file` (- for standard output)")
	mustBePositive(f, "requests", fmt.Sprintf("at least 1 (without the flag: %s)", thousands(loadgen.DefaultRequests)))
	mustBePositive(f, "duration", fmt.Sprintf("a duration above 0 (without the flag: %v)", loadgen.DefaultDuration))
	mustBePositive(f, "probe-workers", "at least 1")
	mustBePositive(f, "probe-timeout", "a duration above 0")
	mustBePositive(f, "legit-conns", "at least 1")
	cmd.AddCommand(newLoadgenUpstreamCmd())
	return cmd
}

func runLoadgen(cmd *cobra.Command, c loadgenConfig) error {
	out := cmd.OutOrStdout()
	if c.startUpstream != "" {
		ln, err := listenLoopback(c.startUpstream)
		if err != nil {
			return err
		}
		up := &http.Server{Handler: loadgen.NewUpstream(c.work), ReadHeaderTimeout: 5 * time.Second}
		go up.Serve(ln)
		defer up.Close()
		base := "http://" + ln.Addr().String()
		fmt.Fprintf(out, "upstream on %s (in this process)\n", base)
		if c.cfg.Target == "" {
			c.cfg.Target = base
		}
		if c.cfg.UpstreamStats == "" {
			c.cfg.UpstreamStats = base + loadgen.StatsPath
		}
	}
	if c.cfg.Target == "" {
		return inputError(fmt.Errorf("--target or --start-upstream is required"))
	}
	if err := c.cfg.Validate(); err != nil {
		return inputError(err)
	}
	if err := checkListening("--target", c.cfg.Target); err != nil {
		return inputError(err)
	}
	res, err := loadgen.Run(cmd.Context(), c.cfg)
	if err != nil {
		return err
	}
	renderLoadgen(out, c.cfg, res)
	return writeOutput(cmd, c.json, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	})
}

func renderLoadgen(w io.Writer, cfg loadgen.Config, r loadgen.Result) {
	ms := func(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/1e6) }
	fmt.Fprintf(w, "target %s, %.1f s, loadgen CPU %.2f s\n", cfg.Target, r.Elapsed.Seconds(), r.CPU.Seconds())
	l := r.Legit
	fmt.Fprintf(w, "legit   %d sent, %d ok, %d failed; latency p50 %s  p90 %s  p99 %s  p99.9 %s  max %s\n",
		l.Sent, l.OK, l.Failed, ms(l.Latency.P50), ms(l.Latency.P90), ms(l.Latency.P99), ms(l.Latency.P999), ms(l.Latency.Max))
	p := r.Probes
	fmt.Fprintf(w, "probes  %d sent (%.0f/s), %d skipped (generator busy), %d connect failures; %d closed without response, %d answered",
		p.Sent, p.Rate, p.Skipped, p.ConnFail, p.Closed, p.Responded)
	codes := make([]int, 0, len(p.Status))
	for code := range p.Status {
		codes = append(codes, code)
	}
	slices.Sort(codes)
	for _, code := range codes {
		fmt.Fprintf(w, " [%d: %d]", code, p.Status[code])
	}
	fmt.Fprintf(w, ", %d held past the probe timeout\n", p.Held)
	if u := r.Upstream; u != nil {
		fmt.Fprintf(w, "upstream received %s: %d legit, %s; upstream CPU %.2f s\n", plural64(u.Requests, "request"), u.Legit, plural64(u.Probes, "probe"), u.CPUSeconds)
	}
}

// listenLoopback listens on addr, which must be a loopback address: the
// load tools never serve beyond this machine.
func listenLoopback(addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, inputError(fmt.Errorf("%q: want host:port", addr))
	}
	if a, err := netip.ParseAddr(host); host != "localhost" && (err != nil || !a.Unmap().IsLoopback()) {
		return nil, inputError(fmt.Errorf("%q: listen only on a loopback address", addr))
	}
	return net.Listen("tcp", addr)
}

func newLoadgenUpstreamCmd() *cobra.Command {
	var listen string
	var work time.Duration
	cmd := &cobra.Command{
		Use:   "upstream",
		Short: "Serve a counting stand-in for the protected web server",
		Long: `upstream serves a small page to legitimate requests and 404 to worm probes,
as a patched server would, and counts both (and its own CPU time) at
` + loadgen.StatsPath + `. It runs until interrupted.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ln, err := listenLoopback(listen)
			if err != nil {
				return err
			}
			up := loadgen.NewUpstream(work)
			srv := shield.NewServer(up, nil)
			fmt.Fprintf(cmd.OutOrStdout(), "upstream on http://%s (stats at %s)\n", ln.Addr(), loadgen.StatsPath)
			err = shield.Serve(cmd.Context(), srv, ln, 0)
			s := up.Stats()
			fmt.Fprintf(cmd.OutOrStdout(), "received %s: %d legit, %s; CPU %.2f s\n", plural64(s.Requests, "request"), s.Legit, plural64(s.Probes, "probe"), s.CPUSeconds)
			return err
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:8081", "loopback `address` to serve on")
	cmd.Flags().DurationVar(&work, "work", 0, "CPU time spent on each request, as a dynamic page would")
	return cmd
}
