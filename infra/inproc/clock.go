package inproc

import "time"

// epoch carries a monotonic clock reading taken when the package loads.
var epoch = time.Now()

// monotonic is the time since epoch. Expiry and refill need only differences,
// and time.Since on a time with a monotonic reading reads that one clock where
// time.Now reads two (wall and monotonic): on the request path that halves the
// cost of telling the time, and wall-clock steps cannot move an expiry.
func monotonic() time.Duration { return time.Since(epoch) }
