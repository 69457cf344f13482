package core

import (
	"context"
	"sync"
	"time"
)

// A key's use is what a successful cryptographic request does with it:
// each action marked usesKey in the action table, for every key it
// authorizes (ReEncrypt's two), and partition provisioning. DryRun uses
// nothing, and neither does a refused or failed request.
//
// Recording a use is a store write, so an instance records a key's use at
// most once in usageEvery: the first in each interval. The store's answer
// is then up to that much behind the key's true last use, and names the
// request that began the interval. A write that fails is not retried
// before the interval ends: a store that is down slows no request that
// the cache can serve.
const usageEvery = time.Minute

// maxUseMarks bounds the keys an instance remembers recording; past it the
// marks are forgotten, which costs each key one more write.
const maxUseMarks = 4096

// useMarks are the times this instance last recorded each key's use.
type useMarks struct {
	mu   sync.Mutex
	last map[string]time.Time
}

// due reports whether a use of key id at now is to be recorded, and if so
// marks it recorded.
func (m *useMarks) due(id string, now time.Time) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if t, ok := m.last[id]; ok && !now.Before(t) && now.Sub(t) < usageEvery {
		return false
	}
	if m.last == nil || len(m.last) >= maxUseMarks {
		m.last = make(map[string]time.Time)
	}
	m.last[id] = now
	return true
}

// markUsed notes that the request uses key id, if its action is one that
// uses keys; Handle records the use when the request succeeds.
func (c *call) markUsed(id string) {
	if !actionUsesKey[c.act] {
		return
	}
	switch {
	case c.used[0] == "" || c.used[0] == id:
		c.used[0] = id
	default:
		c.used[1] = id
	}
}

// recordUses records the uses of the keys a successful request marked.
func (s *Service) recordUses(ctx context.Context, c *call) {
	if s.usage == nil || c.used[0] == "" || c.dry {
		return
	}
	now := s.clock.Now()
	for _, id := range c.used {
		if id == "" || !s.marks.due(id, now) {
			continue
		}
		u := KeyUsage{Action: c.req.Action, At: now.UTC().Truncate(time.Millisecond), RequestID: c.req.ID}
		// A failed write is not the request's failure: the use is its
		// result's side note, and the next interval records it again.
		if err := s.usage.RecordKeyUsage(ctx, id, u); err != nil {
			s.useLost(ctx, id, err)
		}
	}
}

func (c *call) getKeyLastUsage() (any, error) {
	if c.s.usage == nil {
		return nil, Errorf(CodeInvalidParameter, "This service keeps no record of keys' uses: its store does not.")
	}
	t, err := c.resolve("KeyId")
	if err != nil {
		return nil, err
	}
	u, since, err := c.s.usage.KeyUsage(c.ctx, t.key.ID)
	if err != nil {
		return nil, storeErr(err)
	}
	created := t.key.CreatedAt.UTC()
	since = since.UTC()
	if since.Before(created) {
		since = created
	}
	return KeyLastUsage{KeyID: t.key.ID, Usage: u, TrackingStart: since, KeyCreated: created}, nil
}
