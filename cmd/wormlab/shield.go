package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"os"
	"os/signal"
	"runtime/pprof"
	"slices"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/wormlab/wormlab/internal/shield"
	"github.com/wormlab/wormlab/internal/signature"
)

type shieldConfig struct {
	listen, upstream, metrics, series string
	actions, rules                    string
	tarpitHold                        time.Duration
	tarpitMax                         int
	banAfter, banTable                int
	banFor, banWindow                 time.Duration
	logRate                           int
	logJSON, quiet, plain             bool
	grace                             time.Duration
	cpuProfile                        string
	maxConns, maxConnsPerSource       int
	upstreamConns                     int
	idleTimeout, maxUpload, maxResp   time.Duration
}

func newShieldCmd() *cobra.Command {
	var c shieldConfig
	cmd := &cobra.Command{
		Use:   "shield",
		Short: "Serve as a reverse proxy that answers worm probes itself",
		Long: `shield listens in front of one web server (--upstream) and recognises Code
Red I, Code Red II, Code Red of unknown variant and Nimda probes (and any
--rules) from the request line alone. Probes get the action of their family
(--actions): drop (close without a response), 404 (a fixed minimal
response), tarpit (hold the connection silently, bounded), or log-only.
Everything else is proxied to the upstream and only to it, whatever Host or
absolute URI a client sends.

Prometheus metrics are served on a separate --metrics address. On SIGTERM or
interrupt the shield stops accepting, lets in-flight requests finish for
--grace, writes --series and exits; a second signal during the grace period
exits at once, without the series.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runShield(cmd, c)
		},
	}
	f := cmd.Flags()
	f.StringVar(&c.listen, "listen", "127.0.0.1:8080", "`address` to serve on")
	f.StringVar(&c.upstream, "upstream", "", "`URL` of the server to protect, such as http://127.0.0.1:8081 (required)")
	f.StringVar(&c.metrics, "metrics", "", "`address` to serve Prometheus /metrics on (default: none)")
	outputFlag(f, &c.series, "series", "", "write the probes seen per minute as an observed series to this CSV `file`, brought up to date as each minute ends (a crash loses at most the minute under way)")
	f.StringVar(&c.actions, "actions", "*=drop", "per-family actions, `family=action,...` with actions drop, 404, tarpit, log-only; * is every other family")
	f.StringVar(&c.rules, "rules", "", "TOML `file` of extra signatures, tried after the built-in ones")
	f.DurationVar(&c.tarpitHold, "tarpit-hold", shield.DefaultTarpitHold, "how long a tarpitted connection is held")
	f.IntVar(&c.tarpitMax, "tarpit-max", shield.DefaultTarpitMax, "connections held in the tarpit at once; past it, probes are dropped (0: drop instead of tarpitting)")
	f.IntVar(&c.banAfter, "ban-after", 0, "ban a source after this many probes within --ban-window (0: no bans)")
	f.DurationVar(&c.banFor, "ban-for", shield.DefaultBanFor, "how long a ban lasts; a banned source has every request dropped")
	f.DurationVar(&c.banWindow, "ban-window", 0, "window for counting a source's probes (default --ban-for)")
	f.IntVar(&c.banTable, "ban-table", shield.DefaultBanTableSize, "sources the ban table holds; it evicts rather than grows")
	f.IntVar(&c.logRate, "log-rate", shield.DefaultLogPerSecond, "probe log lines per second at most; the rest are counted")
	f.BoolVar(&c.logJSON, "log-json", false, "log as JSON lines instead of text")
	f.BoolVarP(&c.quiet, "quiet", "q", false, "log nothing but errors")
	f.BoolVar(&c.plain, "plain", false, "proxy without the shield (a baseline for load tests)")
	f.DurationVar(&c.grace, "grace", shield.DefaultGrace, "how long in-flight requests may take to finish at shutdown")
	f.IntVar(&c.maxConns, "max-conns", shield.DefaultMaxConns, "client connections open at once; past it they are reset on accept (lowered to fit the file descriptor limit; 0: no cap)")
	f.IntVar(&c.maxConnsPerSource, "max-conns-per-source", shield.DefaultMaxConnsPerSource, "client connections open at once from one address, or one /64 for IPv6 (0: no cap)")
	f.IntVar(&c.upstreamConns, "upstream-conns", shield.DefaultUpstreamConns, "connections to the upstream at most; streamed uploads (over 64 KiB) may hold half")
	f.DurationVar(&c.idleTimeout, "idle-timeout", shield.DefaultIdleTimeout, "how long an upload, a download or an upstream connection may make no progress")
	f.DurationVar(&c.maxUpload, "max-upload-time", 0, "bound on a whole request body (0: none, only --idle-timeout)")
	f.DurationVar(&c.maxResp, "max-response-time", 0, "bound on a whole response (0: none, only --idle-timeout)")
	outputFlag(f, &c.cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run to this `file` (for load tests)")
	markInput(f, "rules")
	mustBePositive(f, "log-rate", "at least 1 line a second (--quiet logs none)")
	f.MarkHidden("cpuprofile")
	return cmd
}

func runShield(cmd *cobra.Command, c shieldConfig) error {
	if c.upstream == "" {
		return inputError(fmt.Errorf("--upstream is required"))
	}
	up, err := shield.ParseUpstream(c.upstream)
	if err != nil {
		return inputError(err)
	}
	acts, err := shield.ParseActions(c.actions)
	if err != nil {
		return inputError(fmt.Errorf("--actions: %w", err))
	}
	for name, v := range map[string]int{"--tarpit-max": c.tarpitMax, "--ban-after": c.banAfter, "--ban-table": c.banTable, "--log-rate": c.logRate,
		"--max-conns": c.maxConns, "--max-conns-per-source": c.maxConnsPerSource, "--upstream-conns": c.upstreamConns} {
		if v < 0 {
			return inputError(fmt.Errorf("%s %d: must not be negative", name, v))
		}
	}
	for name, v := range map[string]time.Duration{"--tarpit-hold": c.tarpitHold, "--ban-for": c.banFor, "--ban-window": c.banWindow, "--grace": c.grace,
		"--idle-timeout": c.idleTimeout, "--max-upload-time": c.maxUpload, "--max-response-time": c.maxResp} {
		if v < 0 {
			return inputError(fmt.Errorf("%s %v: must not be negative", name, v))
		}
	}
	for name, addr := range map[string]string{"--listen": c.listen, "--metrics": c.metrics} {
		if addr == "" && name == "--metrics" {
			continue
		}
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return inputError(fmt.Errorf("%s %q: want host:port", name, addr))
		}
	}
	sigs := signature.Builtin()
	if c.rules != "" {
		user, err := signature.Load(c.rules)
		if err != nil {
			return inputError(err)
		}
		sigs = sigs.With(user)
	}
	if err := checkActionFamilies(slices.Collect(maps.Keys(acts)), sigs); err != nil {
		return inputError(err)
	}
	level := slog.LevelInfo
	if c.quiet {
		level = slog.LevelError
	}
	hopts := &slog.HandlerOptions{Level: level}
	var log *slog.Logger
	if c.logJSON {
		log = slog.New(slog.NewJSONHandler(cmd.ErrOrStderr(), hopts))
	} else {
		log = slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), hopts))
	}
	cfg := shield.Config{
		Listen: c.listen, Upstream: up, Metrics: c.metrics, Series: c.series,
		Grace: c.grace, Plain: c.plain, Logger: log,
		MaxConns: orNoCap(c.maxConns), MaxConnsPerSource: orNoCap(c.maxConnsPerSource),
		Proxy: shield.ProxyOptions{
			IdleTimeout: c.idleTimeout, MaxUploadTime: c.maxUpload, MaxResponseTime: c.maxResp,
			UpstreamConns: c.upstreamConns,
		},
		Options: shield.Options{
			Signatures: sigs, Actions: acts,
			TarpitHold: c.tarpitHold, TarpitMax: c.tarpitMax,
			BanAfter: c.banAfter, BanFor: c.banFor, BanWindow: c.banWindow, BanTableSize: c.banTable,
			LogPerSecond: c.logRate,
		},
	}
	if c.tarpitMax == 0 {
		// Zero on the command line means no tarpit at all, not the default.
		cfg.Options.Actions = noTarpit(acts)
	}
	if c.cpuProfile != "" {
		f, err := os.Create(c.cpuProfile)
		if err != nil {
			return inputError(err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	out := cmd.OutOrStdout()
	finished := make(chan struct{})
	defer close(finished)
	go secondSignalExits(cmd.Context(), finished, cmd.ErrOrStderr())
	sum, err := shield.Run(cmd.Context(), cfg, func(addr, maddr net.Addr) {
		mode := "shield"
		if c.plain {
			mode = "plain proxy (no shield)"
		}
		fmt.Fprintf(out, "%s on http://%s -> %s\n", mode, addr, up)
		if maddr != nil {
			fmt.Fprintf(out, "metrics on http://%s/metrics\n", maddr)
		}
	})
	fmt.Fprintf(out, "passed %s; %s, %d answered by the shield; %s from banned sources dropped\n",
		plural64(sum.Passed, "request"), plural64(sum.Probes, "probe"), sum.Blocked, plural64(sum.Banned, "request"))
	if c.series != "" && err == nil {
		capped := ""
		if sum.SeriesCapped {
			capped = " (source counts are lower bounds: too many sources to track)"
		}
		fmt.Fprintf(out, "wrote %s of probes to %s%s\n", plural(sum.SeriesPoints, "minute"), c.series, capped)
	}
	return err
}

// secondSignalExits waits for ctx to end (the first SIGTERM or interrupt
// starts the graceful shutdown) and then ends the process at once if a
// second signal comes before the shutdown finishes: the grace period is a
// courtesy, not a trap.
func secondSignalExits(ctx context.Context, finished <-chan struct{}, stderr io.Writer) {
	select {
	case <-ctx.Done():
	case <-finished:
		return
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	select {
	case s := <-sig:
		name, code := "SIGINT", 130
		if s == syscall.SIGTERM {
			name, code = "SIGTERM", 143
		}
		fmt.Fprintf(stderr, "wormlab: shield stopped by a second %s during the grace period; in-flight requests cut, --series not written\n", name)
		os.Exit(code)
	case <-finished:
	}
}

// orNoCap maps a cap of 0 on the command line ("no cap") to the -1 that
// shield.Config takes for it.
func orNoCap(n int) int {
	if n == 0 {
		return -1
	}
	return n
}

// noTarpit turns tarpit actions into drops.
func noTarpit(acts map[string]shield.Action) map[string]shield.Action {
	out := make(map[string]shield.Action, len(acts))
	for k, v := range acts {
		if v == shield.Tarpit {
			v = shield.Drop
		}
		out[k] = v
	}
	return out
}
