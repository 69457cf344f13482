package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

// DefaultPostgresURL is the test server when KMS_TEST_POSTGRES_URL is unset.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// PostgresDatabase creates a database of its own, named prefix plus a random
// suffix, on the test PostgreSQL server (KMS_TEST_POSTGRES_URL, else
// DefaultPostgresURL), drops it when the test ends, and returns its URL. Tests
// sharing the machine's server stay out of each other's way.
func PostgresDatabase(tb testing.TB, prefix string) string {
	tb.Helper()
	base := os.Getenv("KMS_TEST_POSTGRES_URL")
	if base == "" {
		base = DefaultPostgresURL
	}
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		tb.Fatalf("PostgreSQL (KMS_TEST_POSTGRES_URL): %v", err)
	}
	var suffix [6]byte
	_, _ = rand.Read(suffix[:])
	name := pgx.Identifier{prefix + hex.EncodeToString(suffix[:])}.Sanitize()
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		_, _ = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		_ = admin.Close(ctx)
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatal(err)
	}
	u.Path = "/" + prefix + hex.EncodeToString(suffix[:])
	return u.String()
}
