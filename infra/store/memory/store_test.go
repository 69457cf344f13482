package memory_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/store/memory"
	"github.com/kmsless/kmsless/infra/store/storetest"
	"github.com/kmsless/kmsless/internal/linear"
)

func TestStoreConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store { return memory.New() })
}

func TestGrantConformance(t *testing.T) {
	storetest.Grants(t, func(t *testing.T) storetest.Store { return memory.New() })
}

func TestAccessConformance(t *testing.T) {
	storetest.Access(t, func(t *testing.T) storetest.Store { return memory.New() })
}

// TestWalkCostsWhatItReads: a walk over every key a few at a time, as
// ListTagResources, a filtered ListKeys and the purge walk make, costs in
// proportion to the keys it reads. The store once sorted every key it held
// on each read, so that a walk cost the square of their number, and a fuzz
// session that had made some ten thousand keys stopped at Go's ten-second
// limit for one input.
func TestWalkCostsWhatItReads(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	walk := func(b []byte) error {
		n, err := strconv.Atoi(string(b))
		if err != nil {
			return err
		}
		s := memory.New()
		for i := range n {
			id := fmt.Sprintf("key-%06d", n-i) // IDs against the listing's order
			k := core.Key{ID: id, CreatedAt: t0.Add(time.Duration(i/3) * time.Second), PrimaryVersionID: "v1"}
			if err := s.CreateKey(ctx, k, core.KeyVersion{KeyID: id, VersionID: "v1"}); err != nil {
				return err
			}
		}
		var after core.KeyPosition
		for read := 0; ; {
			keys, err := s.ListKeysAfter(ctx, t0, after, 10)
			if err != nil {
				return err
			}
			if read += len(keys); len(keys) < 10 {
				if read != n {
					return fmt.Errorf("the walk read %d keys of %d", read, n)
				}
				return nil
			}
			after = keys[len(keys)-1].Position()
		}
	}
	linear.Check(t, "a walk over every key", 200, func(n int) []byte { return []byte(strconv.Itoa(n)) }, walk)
}
