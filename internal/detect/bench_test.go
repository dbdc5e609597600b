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

// BenchmarkThroughput reads a generated combined log with 1% probes, 100,000
// lines repeated 10 times from memory: the detector's own cost, without the
// page cache or the disk. The figure for docs/PERFORMANCE.md comes from the
// CLI on a 1 GiB file; this one is for profiling
// (go test -bench Throughput -cpuprofile cpu.out).
func BenchmarkThroughput(b *testing.B) {
	for _, format := range []string{logsynth.Combined, logsynth.IIS} {
		var block bytes.Buffer
		if _, err := logsynth.Generate(&block, logsynth.Config{
			Format: format, Seed: 42, Start: time.Date(2001, 7, 19, 10, 0, 0, 0, time.UTC), Duration: 24 * time.Hour,
			Lines: 100_000, Probes: map[string]int{"codered1": 200, "codered2": 200, "codered-unknown": 200, "nimda-root-exe": 200, "nimda-cmd-exe": 200},
		}); err != nil {
			b.Fatal(err)
		}
		b.Run(format, func(b *testing.B) {
			b.SetBytes(int64(block.Len()) * 10)
			for b.Loop() {
				if _, err := Run(context.Background(), []string{"-"}, Config{Stdin: &repeatReader{data: block.Bytes(), n: 10}}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
