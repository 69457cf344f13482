package core_test

import (
	"path/filepath"
	"testing"

	"github.com/kmsless/kmsless/core"
	boltstore "github.com/kmsless/kmsless/infra/store/bolt"
)

// boltService makes a service over a new bolt store in a temporary directory with
// a fresh random root key; cfg supplies everything else. The store closes when
// the test ends.
func boltService(tb testing.TB, cfg core.Config) (*core.Service, *boltstore.Store) {
	tb.Helper()
	store, err := boltstore.Open(filepath.Join(tb.TempDir(), "kms.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = store.Close() })
	raw, err := core.GenerateRootKey()
	if err != nil {
		tb.Fatal(err)
	}
	root, err := core.NewRootKey(raw)
	clear(raw)
	if err != nil {
		tb.Fatal(err)
	}
	cfg.Store, cfg.Partitions, cfg.Root = store, store, root
	svc, err := core.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return svc, store
}
