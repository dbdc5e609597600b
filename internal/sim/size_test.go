package sim

import (
	"os"
	"testing"

	"github.com/wormlab/wormlab/internal/raceflag"
)

// longMode reports whether the long statistical tests are asked for:
// WORMLAB_LONG=1 in the environment (.ci/run sets it). The long mode runs
// the agreement tests with the seeds that give their stated power; the
// default keeps every test, with fewer seeds, so it runs everywhere.
func longMode() bool { return os.Getenv("WORMLAB_LONG") == "1" }

// sized picks a statistical test's sample size: short under -short, long
// in the long mode, fast otherwise. Under the race detector it skips the
// test (see heavy).
func sized(t *testing.T, short, fast, long int) int {
	t.Helper()
	heavy(t)
	switch {
	case longMode():
		return long
	case testing.Short():
		return short
	}
	return fast
}

// heavy skips a long-running test under the race detector. The only
// goroutines the simulation starts are the parallel probe engine's
// window workers, which TestParallelProbeSameBytes runs under the
// detector; elsewhere it would only slow the engines tenfold. The light
// tests (conservation, determinism, exact lifetimes and calendar
// boundaries) still run there.
func heavy(t *testing.T) {
	t.Helper()
	if raceflag.Enabled {
		t.Skip("heavy and single-threaded: runs without -race")
	}
}
