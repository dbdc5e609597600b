package main

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wormlab/wormlab/internal/ensemble"
)

// TestOutputsNeverReplaced points every kind of output flag at a symlink,
// a FIFO and a character device and checks that each is still what it was
// afterwards, with the bytes gone through it.
func TestOutputsNeverReplaced(t *testing.T) {
	tiny := "testdata/scenarios/tiny.toml"
	commands := map[string][]string{
		"simulate --csv":           {"simulate", "-f", tiny, "-q", "--csv"},
		"simulate --json":          {"simulate", "-f", tiny, "-q", "--json"},
		"simulate --report":        {"simulate", "-f", tiny, "-q", "--report"},
		"simulate --runs 2 --json": {"simulate", "-f", tiny, "-q", "--runs", "2", "--json"},
		"fit --csv":                {"fit", "testdata/fit/day-series.csv", "-q", "--csv"},
		"model logistic --csv":     {"model", "logistic", "-q", "--csv"},
	}
	for name, args := range commands {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()

			target := filepath.Join(dir, "target")
			link := filepath.Join(dir, "link")
			os.WriteFile(target, []byte("old"), 0o644)
			os.Symlink("target", link)
			mustRun(t, append(args, link))
			if fi, _ := os.Lstat(link); fi.Mode()&fs.ModeSymlink == 0 {
				t.Errorf("symlink replaced by a %v", fi.Mode())
			}
			if b, _ := os.ReadFile(target); len(b) < 20 {
				t.Errorf("the symlink's target holds %q", b)
			}

			fifo := filepath.Join(dir, "fifo")
			if err := syscall.Mkfifo(fifo, 0o644); err != nil {
				t.Fatal(err)
			}
			got := make(chan int)
			go func() {
				f, err := os.Open(fifo)
				if err != nil {
					got <- -1
					return
				}
				n, _ := io.Copy(io.Discard, f)
				f.Close()
				got <- int(n)
			}()
			mustRun(t, append(args, fifo))
			select {
			case n := <-got:
				if n < 20 {
					t.Errorf("the FIFO's reader got %d bytes", n)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the FIFO's reader got nothing in 10 s: the FIFO was not written")
			}
			if fi, _ := os.Lstat(fifo); fi.Mode()&fs.ModeNamedPipe == 0 {
				t.Errorf("FIFO replaced by a %v", fi.Mode())
			}

			null := filepath.Join(dir, "null")
			if err := syscall.Mknod(null, syscall.S_IFCHR|0o666, 1<<8|3); err != nil {
				t.Logf("SKIPPED the character-device case: cannot make /dev/null's twin here (%v)", err)
				return
			}
			mustRun(t, append(args, null))
			if fi, _ := os.Lstat(null); fi.Mode()&fs.ModeCharDevice == 0 {
				t.Errorf("character device replaced by a %v", fi.Mode())
			}
		})
	}
}

func mustRun(t *testing.T, args []string) {
	t.Helper()
	var so, se bytes.Buffer
	if code := run(context.Background(), args, &so, &se); code != 0 {
		t.Fatalf("%v: exit %d: %s", args, code, se.String())
	}
}

// TestEnsembleTooBig checks that an ensemble whose bands cannot fit in
// memory is refused before the first run, with the estimate; the figures
// depend on the machine, so only the shape is fixed.
func TestEnsembleTooBig(t *testing.T) {
	if _, ok := availableMemory(); !ok {
		t.Skip("no /proc/meminfo: the check is off")
	}
	out := filepath.Join(t.TempDir(), "e.json")
	var so, se bytes.Buffer
	code := run(context.Background(), []string{"simulate", "--runs", "100000000", "--json", out}, &so, &se)
	msg := se.String()
	if code != 2 || !strings.HasPrefix(msg, "wormlab: --runs: 100,000,000 runs need about ") ||
		!strings.Contains(msg, "iB of memory for their bands (") || !strings.Contains(msg, " fit here (") || strings.Count(msg, "\n") != 1 {
		t.Errorf("exit %d, stderr %q", code, msg)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("an output was written")
	}
}

// TestReleaseBuildStamps builds wormlab as the README's release build does
// and checks that `wormlab version` names the stamped version and commit.
func TestReleaseBuildStamps(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	bin := filepath.Join(t.TempDir(), "wormlab")
	build := exec.Command("go", "build", "-trimpath", "-o", bin,
		"-ldflags", "-X github.com/wormlab/wormlab/internal/version.Version=v9.8.7 -X github.com/wormlab/wormlab/internal/version.commit=0123abc", ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(out), "wormlab v9.8.7 (commit 0123abc)\n"; got != want {
		t.Errorf("version says %q, want %q", got, want)
	}
}

func TestShardSize(t *testing.T) {
	for _, c := range []struct{ index, count, runs int }{{0, 0, 7}, {0, 4, 7}, {3, 4, 7}, {2, 4, 2}, {1, 3, 1000}} {
		sh := ensemble.Shard{Index: c.index, Count: c.count}
		if got, want := shardSize(sh, c.runs), len(sh.Members(c.runs)); got != want {
			t.Errorf("shard %d/%d of %d runs: %d, want %d", c.index, c.count, c.runs, got, want)
		}
	}
}
