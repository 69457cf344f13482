package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/kmsless/kmsless/core"
)

// Expire moves the deletion date of key id, as st holds it, a minute into
// the past: what a week of waiting does to a key scheduled for deletion,
// for tests that cannot wait for the week. It returns the date set.
func Expire(tb testing.TB, st core.KeyStore, id string) time.Time {
	tb.Helper()
	ctx := context.Background()
	k, err := st.GetKey(ctx, id)
	if err != nil {
		tb.Fatal(err)
	}
	k.DeleteAt, k.Revision = pastDate(), k.Revision+1
	if err := st.UpdateKey(ctx, k); err != nil {
		tb.Fatal(err)
	}
	return k.DeleteAt
}

// ExpireSecret is Expire for the secret name.
func ExpireSecret(tb testing.TB, st core.SecretStore, name string) time.Time {
	tb.Helper()
	ctx := context.Background()
	sec, err := st.GetSecret(ctx, name)
	if err != nil {
		tb.Fatal(err)
	}
	sec.DeleteAt, sec.Revision = pastDate(), sec.Revision+1
	if err := st.UpdateSecret(ctx, sec); err != nil {
		tb.Fatal(err)
	}
	return sec.DeleteAt
}

func pastDate() time.Time { return time.Now().Add(-time.Minute).UTC().Truncate(time.Second) }
