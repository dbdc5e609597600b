// Package raceflag tells tests whether the race detector is on, so that
// checks it invalidates (allocation counts: the detector allocates on its
// own) can skip under -race and run everywhere else.
package raceflag
