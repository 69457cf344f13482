package bolt_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/kmsless/kmsless/infra/store/bolt"
	"github.com/kmsless/kmsless/infra/store/storetest"
)

// The first release's bbolt file, as it wrote it, serves through today's code.
func TestRelease1FileOpens(t *testing.T) {
	storetest.Release1(t, func(t *testing.T) storetest.Store {
		// A copy: bbolt opens read-write.
		path := filepath.Join(t.TempDir(), "kms.db")
		if err := os.WriteFile(path, storetest.Release1File("kms.db"), 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := bolt.Open(path)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	})
}
