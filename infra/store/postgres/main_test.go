package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kmsless/kmsless/infra/store/storetest"
)

// adminURL reaches the machine's PostgreSQL server, where the tests create (and
// finally drop) a database of their own, so they run alongside other packages'.
var adminURL = envOr("KMS_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")

// testURL is the database created for this run.
var testURL string

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		// A re-executed child works in the database its parent made.
		os.Exit(m.Run())
	}
	os.Exit(runWithDatabase(m))
}

func runWithDatabase(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "kmsless_test_" + hex.EncodeToString(b[:])
	admin, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		fmt.Fprintf(os.Stderr, "postgres store tests need PostgreSQL at %s: %v\n", scrub(adminURL, adminURL), err)
		return 1
	}
	defer admin.Close(context.Background())
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		fmt.Fprintf(os.Stderr, "create test database: %v\n", err)
		return 1
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.Exec(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			fmt.Fprintf(os.Stderr, "drop test database %s: %v\n", name, err)
		}
	}()
	u, err := url.Parse(adminURL)
	if err != nil {
		fmt.Fprintf(os.Stderr, "parse admin URL: %v\n", err)
		return 1
	}
	u.Path = "/" + name
	testURL = u.String()
	return m.Run()
}

var schemas atomic.Int64

// newSchema names a schema no other test (or -count repetition) uses.
func newSchema(prefix string) string {
	return fmt.Sprintf("%s_%d_%d", prefix, os.Getpid(), schemas.Add(1))
}

// openTemp opens a store in a schema of its own within the test database.
func openTemp(t testing.TB) *Store {
	t.Helper()
	s, err := Open(context.Background(), testURL, WithSchema(newSchema("t")))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

// openKeyStore adapts openTemp to storetest.
func openKeyStore(t *testing.T) storetest.Store { return openTemp(t) }
