package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/term"
)

// progress is a one-line count of finished runs on a terminal, redrawn at
// most every redrawEvery and erased when the work ends. It replaces a
// progress-bar library whose package initialisation (colour tables and
// regular expressions) every command paid for at start-up, `wormlab
// version` included.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	total int
	began time.Time
	drawn time.Time // when the line was last drawn
	width int       // characters on the line now, to erase
}

const redrawEvery = 100 * time.Millisecond

// newProgressBar returns a count of total runs on w, or nil when w is not a
// terminal: logs and batch jobs get no control characters.
func newProgressBar(w io.Writer, total int) *progress {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return &progress{w: w, total: total, began: time.Now()}
}

// Set shows done of the total runs finished, with the time left at the
// pace so far. It is safe for concurrent use.
func (p *progress) Set(done int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if done < p.total && now.Sub(p.drawn) < redrawEvery {
		return
	}
	p.drawn = now
	line := fmt.Sprintf("runs %3d%% (%d/%d)", 100*done/max(p.total, 1), done, p.total)
	if done > 0 && done < p.total {
		left := time.Duration(float64(now.Sub(p.began)) * float64(p.total-done) / float64(done))
		line += fmt.Sprintf(", about %v left", left.Round(time.Second))
	}
	p.redraw(line)
}

// Clear erases the line.
func (p *progress) Clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.redraw("")
	fmt.Fprint(p.w, "\r")
}

// redraw writes line over the one drawn before, padding with spaces what
// the old line had beyond it.
func (p *progress) redraw(line string) {
	fmt.Fprintf(p.w, "\r%-*s", p.width, line)
	p.width = len(line)
}
