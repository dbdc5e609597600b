package detect

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a strings.Builder safe for the follower's goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// logLine is a combined-format line at minute min past 10:00 on 19
// September 2001 (after Nimda's start) from 10.0.0.src.
func logLine(min, src int, target string) string {
	return fmt.Sprintf("10.0.0.%d - - [19/Sep/2001:10:%02d:00 +0000] \"GET %s HTTP/1.0\" 404 1 \"-\" \"-\"\n", src, min, target)
}

func appendFile(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// TestFollow appends to a log, rotates it by rename (logrotate's default)
// and by truncation (copytruncate), and checks the line printed for each
// 10-minute bin. The ticks are sent by hand: each send waits until the
// follower is back waiting, so a second tick means the first poll is done.
func TestFollow(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "access.log")
	const cr2 = "/default.ida?XXXX%u9090"
	const nimda = "/scripts/root.exe?/c+dir"
	appendFile(t, path, logLine(1, 1, cr2)+logLine(2, 2, "/")+logLine(3, 1, cr2))

	tick := make(chan time.Time)
	var out syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Follow(ctx, path, Config{Families: []string{"codered2", "nimda"}}, FollowOptions{Tick: tick}, &out)
	}()
	poll := func() { tick <- time.Time{}; tick <- time.Time{} }
	want := ""
	check := func(step string) {
		t.Helper()
		if got := out.String(); got != want {
			t.Fatalf("after %s:\n got %q\nwant %q", step, got, want)
		}
	}

	poll()
	check("the first read: bin 10:00 is still open")

	// A line of the next bin closes 10:00. A partial line (no newline
	// yet) waits for its end.
	appendFile(t, path, logLine(12, 3, nimda)+logLine(13, 4, cr2)[:20])
	poll()
	want += "2001-09-19T10:00:00Z requests=3 probes=2 sources=1 new=1 codered2=2 nimda=0\n"
	check("appending")

	// Rotation by rename: a line written to the old file after the rename
	// is still read, then the new file from its start.
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	appendFile(t, path+".1", logLine(13, 4, cr2)[20:]+logLine(14, 3, nimda))
	appendFile(t, path, logLine(21, 5, "/index.html")+logLine(22, 6, nimda))
	poll()
	want += "2001-09-19T10:10:00Z requests=3 probes=3 sources=2 new=2 codered2=1 nimda=2\n"
	check("rotation by rename")

	// copytruncate: the file shrinks and is read again from its start.
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	appendFile(t, path, logLine(31, 6, nimda))
	poll()
	want += "2001-09-19T10:20:00Z requests=2 probes=1 sources=1 new=1 codered2=0 nimda=1\n"
	check("truncation")

	cancel()
	if err := <-done; err != context.Canceled {
		t.Errorf("Follow returned %v, want context.Canceled", err)
	}
	want += "2001-09-19T10:30:00Z requests=1 probes=1 sources=1 new=0 codered2=0 nimda=1 (partial)\n"
	check("the end")
}

func TestFollowRefusesCompressed(t *testing.T) {
	err := Follow(context.Background(), "testdata/common-gz/input.log.gz", Config{}, FollowOptions{}, &syncBuffer{})
	if err == nil || !strings.Contains(err.Error(), "gzip content: --follow reads plain logs") {
		t.Errorf("error %v", err)
	}
}
