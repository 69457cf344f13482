package postgres

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/kmsless/kmsless/infra/store/storetest"
)

// The first release's PostgreSQL database, restored from its dump into a
// database of its own, serves through today's code: its schema migrates and
// its rows read back.
func TestRelease1DatabaseOpens(t *testing.T) {
	storetest.Release1(t, func(t *testing.T) storetest.Store {
		url := storetest.PostgresDatabase(t, "release1_")
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		// pg_dump's psql meta-commands (\restrict) are not SQL.
		var script strings.Builder
		for line := range strings.Lines(string(storetest.Release1File("postgres.sql"))) {
			if !strings.HasPrefix(line, `\`) {
				script.WriteString(line)
			}
		}
		if _, err := conn.Exec(ctx, script.String()); err != nil {
			t.Fatalf("restoring the release's dump: %v", err)
		}
		s, err := Open(ctx, url)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	})
}
