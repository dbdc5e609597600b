//go:build race

package detect

// raceEnabled: the race detector adds shadow memory, so memory figures
// are not measured under it.
const raceEnabled = true
