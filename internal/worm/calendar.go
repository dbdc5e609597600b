package worm

import "time"

// Phase is what a copy does at a given moment.
type Phase uint8

const (
	Spread  Phase = iota // scanning for new hosts
	Flood                // sending its flood to a fixed target
	Dormant              // resident but idle
)

func (p Phase) String() string {
	switch p {
	case Spread:
		return "spread"
	case Flood:
		return "flood"
	default:
		return "dormant"
	}
}

// Calendar tells what a copy does by the (UTC) clock it reads.
type Calendar interface {
	// At returns the phase at t and the first instant after t at which the
	// phase may change (a zero time if it never does).
	At(t time.Time) (Phase, time.Time)
}

// Always is the calendar of a worm that spreads at all times.
type Always struct{}

func (Always) At(time.Time) (Phase, time.Time) { return Spread, time.Time{} }

// CodeRedI is Code Red I's calendar by the host's UTC date: spread on days
// 1-19 of a month, flood on days 20-27, dormant from the 28th to the end of
// the month [Moore, Shannon, Brown, IMW 2002; CERT CA-2001-23].
type CodeRedI struct{}

func (CodeRedI) At(t time.Time) (Phase, time.Time) {
	t = t.UTC()
	y, m, d := t.Date()
	day := func(n int) time.Time { return time.Date(y, m, n, 0, 0, 0, 0, time.UTC) }
	switch {
	case d < 20:
		return Spread, day(20)
	case d < 28:
		return Flood, day(28)
	default:
		return Dormant, time.Date(y, m+1, 1, 0, 0, 0, 0, time.UTC)
	}
}

// CodeRedIIStop is when Code Red II stops for good: its code checks the
// date and, from 1 October 2001, no longer spreads [Staniford, Paxson,
// Weaver 2002; eEye advisory AL20010804].
var CodeRedIIStop = time.Date(2001, 10, 1, 0, 0, 0, 0, time.UTC)

// Until is the calendar of a worm that spreads until Stop and is dormant
// from then on.
type Until struct{ Stop time.Time }

func (u Until) At(t time.Time) (Phase, time.Time) {
	if t.Before(u.Stop) {
		return Spread, u.Stop
	}
	return Dormant, time.Time{}
}
