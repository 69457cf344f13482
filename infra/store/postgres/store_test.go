package postgres

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/store/storetest"
)

func TestStoreConformance(t *testing.T) {
	storetest.Run(t, openKeyStore)
}

func TestGrantConformance(t *testing.T) {
	storetest.Grants(t, openKeyStore)
}

func TestAccessConformance(t *testing.T) {
	storetest.Access(t, openKeyStore)
}

func TestOpenAppliesServerlessDefaults(t *testing.T) {
	s := openTemp(t)
	defer s.Close()
	if got := s.pool.Config().MaxConns; got != defaultMaxConns {
		t.Fatalf("MaxConns = %d, want %d", got, defaultMaxConns)
	}
	if got := s.pool.Config().ConnConfig.ConnectTimeout; got != defaultConnectTimeout {
		t.Fatalf("ConnectTimeout = %s, want %s", got, defaultConnectTimeout)
	}
	wantSetting(t, s, "statement_timeout", "5s")
	wantSetting(t, s, "idle_in_transaction_session_timeout", "30s")
}

func TestOpenLetsTheConnectionStringOverrideDefaults(t *testing.T) {
	s, err := Open(context.Background(), testURL+"&pool_max_conns=7&connect_timeout=3&statement_timeout=1500", WithSchema(newSchema("overrides")))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	if got := s.pool.Config().MaxConns; got != 7 {
		t.Fatalf("MaxConns = %d, want 7 from pool_max_conns", got)
	}
	if got := s.pool.Config().ConnConfig.ConnectTimeout; got != 3*time.Second {
		t.Fatalf("ConnectTimeout = %s, want 3s from connect_timeout", got)
	}
	wantSetting(t, s, "statement_timeout", "1500ms")
}

func wantSetting(t *testing.T, s *Store, name, want string) {
	t.Helper()
	var got string
	if err := s.pool.QueryRow(context.Background(), "SELECT current_setting($1)", name).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("%s = %s, want %s", name, got, want)
	}
}

func TestConcurrentOpensMigrateOnce(t *testing.T) {
	const n = 8
	schema := newSchema("racing_opens")
	stores := make([]*Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { stores[i], errs[i] = Open(context.Background(), testURL, WithSchema(schema)) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("Open #%d: %v", i, errs[i])
		}
		defer stores[i].Close()
	}
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	rows, err := stores[0].pool.Query(context.Background(), "SELECT version FROM schema_migrations ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	applied, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) != len(ms) || applied[0] != ms[0].version || applied[len(applied)-1] != ms[len(ms)-1].version {
		t.Fatalf("schema_migrations holds %v, want each of %d migrations once", applied, len(ms))
	}
	// Every instance works against the one schema.
	for i, s := range stores {
		k := core.Key{ID: fmt.Sprintf("key-%d", i), State: core.KeyEnabled, CreatedAt: time.Now(), PrimaryVersionID: "v1", Revision: 1}
		if err := s.CreateKey(context.Background(), k, core.KeyVersion{KeyID: k.ID, VersionID: "v1", CreatedAt: k.CreatedAt, Wrapped: []byte{1}}); err != nil {
			t.Fatalf("CreateKey through instance %d: %v", i, err)
		}
	}
	if _, total, err := stores[0].ListKeys(context.Background(), time.Time{}, core.Page{}); err != nil || total != n {
		t.Fatalf("ListKeys total %d, %v; want %d", total, err, n)
	}
}

func TestErrorsNeverCarryThePassword(t *testing.T) {
	port := closedPort(t)
	const secret = "hunter2-Sup3rSecret"
	for _, connString := range []string{
		fmt.Sprintf("postgres://kms:%s@127.0.0.1:%d/kms?sslmode=disable&connect_timeout=1", secret, port),
		fmt.Sprintf("postgres://kms:%s@127.0.0.1:%d/kms?sslmode=disable&connect_timeout=notanumber", secret, port),
		fmt.Sprintf("postgres://kms:%s@127.0.0.1:port/kms", secret),
		fmt.Sprintf("postgres://kms:%s@[::1/kms", secret),
		fmt.Sprintf("host=127.0.0.1 port=%d user=kms password=%s connect_timeout=1 sslmode=disable", port, secret),
		fmt.Sprintf("host=127.0.0.1 port=%d user=kms password='%s' connect_timeout=x", port, secret),
	} {
		s, err := Open(context.Background(), connString)
		if err == nil {
			s.Close()
			t.Fatalf("Open(%q) succeeded against a closed port", scrub(connString, connString))
		}
		for e := error(err); e != nil; e = errors.Unwrap(e) {
			if strings.Contains(e.Error(), secret) || strings.Contains(fmt.Sprintf("%+v", e), secret) {
				t.Fatalf("error chain carries the password: %s", scrub(e.Error(), connString))
			}
		}
	}
}

func TestUnreachableDatabaseIsUnavailable(t *testing.T) {
	_, err := Open(context.Background(), fmt.Sprintf("postgres://kms@127.0.0.1:%d/kms?sslmode=disable&connect_timeout=1", closedPort(t)))
	if !errors.Is(err, core.ErrUnavailable) {
		t.Fatalf("Open against a closed port: %v, want ErrUnavailable", err)
	}
}

func TestLockedRowFailsAsUnavailableWithinStatementTimeout(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, testURL+"&statement_timeout=300", WithSchema(newSchema("locked_row")))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	k := core.Key{ID: "key-locked", State: core.KeyEnabled, CreatedAt: time.Now(), PrimaryVersionID: "v1", Revision: 1}
	if err := s.CreateKey(ctx, k, core.KeyVersion{KeyID: k.ID, VersionID: "v1", CreatedAt: k.CreatedAt, Wrapped: []byte{1}}); err != nil {
		t.Fatal(err)
	}
	holder, err := s.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Rollback(ctx)
	if _, err := holder.Exec(ctx, "SELECT FROM keys WHERE id = $1 FOR UPDATE", k.ID); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	k.Revision = 2
	err = s.UpdateKey(ctx, k)
	if !errors.Is(err, core.ErrUnavailable) {
		t.Fatalf("UpdateKey of a locked row: %v, want ErrUnavailable", err)
	}
	if waited := time.Since(start); waited > 3*time.Second {
		t.Fatalf("UpdateKey waited %s on a locked row", waited)
	}
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

func TestReadsSurviveConnectionsTheServerDropped(t *testing.T) {
	ctx := context.Background()
	const app = "kmsless-dropped"
	s, err := Open(ctx, testURL+"&application_name="+app, WithSchema(newSchema("dropped")))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	k := core.Key{ID: "key-1", State: core.KeyEnabled, CreatedAt: time.Now(), PrimaryVersionID: "v1", Revision: 1}
	if err := s.CreateKey(ctx, k, core.KeyVersion{KeyID: k.ID, VersionID: "v1", CreatedAt: k.CreatedAt, Wrapped: []byte{1}}); err != nil {
		t.Fatal(err)
	}

	// What a restart or a proxy's idle timeout does to pooled connections.
	admin, err := pgx.Connect(ctx, testURL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	var dropped int
	err = admin.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND application_name = $1`, app).Scan(&dropped)
	if err != nil || dropped == 0 {
		t.Fatalf("terminated %d connections: %v", dropped, err)
	}
	time.Sleep(100 * time.Millisecond)

	if _, err := s.GetKey(ctx, k.ID); err != nil {
		t.Fatalf("GetKey on a pool whose connections were dropped: %v", err)
	}
}
