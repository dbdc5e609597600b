package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"

	"github.com/spf13/cobra"

	"github.com/wormlab/wormlab/internal/serve"
)

type serveConfig struct {
	listen      string
	data        string
	allowRemote bool
	maxUpload   int
	logJSON     bool
	quiet       bool
}

func newServeCmd() *cobra.Command {
	var c serveConfig
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the lab in a browser: scenarios, editor, charts, ensembles, the log pipeline",
		Long: `serve runs the lab as a local web application: the scenario gallery, an
editor that re-runs a scenario as its parameters change, the run view with
the charts of 'wormlab report', comparison of pinned runs, ensembles with
live progress, and the pipeline from an uploaded server log through detect
and fit to a forecast on a block. Every view has a permalink.

Everything is served from the binary and works offline. It listens on
loopback only unless --allow-remote is given. --data DIR keeps saved runs
as the CLI's own JSON files ('wormlab report DIR/NAME.json' reads them) and
shows the CLI's files there; without it nothing is written. SIGTERM or
Ctrl-C stops the runs under way and shuts down.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runServe(cmd, c)
		},
	}
	f := cmd.Flags()
	f.StringVar(&c.listen, "listen", "127.0.0.1:8080", "`address` to serve on (host:port; loopback unless --allow-remote)")
	f.StringVar(&c.data, "data", "", "`DIR` of saved runs (the CLI's run records and detect reports); default: keep nothing")
	f.BoolVar(&c.allowRemote, "allow-remote", false, "allow a --listen address other machines can reach (the lab has no login)")
	f.IntVar(&c.maxUpload, "max-upload", 64, "largest log the pipeline accepts, in `MiB`")
	f.BoolVar(&c.logJSON, "log-json", false, "log as JSON lines instead of text")
	f.BoolVarP(&c.quiet, "quiet", "q", false, "log nothing but errors")
	mustBePositive(f, "max-upload", "at least 1 MiB")
	return cmd
}

func runServe(cmd *cobra.Command, c serveConfig) error {
	if _, _, err := net.SplitHostPort(c.listen); err != nil {
		return inputError(fmt.Errorf("--listen %q: want host:port, such as 127.0.0.1:8080", c.listen))
	}
	if !serve.IsLoopback(c.listen) && !c.allowRemote {
		return inputError(fmt.Errorf("--listen %s: reachable from other machines; the lab has no login, so give --allow-remote to mean it", c.listen))
	}
	level := slog.LevelInfo
	if c.quiet {
		level = slog.LevelError
	}
	hopts := &slog.HandlerOptions{Level: level}
	log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), hopts))
	if c.logJSON {
		log = slog.New(slog.NewJSONHandler(cmd.ErrOrStderr(), hopts))
	}
	srv, err := serve.New(serve.Config{Data: c.data, Logger: log, MaxUpload: int64(c.maxUpload) << 20})
	if err != nil {
		return inputError(err)
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", c.listen)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) {
			err = op.Err
		}
		return inputError(fmt.Errorf("--listen %s: %v", c.listen, err))
	}
	if !serve.IsLoopback(c.listen) {
		fmt.Fprintf(cmd.ErrOrStderr(), "wormlab: warning: serving on %s, reachable from other machines; the lab has no login and anyone who reaches it can run simulations\n", ln.Addr())
	}
	if !c.quiet {
		fmt.Fprintf(cmd.OutOrStdout(), "wormlab lab on http://%s/ (Ctrl-C stops it)\n", ln.Addr())
	}
	log.Info("serving", "addr", ln.Addr().String(), "data", c.data)
	if err := srv.Serve(cmd.Context(), ln); err != nil {
		return err
	}
	return nil
}
