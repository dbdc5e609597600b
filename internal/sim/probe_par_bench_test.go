//go:build unix

package sim_test

import (
	"syscall"
	"testing"
	"time"

	"github.com/wormlab/wormlab/internal/sim"
)

// BenchmarkProbeEngineOneRun measures one long run of the probe engine on
// the full 2^32 space (fullSpace for ten simulated minutes, about 75
// million probes), so that the set-up every run pays first (the host
// index, one core) weighs little. Run it with -cpu 1,2: probes/s is the
// wall-clock throughput, probes/cpu-s what each second of CPU time (all
// threads, user and system) bought, which a loaded machine leaves nearly
// alone where it halves the wall-clock figure. serial-share is the share
// of the wall time not spent drawing windows that more workers share
// (set-up, applying hits, copies infected within a window): with one
// worker it bounds the speed-up on n cores by 1/(s + (1-s)/n), Amdahl's
// law.
func BenchmarkProbeEngineOneRun(b *testing.B) {
	c := fullSpace(b, 10*time.Minute)
	var probes int64
	cpu0 := cpuSeconds(b)
	part0 := sim.ParallelPart()
	b.ResetTimer()
	for i := range b.N {
		r, err := sim.RunProbe(c, uint64(i))
		if err != nil {
			b.Fatal(err)
		}
		probes += r.ProbesSent
	}
	b.StopTimer()
	b.ReportMetric(float64(probes)/b.Elapsed().Seconds(), "probes/s")
	b.ReportMetric(float64(probes)/(cpuSeconds(b)-cpu0), "probes/cpu-s")
	b.ReportMetric(1-(sim.ParallelPart()-part0).Seconds()/b.Elapsed().Seconds(), "serial-share")
}

// cpuSeconds returns the process's user and system CPU time so far.
func cpuSeconds(b *testing.B) float64 {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		b.Fatal(err)
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano()).Seconds()
}
