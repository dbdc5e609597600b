package sim

import "time"

// ParallelPart returns the time the parallel probe engine has spent so
// far drawing windows that more workers would share.
func ParallelPart() time.Duration { return time.Duration(parallelPart.Load()) }
