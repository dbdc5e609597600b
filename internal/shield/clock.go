package shield

import "time"

// Clock is the shield's source of time: request timing, ban expiry, log
// sampling, series bins and tarpit holds all read it, so tests can drive
// them without sleeping. The zero Options use the system clock.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f in its own goroutine once d has passed and returns
	// a function that cancels the call if it has not started.
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

// systemClock is Clock on the wall clock.
type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

func (systemClock) AfterFunc(d time.Duration, f func()) func() bool {
	return time.AfterFunc(d, f).Stop
}
