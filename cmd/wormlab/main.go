// Command wormlab simulates, observes and defends against scanning worms
// such as Code Red. See README.md for a tour.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signalContext()
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// stoppedBy is the cause of a context that a signal cancelled.
type stoppedBy struct{ sig syscall.Signal }

func (s stoppedBy) Error() string { return "stopped by " + s.String() }

// String names the signal as kill -l does, SIGINT or SIGTERM.
func (s stoppedBy) String() string {
	switch s.sig {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return s.sig.String()
}

// exitCode is the shell's status for a process the signal ended, 128+n:
// 130 for SIGINT, 143 for SIGTERM.
func (s stoppedBy) exitCode() int { return 128 + int(s.sig) }

// signalContext returns a context that SIGINT or SIGTERM cancels with a
// stoppedBy cause. After the first signal the default action returns, so
// a second Ctrl-C ends a command that does not stop at once.
func signalContext() (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case s := <-ch:
			signal.Stop(ch)
			cancel(stoppedBy{s.(syscall.Signal)})
		case <-ctx.Done():
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		cancel(nil)
	}
}
