package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain lets the test binary stand in for wormlab itself, with main's
// signal handling, when a test starts it with WORMLAB_MAIN=1.
func TestMain(m *testing.M) {
	if os.Getenv("WORMLAB_MAIN") == "1" {
		main()
	}
	os.Exit(m.Run())
}

// startWormlab starts wormlab args as a child process in dir, with stdin
// as given (nil: /dev/null).
func startWormlab(t *testing.T, dir string, stdin *os.File, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "WORMLAB_MAIN=1")
	if stdin != nil {
		cmd.Stdin = stdin
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &stderr
}

// TestSignals starts long runs of each command that can take long, sends
// SIGINT or SIGTERM, and checks that each stops within the second the issue
// asks, exits 130 or 143 with one line saying what stopped, and leaves
// nothing in its directory.
//
// The second is counted in the child's CPU time after the signal, not in
// wall time: on a shared machine at load 25 a child that stops at its next
// check can still wait seconds for a core, while a child that misses the
// signal keeps computing and spends its CPU whatever the load. Wall time
// keeps a loose bound (eight seconds; a child still alive at fifteen is
// killed) for a child that stops computing but hangs.
func TestSignals(t *testing.T) {
	if testing.Short() {
		t.Skip("starts long runs")
	}
	daySeries, _ := filepath.Abs("testdata/fit/day-series.csv")
	longScenario, _ := filepath.Abs("testdata/scenarios/long.toml")
	cases := []struct {
		name  string
		args  []string
		stdin bool // a pipe that never delivers a byte
	}{
		// The probe engine sends Code Red's 5.7e10 probes one by one: minutes.
		{"simulate", []string{"simulate", "--engine", "probe", "--json", "run.json", "--csv", "run.csv"}, false},
		{"simulate --runs", []string{"simulate", "--scenario", "codered-v2-july-august-2001", "--runs", "50", "--workers", "1", "--json", "bands.json"}, false},
		// 10,000 bootstrap outbreaks of the observed day: about ten minutes.
		{"fit --model sim", []string{"fit", "--model", "sim", "--boot", "10000", "--csv", "curve.csv", daySeries}, false},
		// Four million hosts over sixty days: about five seconds.
		{"forecast", []string{"forecast", "-f", longScenario, "--block", "24.0.0.0/8", "--json", "load.json"}, false},
		{"detect", []string{"detect", "--json", "d.json", "--series", "d.csv", "-"}, true},
		// A FIFO that no one writes: opening the input blocks.
		{"report", []string{"report", "-o", "r.html", "../in.fifo"}, false},
		{"merge", []string{"merge", "-o", "e.json", "../in.fifo"}, false},
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		name := map[syscall.Signal]string{syscall.SIGINT: "SIGINT", syscall.SIGTERM: "SIGTERM"}[sig]
		for _, c := range cases {
			t.Run(name+"/"+c.name, func(t *testing.T) {
				root := t.TempDir()
				dir := filepath.Join(root, "work")
				os.Mkdir(dir, 0o755)
				if err := syscall.Mkfifo(filepath.Join(root, "in.fifo"), 0o644); err != nil {
					t.Fatal(err)
				}
				var stdin *os.File
				if c.stdin {
					r, w, err := os.Pipe()
					if err != nil {
						t.Fatal(err)
					}
					defer w.Close() // held open: the reader blocks
					defer r.Close()
					stdin = r
				}
				cmd, stderr := startWormlab(t, dir, stdin, c.args...)
				time.Sleep(time.Second) // past start-up and into the work
				cpuAtSignal, cpuKnown := childCPU(cmd.Process.Pid)
				sent := time.Now()
				cmd.Process.Signal(sig)
				// A child that ignores the signal is killed, so that the
				// test fails instead of waiting for the run to end.
				kill := time.AfterFunc(15*time.Second, func() { cmd.Process.Kill() })
				err := cmd.Wait()
				kill.Stop()
				took := time.Since(sent)
				var exit *exec.ExitError
				if !errors.As(err, &exit) {
					t.Fatalf("wait: %v (stderr %q)", err, stderr.String())
				}
				want := 128 + int(sig)
				if got := exit.ExitCode(); got != want {
					t.Errorf("exit status %d, want %d (stderr %q)", got, want, stderr.String())
				}
				cmdName := strings.SplitN(c.name, " ", 2)[0]
				if line := "wormlab: " + cmdName + " stopped by " + name + "; nothing written\n"; !strings.HasSuffix(stderr.String(), line) {
					t.Errorf("stderr %q, want it to end with %q", stderr.String(), line)
				}
				cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime() - cpuAtSignal
				if cpuKnown && cpu > time.Second {
					t.Errorf("spent %v of CPU after the signal, want within a second", cpu.Round(time.Millisecond))
				}
				if took > 8*time.Second {
					t.Errorf("stopped %v after the signal, want within eight seconds of wall time", took.Round(time.Millisecond))
				}
				t.Logf("stopped %v (%v of CPU) after %s", took.Round(time.Millisecond), cpu.Round(time.Millisecond), name)
				if entries, _ := os.ReadDir(dir); len(entries) != 0 {
					var names []string
					for _, e := range entries {
						names = append(names, e.Name())
					}
					t.Errorf("left behind: %v", names)
				}
			})
		}
	}
}

// childCPU is the user and system CPU time a running process has used so
// far, from /proc/PID/stat (fields 14 and 15, in clock ticks of 1/100 s,
// the USER_HZ every Linux port uses). ok is false where /proc is missing.
func childCPU(pid int) (cpu time.Duration, ok bool) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, false
	}
	// The command name in field 2 may hold spaces; the fields after its
	// closing parenthesis are plain numbers, field 3 first.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, false
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(utime+stime) * (time.Second / 100), true
}
