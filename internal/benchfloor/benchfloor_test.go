package benchfloor

import (
	"testing"
	"time"
)

// The floor runs as often as the operation and outside the benchmark's
// time: an operation that sleeps against a floor that does not gives the
// benchmark its own time and the floor a fraction of it.
func TestAlternate(t *testing.T) {
	var ops, floors int
	var opTime, floorTime time.Duration
	r := testing.Benchmark(func(b *testing.B) {
		ops, floors = 0, 0
		opTime, floorTime = Alternate(b, 7, func() {
			ops++
			time.Sleep(50 * time.Microsecond)
		}, func() { floors++ })
	})
	if ops != r.N || floors != r.N {
		t.Fatalf("%d ops and %d floors in a run of %d", ops, floors, r.N)
	}
	if opTime > r.T || opTime < r.T/2 {
		t.Errorf("op timed %v of the benchmark's %v", opTime, r.T)
	}
	if floorTime >= opTime/2 {
		t.Errorf("floor %v against op %v: timed with it", floorTime, opTime)
	}
}
