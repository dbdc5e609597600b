package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// initCost is one package's initialisation as GODEBUG=inittrace=1 reports
// it: "init PKG @T ms, C ms clock, B bytes, A allocs".
type initCost struct {
	pkg           string
	bytes, allocs int
}

// TestStartupInitCost builds wormlab, runs `wormlab version` with
// GODEBUG=inittrace=1 and bounds what package initialisation allocates:
// Go runs every linked package's init before main, whatever the command,
// so anything heavy there (fonts, regular expressions, tables) is paid by
// `wormlab version` too. Allocations, not clock time, are bounded: they
// do not depend on how loaded the machine is.
//
// The bounds come from what remains (29 November 2026: 677 KB in 3,494
// allocations over 173 packages, nearly all of it in libraries whose init
// cannot be deferred: gonum/plot parses its fonts, 184 KB; Prometheus'
// client and procfs register collectors and compile expressions, 180 KB;
// the progress bar and its colour table, 25 KB). The environment moves the
// total by about 3 KB. A total above 700 KB fails, so a new init cost of
// 25 KB or more is caught (the report's old
// eager page template was 489 allocations, the fonts 184 KB). Each of
// wormlab's own packages must stay under 100 allocations and 16 KB: at
// most a few small tables (the largest, internal/version's build stamp,
// is 69 allocations; main compiling two expressions eagerly was 347).
func TestStartupInitCost(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build wormlab with")
	}
	exe := filepath.Join(t.TempDir(), "wormlab")
	build := exec.Command(goTool, "build", "-o", exe, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(exe, "version")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("wormlab version: %v\n%s", err, stderr.Bytes())
	}
	costs := parseInitTrace(t, stderr.Bytes())
	if len(costs) < 50 {
		t.Fatalf("inittrace reported %d packages; want the whole binary's", len(costs))
	}
	const (
		maxTotalBytes = 700_000
		maxOwnAllocs  = 100
		maxOwnBytes   = 16 << 10
	)
	var total, allocs int
	for _, c := range costs {
		total += c.bytes
		allocs += c.allocs
		own := c.pkg == "main" || strings.HasPrefix(c.pkg, "github.com/wormlab/wormlab/")
		if own && (c.allocs > maxOwnAllocs || c.bytes > maxOwnBytes) {
			t.Errorf("%s allocates %d bytes in %d allocations at init; want at most %d bytes and %d allocations: build it on first use (sync.OnceValue)",
				c.pkg, c.bytes, c.allocs, maxOwnBytes, maxOwnAllocs)
		}
	}
	t.Logf("%d packages allocate %d bytes in %d allocations at init", len(costs), total, allocs)
	if total > maxTotalBytes {
		t.Errorf("package initialisation allocates %d bytes; want at most %d (GODEBUG=inittrace=1 wormlab version shows who)", total, maxTotalBytes)
	}
}

func parseInitTrace(t *testing.T, trace []byte) []initCost {
	t.Helper()
	var costs []initCost
	sc := bufio.NewScanner(bytes.NewReader(trace))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 11 || f[0] != "init" || f[8] != "bytes," || f[10] != "allocs" {
			continue
		}
		b, err1 := strconv.Atoi(f[7])
		a, err2 := strconv.Atoi(f[9])
		if err1 != nil || err2 != nil {
			t.Fatalf("unreadable inittrace line %q", sc.Text())
		}
		costs = append(costs, initCost{pkg: f[1], bytes: b, allocs: a})
	}
	return costs
}
