package serve

import (
	"context"
	"errors"
	"sync/atomic"
)

// errBusy is a request turned away because the queue is full.
var errBusy = errors.New("the lab is busy: too many runs are waiting; try again in a moment")

// queue bounds the simulations under way: one slot a core, so a run holds
// a core and a burst of requests waits instead of slowing every run down.
// Past maxWaiting waiting requests it refuses at once, so that memory stays
// bounded under load.
type queue struct {
	slots      chan struct{}
	waiting    atomic.Int64
	maxWaiting int64
	onChange   func(running, waiting int)
}

// newQueue returns a queue of slots runs at once and at most maxWaiting
// requests waiting or starting (at least slots).
func newQueue(slots, maxWaiting int) *queue {
	slots = max(slots, 1)
	return &queue{slots: make(chan struct{}, slots), maxWaiting: int64(max(maxWaiting, slots))}
}

// acquire waits for one slot; it returns the function that gives it back,
// or ctx's error, or errBusy.
func (q *queue) acquire(ctx context.Context) (func(), error) {
	_, release, err := q.acquireUpTo(ctx, 1)
	return release, err
}

// acquireUpTo waits for one slot, then takes up to want-1 more that are
// free at once: an ensemble runs on what the other users leave.
func (q *queue) acquireUpTo(ctx context.Context, want int) (int, func(), error) {
	if q.waiting.Add(1) > q.maxWaiting {
		q.waiting.Add(-1)
		return 0, nil, errBusy
	}
	q.changed()
	select {
	case q.slots <- struct{}{}:
	case <-ctx.Done():
		q.waiting.Add(-1)
		q.changed()
		return 0, nil, context.Cause(ctx)
	}
	q.waiting.Add(-1)
	got := 1
	for got < want {
		select {
		case q.slots <- struct{}{}:
			got++
			continue
		default:
		}
		break
	}
	q.changed()
	var once atomic.Bool
	return got, func() {
		if once.Swap(true) {
			return
		}
		for range got {
			<-q.slots
		}
		q.changed()
	}, nil
}

func (q *queue) changed() {
	if q.onChange != nil {
		q.onChange(len(q.slots), int(q.waiting.Load()))
	}
}
