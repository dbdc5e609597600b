package sim

import (
	"os"
	"testing"
)

// longMode reports whether the long statistical tests are asked for:
// WORMLAB_LONG=1 in the environment (.ci/run sets it). The long mode runs
// the agreement tests with the seeds that give their stated power; the
// default keeps every test, with fewer seeds, so it runs everywhere.
func longMode() bool { return os.Getenv("WORMLAB_LONG") == "1" }

// sized picks a sample size: short under -short (the race detector runs
// there), long in the long mode, fast otherwise.
func sized(short, fast, long int) int {
	switch {
	case longMode():
		return long
	case testing.Short():
		return short
	}
	return fast
}
