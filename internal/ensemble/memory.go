package ensemble

import (
	"unsafe"

	"github.com/wormlab/wormlab/internal/scenario"
)

// BytesPerRun returns about how much memory a Set of sc's runs with the
// engine holds per run: its per-bin values (one int64 per column and bin)
// and its Member. The command line refuses ensembles that would not fit.
func BytesPerRun(sc *scenario.Scenario, engine string) int64 {
	h := headerOf(sc, engine, 0, 1)
	return int64(len(h.Columns))*int64(h.Bins)*8 + int64(unsafe.Sizeof(Member{}))
}
