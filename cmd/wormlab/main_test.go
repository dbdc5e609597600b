package main

import (
	"bytes"
	"context"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the transcript files with the current output")

// wallTime hides the one line of output that differs from run to run.
var wallTime = regexp.MustCompile(`wall time [0-9.µmsh]+`)

// TestTranscripts runs each testdata/transcripts/*.txt. A transcript may
// start with setup lines ("$ mkfifo P", "$ ln -s TARGET P", "$ cp SRC P",
// "$ mkdir P", "$ touch P"); then comes "$ wormlab ARGS" (words split as a
// shell would, with ” or "" for an empty one), a line "exit N", the exact
// standard output and, after a line "--- stderr", the exact standard
// error. $TMP in any line is a fresh temporary directory; a transcript
// that uses it ends with "--- files in $TMP", the directory's entries
// after the run, so that "nothing written" is checked too.
func TestTranscripts(t *testing.T) {
	files, _ := filepath.Glob("testdata/transcripts/*.txt")
	if len(files) == 0 {
		t.Fatal("no transcripts")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			text := string(src)
			usesTmp := strings.Contains(text, "$TMP")
			tmp := t.TempDir()
			var setup []string
			for strings.HasPrefix(text, "$ ") && !strings.HasPrefix(text, "$ wormlab ") {
				line, rest, _ := strings.Cut(text, "\n")
				setup = append(setup, line)
				runSetup(t, strings.ReplaceAll(line, "$TMP", tmp))
				text = rest
			}
			lines := strings.SplitN(text, "\n", 3)
			if len(lines) < 3 || !strings.HasPrefix(lines[0], "$ wormlab ") || !strings.HasPrefix(lines[1], "exit ") {
				t.Fatalf("%s: want '$ wormlab ARGS' and 'exit N' lines after the setup", f)
			}
			args := shellWords(t, strings.ReplaceAll(strings.TrimPrefix(lines[0], "$ wormlab "), "$TMP", tmp))
			wantCode, _ := strconv.Atoi(strings.TrimPrefix(lines[1], "exit "))
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), args, &stdout, &stderr)
			got := stdout.String()
			if stderr.Len() > 0 {
				got += "--- stderr\n" + stderr.String()
			}
			got = wallTime.ReplaceAllString(got, "wall time X")
			if usesTmp {
				got = strings.ReplaceAll(got, tmp, "$TMP") + "--- files in $TMP\n" + listDir(t, tmp)
			}
			if *update {
				head := strings.Join(append(setup, lines[0]), "\n")
				os.WriteFile(f, []byte(head+"\nexit "+strconv.Itoa(code)+"\n"+got), 0o644)
				return
			}
			if code != wantCode {
				t.Errorf("exit %d, want %d (stderr %q)", code, wantCode, stderr.String())
			}
			if got != lines[2] {
				t.Errorf("output differs:\n--- got\n%s\n--- want\n%s", got, lines[2])
			}
		})
	}
}

// runSetup does one setup line of a transcript.
func runSetup(t *testing.T, line string) {
	t.Helper()
	w := shellWords(t, strings.TrimPrefix(line, "$ "))
	var err error
	switch {
	case len(w) == 2 && w[0] == "mkfifo":
		err = syscall.Mkfifo(w[1], 0o644)
	case len(w) == 4 && w[0] == "ln" && w[1] == "-s":
		err = os.Symlink(w[2], w[3])
	case len(w) == 3 && w[0] == "cp":
		var b []byte
		if b, err = os.ReadFile(w[1]); err == nil {
			err = os.WriteFile(w[2], b, 0o644)
		}
	case len(w) == 2 && w[0] == "mkdir":
		err = os.Mkdir(w[1], 0o755)
	case len(w) == 2 && w[0] == "touch":
		err = os.WriteFile(w[1], nil, 0o644)
	default:
		t.Fatalf("setup %q: want mkfifo, ln -s, cp, mkdir or touch", line)
	}
	if err != nil {
		t.Fatalf("setup %q: %v", line, err)
	}
}

