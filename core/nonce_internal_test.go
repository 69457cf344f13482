package core

import (
	"context"
	"testing"
	"time"
)

func TestNonceQuotaIsTheRateOverTheWindowCappedByTheShare(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   Config
		limit Limit
		quota int
	}{
		{"rate bound", Config{NonceShare: 1 << 20, NonceWindow: 30 * time.Minute}, PerSecond(2, 5), 5 + 2*1800},
		{"share bound", Config{NonceShare: 1000, NonceWindow: 30 * time.Minute}, PerSecond(1000, 0), 1000},
		{"no share", Config{NonceWindow: 30 * time.Minute}, PerSecond(1, 0), 1 + 1800},
		{"a longer NonceTTL widens the window", Config{NonceTTL: time.Hour}, PerSecond(1, 0), 1 + 3600},
		{"a narrower skew narrows it", Config{NonceWindow: 10 * time.Minute, NonceTTL: time.Minute}, PerSecond(1, 0), 1 + 600},
	} {
		tc.cfg.Store, tc.cfg.Root = stubStore{}, &RootKey{}
		s, err := New(tc.cfg)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.nonceQuota(tc.limit); got != tc.quota {
			t.Errorf("%s: quota %d, want %d", tc.name, got, tc.quota)
		}
	}
}

// A share set anew, as when the principals who share the nonce memory
// change, bounds the quota from then on.
func TestSetNonceShareBoundsTheQuota(t *testing.T) {
	s, err := New(Config{Store: stubStore{}, Root: &RootKey{}, NonceShare: 1000, NonceWindow: 30 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	s.SetNonceShare(250)
	if got := s.nonceQuota(PerSecond(1000, 0)); got != 250 {
		t.Errorf("quota %d after SetNonceShare(250), want 250", got)
	}
}

// stubStore is enough of a KeyStore for New, which binds these getters.
type stubStore struct{ KeyStore }

func (stubStore) GetKey(context.Context, string) (Key, error)     { return Key{}, ErrNotFound }
func (stubStore) GetAlias(context.Context, string) (Alias, error) { return Alias{}, ErrNotFound }
func (stubStore) GetVersion(context.Context, string, string) (KeyVersion, error) {
	return KeyVersion{}, ErrNotFound
}
