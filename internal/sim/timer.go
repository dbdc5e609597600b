package sim

// timerKind says what a timer does to its host.
type timerKind uint8

const (
	lifetimeEnd timerKind = iota // the copy's lifetime is over: reboot
	phaseCheck                   // the host's calendar may change phase
	wakeUp                       // a sleeping copy resumes spreading
	blacklistOn                  // the host's address is on the blacklist now
	contentOn                    // content filtering starts (host -1: every host)
)

// timer is a scheduled change to one host.
type timer struct {
	t     float64
	host  int32
	kind  timerKind
	since float64 // the infection it belongs to; stale once the host is reinfected or cured
}

func (a timer) before(b timer) bool {
	return a.t < b.t || (a.t == b.t && (a.host < b.host || (a.host == b.host && a.kind < b.kind)))
}

// timerHeap is a binary min-heap of timers by time, then host and kind, so
// that equal times pop in a fixed order. It is typed rather than built on
// container/heap, whose interface boxes every pushed value, and written
// out rather than generic, because a type parameter's methods are called
// indirectly, never inlined: one generic heap for this and hitHeap made
// the July-August run up to 8% slower (docs/PERFORMANCE.md, "A generic
// heap, measured and not adopted").
type timerHeap []timer

func (h timerHeap) empty() bool { return len(h) == 0 }
func (h timerHeap) top() timer  { return h[0] }

func (h *timerHeap) push(x timer) {
	*h = append(*h, x)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if !s[i].before(s[p]) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *timerHeap) pop() timer {
	s := *h
	x := s[0]
	last := len(s) - 1
	s[0] = s[last]
	s = s[:last]
	for i := 0; ; {
		l, small := 2*i+1, i
		if l < len(s) && s[l].before(s[small]) {
			small = l
		}
		if r := l + 1; r < len(s) && s[r].before(s[small]) {
			small = r
		}
		if small == i {
			break
		}
		s[i], s[small] = s[small], s[i]
		i = small
	}
	*h = s
	return x
}
