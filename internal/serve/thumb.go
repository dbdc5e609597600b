package serve

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/wormlab/wormlab/internal/scenario"
	"github.com/wormlab/wormlab/internal/simrun"
)

// Thumbnails are the infected share over a built-in's run with seed 1,
// drawn as an SVG polyline of at most thumbPoints points, made once per
// process. A built-in whose run takes longer than thumbBudget (Code Red
// v1's probe engine takes tens of seconds) gets a placeholder instead,
// also kept, so the gallery never waits on it again. Waiting for a run
// slot does not count against the budget; past thumbWait the gallery
// gets a 503 and asks again on its next load.
const (
	thumbW, thumbH = 240, 80
	thumbPoints    = 120
	thumbBudget    = 10 * time.Second
	thumbWait      = 30 * time.Second
)

type thumbCache struct {
	mu  sync.Mutex
	svg map[string][]byte
	// busy holds a channel per thumbnail being made, closed when it is.
	busy map[string]chan struct{}
}

func newThumbCache() *thumbCache {
	return &thumbCache{svg: map[string][]byte{}, busy: map[string]chan struct{}{}}
}

func (s *Server) handleThumb(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if !isBuiltin(name) {
		s.fail(w, r, &requestError{Status: http.StatusNotFound, Msg: fmt.Sprintf("no built-in scenario %q", printable(name))})
		return
	}
	svg, err := s.thumbnail(r.Context(), name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Write(svg)
}

// thumbnail returns name's thumbnail, making it if no other request is.
// The run goes on when the asking browser leaves, so the next one finds
// it made.
func (s *Server) thumbnail(ctx context.Context, name string) ([]byte, error) {
	t := s.thumbs
	for {
		t.mu.Lock()
		if b, ok := t.svg[name]; ok {
			t.mu.Unlock()
			return b, nil
		}
		ch, making := t.busy[name]
		if !making {
			ch = make(chan struct{})
			t.busy[name] = ch
			t.mu.Unlock()
			b, err := s.makeThumbnail(name)
			t.mu.Lock()
			if err == nil {
				t.svg[name] = b
			}
			delete(t.busy, name)
			close(ch)
			t.mu.Unlock()
			return b, err
		}
		t.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
	}
}

func (s *Server) makeThumbnail(name string) ([]byte, error) {
	sc, err := scenario.Builtin(name)
	if err != nil {
		return nil, err
	}
	wait, cancelWait := context.WithTimeout(s.background, thumbWait)
	defer cancelWait()
	release, err := s.jobs.acquire(wait)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, errBusy // not kept: the next gallery tries again
		}
		return nil, err
	}
	defer release()
	ctx, cancel := context.WithTimeout(s.background, thumbBudget)
	defer cancel()
	began := time.Now()
	rec, _, _, err := simrun.Run(sc, 1, "", ctx.Done())
	s.metrics.observeRun("thumbnail", time.Since(began), err)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return placeholderSVG("takes a while to run: open it"), nil
		}
		return nil, err
	}
	n := len(rec.Series)
	pop := float64(max(rec.Summary.Population, 1))
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img">`, thumbW, thumbH, thumbW, thumbH)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#f6f6f2"/><polyline fill="none" stroke="#b3261e" stroke-width="2" points="`, thumbW, thumbH)
	step := max(1, (n+thumbPoints-1)/thumbPoints)
	for i := 0; i < n; i += step {
		x := float64(i) / float64(max(n-1, 1)) * (thumbW - 4)
		y := (1 - float64(rec.Series[i].Infected)/pop) * (thumbH - 4)
		fmt.Fprintf(&b, "%.1f,%.1f ", x+2, y+2)
	}
	last := rec.Series[n-1]
	fmt.Fprintf(&b, "%.1f,%.1f", float64(thumbW-2), (1-float64(last.Infected)/pop)*(thumbH-4)+2)
	b.WriteString(`"/></svg>`)
	return []byte(b.String()), nil
}

func placeholderSVG(text string) []byte {
	return fmt.Appendf(nil, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img">`+
		`<rect width="%d" height="%d" fill="#f6f6f2"/><text x="%d" y="%d" font-family="sans-serif" font-size="13" text-anchor="middle" fill="#555">%s</text></svg>`,
		thumbW, thumbH, thumbW, thumbH, thumbW, thumbH, thumbW/2, thumbH/2+4, text)
}
