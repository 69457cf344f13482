package inproc

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/kmsless/kmsless/core"
)

// Nonces remembers signature nonces in process memory, at most max of them. When
// full it refuses new nonces rather than forget live ones, so a flood of requests
// cannot push a captured nonce out and make its replay succeed.
type Nonces struct {
	// now is monotonic, or a test's clock.
	now  func() time.Duration
	max  int
	mu   sync.Mutex
	seen map[string]time.Duration
	// sweepAt is when expired entries are next swept.
	sweepAt time.Duration
}

// ErrFull is returned by Use when the memory holds max live nonces: the service
// is unavailable for signed requests until some expire.
var ErrFull = fmt.Errorf("nonce memory is full: %w", core.ErrUnavailable)

// NewNonces returns a nonce memory holding at most max live nonces.
func NewNonces(max int) *Nonces {
	return &Nonces{now: monotonic, max: max, seen: make(map[string]time.Duration)}
}

// Use implements core.NonceStore.
func (n *Nonces) Use(_ context.Context, nonce string, ttl time.Duration) (bool, error) {
	now := n.now()
	n.mu.Lock()
	defer n.mu.Unlock()
	if exp, ok := n.seen[nonce]; ok && now < exp {
		return false, nil
	}
	if len(n.seen) >= n.max || now > n.sweepAt {
		for k, exp := range n.seen {
			if now >= exp {
				delete(n.seen, k)
			}
		}
		n.sweepAt = now + time.Minute
		if len(n.seen) >= n.max {
			return false, ErrFull
		}
	}
	n.seen[nonce] = now + ttl
	return true, nil
}
