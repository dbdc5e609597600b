package worm

import (
	"fmt"
	"time"
)

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

func (CodeRedI) At(t time.Time) (Phase, time.Time) { return codeRedMonth.At(t) }

var codeRedMonth = Monthly{SpreadUntil: 20, FloodUntil: 28}

// Monthly is a calendar by the UTC day of the month: spread from the 1st
// until day SpreadUntil, flood from then until day FloodUntil, dormant
// from then to the month's end. Days run 1 to 32 (32: the month's end).
type Monthly struct {
	SpreadUntil, FloodUntil int
}

// Check reports whether m is a calendar: it must spread on some days.
func (m Monthly) Check() error {
	if m.SpreadUntil < 2 || m.SpreadUntil > m.FloodUntil || m.FloodUntil > 32 {
		return fmt.Errorf("worm: month calendar spreads until day %d and floods until day %d: want 2 <= spread <= flood <= 32, so that it spreads on some days", m.SpreadUntil, m.FloodUntil)
	}
	return nil
}

func (m Monthly) At(t time.Time) (Phase, time.Time) {
	t = t.UTC()
	y, mo, _ := t.Date()
	next := time.Date(y, mo+1, 1, 0, 0, 0, 0, time.UTC)
	day := func(n int) time.Time {
		if n > 31 {
			return next
		}
		if x := time.Date(y, mo, n, 0, 0, 0, 0, time.UTC); x.Before(next) {
			return x
		}
		return next
	}
	switch {
	case t.Before(day(m.SpreadUntil)):
		return Spread, day(m.SpreadUntil)
	case t.Before(day(m.FloodUntil)) && day(m.SpreadUntil).Before(day(m.FloodUntil)):
		return Flood, day(m.FloodUntil)
	default:
		return Dormant, next
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
