// Package linear checks, for tests, that work done on input whose size a
// caller chooses grows linearly with it. Work is counted in allocations and
// allocated bytes, which unlike time do not depend on the machine.
package linear

import (
	"fmt"
	"math"
	"runtime"
	"strings"
	"testing"
)

// Check fails t unless running run on an input of 10n elements costs at most
// 30 times what an input of n costs: linear work grows ten times, up to
// twenty with maps and buffers that grow by doubling, while work that went
// back over earlier elements for each new one would grow about a hundred
// times. run must accept the input of n elements.
func Check(t testing.TB, name string, n int, build func(n int) []byte, run func([]byte) error) {
	t.Helper()
	small, large := build(n), build(10*n)
	if err := run(small); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	a1, b1, a10, b10 := costs(small, large, run)
	t.Logf("%s: x%.1f allocations, x%.1f bytes for ten times the elements", name, float64(a10)/float64(a1), float64(b10)/float64(b1))
	if a10 > 30*a1 || b10 > 30*b1 {
		t.Errorf("%s: %d elements cost %d allocations (%d B), %d cost %d (%d B): more than linear", name, n, a1, b1, 10*n, a10, b10)
	}
}

// Superlinear is Check's measure for inputs run may refuse, as a fuzz target
// builds them: it reports, with the costs, whether run on build(10n) costs more
// than 30 times what it costs on build(n), and build(100n) more than 30 times
// what build(10n) does. Refusing an input costs work too. The second step is
// there for refusals: a reader that takes its input a chunk at a time (YAML's
// takes 512 bytes) refuses a bad byte at once in a small input and only after
// parsing the first chunks of a larger one, a steep first step that work
// growing faster than its input repeats at the next.
func Superlinear(n int, build func(n int) []byte, run func([]byte) error) (bool, string) {
	steep, costs := steeper(n, build, run)
	if !steep {
		return false, costs
	}
	steep, next := steeper(10*n, build, run)
	return steep, costs + "; " + next
}

func steeper(n int, build func(n int) []byte, run func([]byte) error) (bool, string) {
	a1, b1, a10, b10 := costs(build(n), build(10*n), run)
	a1, b1 = max(a1, 1), max(b1, 1) // an input refused at once costs nothing
	return a10 > 30*a1 || b10 > 30*b1, fmt.Sprintf("%d elements cost %d allocations (%d B), %d cost %d (%d B)", n, a1, b1, 10*n, a10, b10)
}

// Repeat builds, for Check and Superlinear, the input of n copies of member
// joined by sep between prefix and suffix, each copy with its "#" replaced
// by its index, so that copies that must differ (names, keys) do.
func Repeat(prefix, member, sep, suffix string) func(n int) []byte {
	return func(n int) []byte {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = strings.ReplaceAll(member, "#", fmt.Sprintf("%06d", i))
		}
		return []byte(prefix + strings.Join(parts, sep) + suffix)
	}
}

func costs(small, large []byte, run func([]byte) error) (a1, b1, a10, b10 uint64) {
	a1, b1 = work(func() { _ = run(small) })
	a10, b10 = work(func() { _ = run(large) })
	return a1, b1, a10, b10
}

// work counts the allocations and allocated bytes of one call of f. The
// counters are the whole process's, so a goroutine an earlier test left
// running, or a pooled buffer the collector dropped, can add to a call's
// count but never take from it: the least of five calls is the call's own
// work.
func work(f func()) (allocs, bytes uint64) {
	f() // warm up: one-time initialisation is not the call's own work
	allocs, bytes = math.MaxUint64, math.MaxUint64
	for range 5 {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		f()
		runtime.ReadMemStats(&after)
		allocs = min(allocs, after.Mallocs-before.Mallocs)
		bytes = min(bytes, after.TotalAlloc-before.TotalAlloc)
	}
	return allocs, bytes
}
