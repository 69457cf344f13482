package platform

import (
	"log/slog"
	"runtime"

	"go.uber.org/automaxprocs/maxprocs"
)

// SizeProcs sets GOMAXPROCS to the CPU quota of the cgroup the process runs
// in, as a container runtime sets it (docker run --cpus), rounded down and at
// least 1, unless the GOMAXPROCS variable says otherwise. Go's own sizing
// rounds up and never goes below 2: under a quota of one CPU, two threads
// spend the quota in the first half of each scheduling period and the
// process then stands still for the rest of it. Measured with
// `go run ./bench/cmd/loadgen -compare floor -cpus 1`: p99 14 ms with two,
// 3 ms with one, and a third more requests a second.
func SizeProcs(log *slog.Logger) {
	before := runtime.GOMAXPROCS(0)
	if _, err := maxprocs.Set(maxprocs.Logger(func(string, ...any) {})); err != nil {
		log.Warn("GOMAXPROCS left as Go set it: the CPU quota could not be read", slog.String("cause", err.Error()))
		return
	}
	if after := runtime.GOMAXPROCS(0); after != before {
		log.Info("GOMAXPROCS set to the CPU quota", slog.Int("gomaxprocs", after), slog.Int("was", before))
	}
}
