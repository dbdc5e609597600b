package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wormlab/wormlab/internal/version"
)

// Exit codes: 1 for a failure while running, 2 for bad input (flags, files,
// scenarios), as the issue tracker's contract asks.
const (
	exitFailure  = 1
	exitBadInput = 2
)

// badInput marks an error as the user's input being wrong, so run exits 2.
type badInput struct{ err error }

func (e badInput) Error() string { return e.err.Error() }
func (e badInput) Unwrap() error { return e.err }

// inputError wraps err as bad input; nil stays nil.
func inputError(err error) error {
	if err == nil {
		return nil
	}
	return badInput{err}
}

// run builds the command tree, executes it and returns the exit code. Errors
// are printed once, here.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRootCmd(stdout, stderr)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return 0
	}
	var sig stoppedBy
	if errors.As(context.Cause(ctx), &sig) {
		fmt.Fprintf(stderr, "wormlab: %s stopped by %s; nothing written\n", strings.TrimPrefix(cmd.CommandPath(), "wormlab "), sig.String())
		return sig.exitCode()
	}
	if errors.Is(err, errAlreadyReported) {
		return exitBadInput
	}
	err = friendlyCobraError(err)
	fmt.Fprintln(stderr, "wormlab:", plainMessage(err))
	var bad badInput
	if errors.As(err, &bad) || isFlagError(err) {
		return exitBadInput
	}
	return exitFailure
}

// flagError marks cobra's own argument and flag errors.
type flagError struct{ err error }

func (e flagError) Error() string { return e.err.Error() }
func (e flagError) Unwrap() error { return e.err }

// cobraUsage are the beginnings of cobra's own messages about a command
// line that does not fit the command (its errors carry no type).
var cobraUsage = []string{"required flag", "unknown command", "accepts ", "requires at least", "requires at most", "if any flags in the group", "invalid argument"}

func isFlagError(err error) bool {
	var fe flagError
	if errors.As(err, &fe) {
		return true
	}
	for _, p := range cobraUsage {
		if strings.HasPrefix(err.Error(), p) {
			return true
		}
	}
	return false
}

func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "wormlab",
		Short: "Simulate, observe and defend against scanning worms such as Code Red",
		Long: `wormlab is a lab for Internet worm outbreaks: it simulates Code Red and
other scanning worms over the IPv4 space, models what telescopes and
operators observe, fits models to observed series, finds worm probes in
server logs, and shields web servers from them. It never sends a probe to a
real network.`,
		Version:       version.Version + " (commit " + version.Commit() + ")",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return friendlyFlagError(err) })
	root.PersistentFlags().BoolP("quiet", "q", false, "print nothing but errors")
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error { return prepare(cmd, args, stdout) }
	root.SetVersionTemplate("wormlab {{.Version}}\n")
	root.AddCommand(
		newSimulateCmd(),
		newScenariosCmd(),
		newForecastCmd(),
		newModelCmd(),
		newFitCmd(),
		newMergeCmd(),
		newSweepCmd(),
		newDetectCmd(),
		newShieldCmd(),
		newLoadgenCmd(),
		newReportCmd(),
		newReproduceCmd(),
		newServeCmd(),
		newVersionCmd(),
	)
	friendlyArgs(root)
	roundDefaults(root)
	addCompletions(root)
	root.SetGlobalNormalizationFunc(normalizeFlag)
	return root
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version and commit",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(cmd.OutOrStdout(), "wormlab %s (commit %s)\n", version.Version, version.Commit())
			return nil
		},
	}
}

// notYet is the body of a command whose issue is still open.
func notYet(name string) *cobra.Command {
	return &cobra.Command{
		Use:   name,
		Short: "(not implemented yet)",
		RunE: func(*cobra.Command, []string) error {
			return fmt.Errorf("%s is not implemented yet", name)
		},
	}
}
