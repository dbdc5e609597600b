package detect

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"testing"
)

// sourcesLog writes n probes of Code Red II from n distinct addresses,
// one a second from 19 July 2001 10:00 UTC, so that they fall in many
// bins, followed by m legitimate requests from one address.
type sourcesLog struct {
	n, i int
	buf  []byte
}

func (s *sourcesLog) Read(p []byte) (int, error) {
	for len(s.buf) < len(p) && s.i < s.n {
		a := uint32(0x18000000) + uint32(s.i)*2654435761%(1<<24) // distinct: the multiplier is odd
		t := 995536800 + int64(s.i)
		sec, min, hour := t%60, t/60%60, t/3600%24
		day := 19 + t/86400 - 995536800/86400
		s.buf = fmt.Appendf(s.buf, "%d.%d.%d.%d - - [%02d/Jul/2001:%02d:%02d:%02d +0000] \"GET /default.ida?XXXX%%u9090 HTTP/1.0\" 404 205\n",
			a>>24, a>>16&255, a>>8&255, a&255, day, hour, min, sec)
		s.i++
	}
	if len(s.buf) == 0 {
		return 0, io.EOF
	}
	n := copy(p, s.buf)
	s.buf = s.buf[:copy(s.buf, s.buf[n:])]
	return n, nil
}

// TestBytesPerSource measures the heap a detection holds per distinct
// source, each source with a pair of its own (one probe per source): the
// figure docs/PERFORMANCE.md quotes, bounded by issue 12's 150 bytes, for
// the 653,000 sources and for the worst count, one past the
// source table's growth to 2^21 slots (four fifths of 2^20, plus one).
func TestBytesPerSource(t *testing.T) {
	if raceEnabled || testing.Short() {
		t.Skip("memory is measured without the race detector, in the long test mode")
	}
	for _, n := range []int{653_000, 1<<20*4/5 + 1} {
		t.Run(fmt.Sprint(n), func(t *testing.T) { bytesPerSource(t, n) })
	}
}

func bytesPerSource(t *testing.T, n int) {
	heap := func() uint64 {
		var m runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before := heap()
	rep, err := Run(context.Background(), []string{"-"}, Config{Stdin: &sourcesLog{n: n}})
	if err != nil {
		t.Fatal(err)
	}
	after := heap()
	if rep.Totals.Sources != n {
		t.Fatalf("%d sources, want %d", rep.Totals.Sources, n)
	}
	// The report's own slices (a series of about 500 bins, top lists) are
	// a few kilobytes: what is left is the source table and the pair log.
	per := float64(after-before) / float64(n)
	t.Logf("%.0f bytes per distinct source (%d sources, %.1f MB)", per, n, float64(after-before)/1e6)
	if per > 150 {
		t.Errorf("%.0f bytes per source, want at most 150", per)
	}
	runtime.KeepAlive(rep)
}