// shellWords splits s at spaces, keeping '...' and "..." together (without
// escapes), so that ” is an empty word.
func shellWords(t *testing.T, s string) []string {
	t.Helper()
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		t.Fatalf("unclosed quote in %q", s)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// listDir lists dir's entries, one a line, each with what it is when it is
// not a regular file: "name/", "name -> target", "name (fifo)", "name
// (character device)". Temporary files of an unfinished write show up
// under their own names.
func listDir(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range entries {
		b.WriteString(e.Name())
		switch m := e.Type(); {
		case m.IsDir():
			b.WriteString("/")
		case m&fs.ModeSymlink != 0:
			target, _ := os.Readlink(filepath.Join(dir, e.Name()))
			b.WriteString(" -> " + strings.ReplaceAll(target, dir, "$TMP"))
		case m&fs.ModeNamedPipe != 0:
			b.WriteString(" (fifo)")
		case m&fs.ModeCharDevice != 0:
			b.WriteString(" (character device)")
		}
		b.WriteString("\n")
	}
	return b.String()
}

// tinyScenario is a fast scenario both engines can run.
const tinyScenario = `name = "tiny"
description = "a small uniform worm"
[run]
start = 2001-07-19T10:00:00Z
end = 2001-07-19T11:00:00Z
step = "1m"
[space]
bits = 16
[population]
size = 300
[worm]
scan_rate = 20.0
initial_infected = 2
`

func TestDeterministicOutputs(t *testing.T) {
	dir := t.TempDir()
	scen := filepath.Join(dir, "tiny.toml")
	os.WriteFile(scen, []byte(tinyScenario), 0o644)
	for _, engine := range []string{"event", "probe"} {
		var outs [2][2][]byte
		for i := range 2 {
			csv := filepath.Join(dir, engine+strconv.Itoa(i)+".csv")
			js := filepath.Join(dir, engine+strconv.Itoa(i)+".json")
			var so, se bytes.Buffer
			if code := run(context.Background(), []string{"simulate", "-f", scen, "--engine", engine, "--seed", "7", "--csv", csv, "--json", js, "-q"}, &so, &se); code != 0 {
				t.Fatalf("%s: exit %d: %s", engine, code, se.String())
			}
			outs[i][0], _ = os.ReadFile(csv)
			outs[i][1], _ = os.ReadFile(js)
		}
		if !bytes.Equal(outs[0][0], outs[1][0]) || !bytes.Equal(outs[0][1], outs[1][1]) {
			t.Errorf("%s: same seed, different outputs", engine)
		}
		if !bytes.HasPrefix(outs[0][0], []byte("minute,utc,susceptible,infected,patched,removed,new_infections,probes\n0,2001-07-19T10:00:00Z,298,2,0,0,0,0\n")) {
			t.Errorf("%s: CSV starts %q", engine, outs[0][0][:min(120, len(outs[0][0]))])
		}
		if !bytes.Contains(outs[0][1], []byte(`"schema": "wormlab.run/v1"`)) {
			t.Errorf("%s: JSON lacks the schema", engine)
		}
	}
}

// TestShowReadsBack checks that `scenarios show` prints a file that -f
// reads back to the same run, byte for byte.
func TestShowReadsBack(t *testing.T) {
	dir := t.TempDir()
	var shown, se bytes.Buffer
	if code := run(context.Background(), []string{"scenarios", "show", "codered-v2-2001-07-19"}, &shown, &se); code != 0 {
		t.Fatal(se.String())
	}
	file := filepath.Join(dir, "shown.toml")
	os.WriteFile(file, shown.Bytes(), 0o644)
	a, b := filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json")
	for _, args := range [][]string{
		{"simulate", "--seed", "3", "--json", a, "-q"},
		{"simulate", "-f", file, "--seed", "3", "--json", b, "-q"},
	} {
		if code := run(context.Background(), args, &bytes.Buffer{}, &se); code != 0 {
			t.Fatalf("%v: %s", args, se.String())
		}
	}
	ja, _ := os.ReadFile(a)
	jb, _ := os.ReadFile(b)
	if !bytes.Equal(ja, jb) {
		t.Error("the shown scenario, read back with -f, gives a different run")
	}
}

func TestBadScenarioLeavesNoOutput(t *testing.T) {
	dir := t.TempDir()
	scen := filepath.Join(dir, "bad.toml")
	os.WriteFile(scen, []byte(strings.Replace(tinyScenario, "scan_rate = 20.0", "scan_rate = -1.0", 1)), 0o644)
	csv := filepath.Join(dir, "out.csv")
	var so, se bytes.Buffer
	code := run(context.Background(), []string{"simulate", "-f", scen, "--csv", csv}, &so, &se)
	if code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	want := "wormlab: " + scen + ":12: worm.scan_rate: -1: want a positive number of probes a second (at most 1e7)\n"
	if se.String() != want {
		t.Errorf("stderr %q, want %q", se.String(), want)
	}
	if _, err := os.Stat(csv); !os.IsNotExist(err) {
		t.Error("an output file was left behind")
	}
}

func TestLayoutFile(t *testing.T) {
	var so, se bytes.Buffer
	if code := run(context.Background(), []string{"simulate", "-f", "testdata/layout/good.toml"}, &so, &se); code != 0 {
		t.Fatalf("good layout: exit %d: %s", code, se.String())
	}
	if !strings.Contains(so.String(), "population 105 vulnerable hosts") {
		t.Errorf("good layout summary:\n%s", so.String())
	}
	out := filepath.Join(t.TempDir(), "out.csv")
	se.Reset()
	code := run(context.Background(), []string{"simulate", "-f", "testdata/layout/bad.toml", "--csv", out}, &so, &se)
	want := "wormlab: testdata/layout/bad.csv:3: prefix 24.0.0.0/8 overlaps 24.0.0.0/16 of line 2\n"
	if code != 2 || se.String() != want {
		t.Errorf("bad layout: exit %d, stderr %q; want 2, %q", code, se.String(), want)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Error("output written despite the bad layout")
	}
}
