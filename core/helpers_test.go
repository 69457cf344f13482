package core_test

import (
	"testing"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/store/memory"
)

// memService makes a service over a new in-memory store with a fresh random
// root key; cfg supplies everything else.
func memService(tb testing.TB, cfg core.Config) (*core.Service, *memory.Store) {
	tb.Helper()
	store := memory.New()
	raw, err := core.GenerateRootKey()
	if err != nil {
		tb.Fatal(err)
	}
	root, err := core.NewRootKey(raw)
	clear(raw)
	if err != nil {
		tb.Fatal(err)
	}
	cfg.Store, cfg.Partitions, cfg.Secrets, cfg.Grants, cfg.Certificates, cfg.Usage, cfg.Access, cfg.Root = store, store, store, store, store, store, store, root
	svc, err := core.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return svc, store
}

// createKey makes a key of p as the test's administrator and returns its ID.
func createKey(t *testing.T, s *core.Service, p core.Params) string {
	t.Helper()
	out, err := do(t, s, "CreateKey", p)
	if err != nil {
		t.Fatal(err)
	}
	return out.(core.Key).ID
}
