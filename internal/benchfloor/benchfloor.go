// Package benchfloor times a benchmark's operation against its floor, the
// least work any implementation of it must do, so that the two see the same
// machine: on a shared machine the load of others moves within a second,
// and a floor timed once, before or after, can catch a moment the
// operation never saw.
package benchfloor

import (
	"testing"
	"time"
)

// Alternate runs op b.N times, timed, in chunks of chunk alternated with as
// many untimed runs of floor, and returns the time op and floor took in all.
// It resets b's timer first.
func Alternate(b *testing.B, chunk int, op, floor func()) (opTime, floorTime time.Duration) {
	b.ResetTimer()
	for i := 0; i < b.N; i += chunk {
		n := min(chunk, b.N-i)
		start := time.Now()
		for range n {
			op()
		}
		opTime += time.Since(start)
		b.StopTimer()
		start = time.Now()
		for range n {
			floor()
		}
		floorTime += time.Since(start)
		b.StartTimer()
	}
	return opTime, floorTime
}
