package detect

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/wormlab/wormlab/internal/logsynth"
)

// BenchmarkCases runs the detector over each testdata case, as TestCases
// does.
func BenchmarkCases(b *testing.B) {
	dirs, _ := filepath.Glob("testdata/*")
	for _, dir := range dirs {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() || filepath.Base(dir) == "fuzz" {
			continue
		}
		var paths []string
		var size int64
		m, _ := filepath.Glob(filepath.Join(dir, "input*"))
		for _, p := range m {
			st, _ := os.Stat(p)
			size += st.Size()
			paths = append(paths, p)
		}
		b.Run(filepath.Base(dir), func(b *testing.B) {
			b.SetBytes(size)
			for b.Loop() {
				Run(context.Background(), paths, Config{})
			}
		})
	}
}

// BenchmarkThroughput reads a generated log, 100,000 lines repeated 10
// times from memory: the detector's own cost, without the page cache or
// the disk. The combined and IIS logs have 1% probes, combined-half 50%. The figure for docs/PERFORMANCE.md comes from the
// CLI on a 1 GiB file; this one is for profiling
// (go test -bench Throughput -cpuprofile cpu.out).
func BenchmarkThroughput(b *testing.B) {
	for _, c := range []struct {
		name, format string
		each         int // probes of each of the five kinds in 100,000 lines
	}{
		{"combined", logsynth.Combined, 200},
		{"iis-w3c", logsynth.IIS, 200},
		{"combined-half", logsynth.Combined, 10_000}, // half the lines probes, from 50,000 hosts
	} {
		var block bytes.Buffer
		kinds := map[string]int{}
		pools := map[string]int{}
		for _, k := range logsynth.Kinds {
			kinds[k], pools[k] = c.each, 10_000
		}
		if _, err := logsynth.Generate(&block, logsynth.Config{
			Format: c.format, Seed: 42, Start: time.Date(2001, 9, 19, 10, 0, 0, 0, time.UTC), Duration: 24 * time.Hour,
			Lines: 100_000, Probes: kinds, Sources: pools,
		}); err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(block.Len()) * 10)
			for b.Loop() {
				if _, err := Run(context.Background(), []string{"-"}, Config{Stdin: &repeatReader{data: block.Bytes(), n: 10}}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
