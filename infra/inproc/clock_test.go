package inproc

import (
	"sync"
	"time"
)

// fakeClock is a settable time source for the structs' now field.
type fakeClock struct {
	mu sync.Mutex
	d  time.Duration
}

func newFakeClock() *fakeClock {
	// Not zero, so that nothing passes only because "never set" reads as zero.
	return &fakeClock{d: 1000 * time.Hour}
}

func (c *fakeClock) Now() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.d
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.d += d
	c.mu.Unlock()
}
