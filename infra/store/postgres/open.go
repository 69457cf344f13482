package postgres

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kmsless/kmsless/core"
)

// Defaults for what the connection string leaves unset. A serverless instance
// serves one request at a time, so a few connections are plenty, and the
// database's connection limit is shared by every instance.
const (
	defaultMaxConns          = 4
	defaultConnectTimeout    = 5 * time.Second
	defaultStatementTimeout  = "5s"
	defaultIdleInTxTimeout   = "30s"
	defaultHealthCheckPeriod = 15 * time.Second
)

// Store is a core.KeyStore backed by PostgreSQL.
type Store struct {
	pool *pgxpool.Pool
	// db runs the store's statements: the pool, or the transaction of a
	// Snapshot or of a Transaction's function.
	db conn
	// end is what Close does: close the pool, or end a snapshot. A
	// Transaction's store has none: its function's return ends it.
	end func() error
}

// conn is what the store's statements run on: *pgxpool.Pool or pgx.Tx.
type conn interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
	Begin(ctx context.Context) (pgx.Tx, error)
}

var _ core.KeyStore = (*Store)(nil)

// Option adjusts Open.
type Option func(*options)

type options struct {
	schema string
}

// WithSchema keeps every table in the named schema, creating it if needed, so
// that several stores (or test runs) can share one database.
func WithSchema(name string) Option {
	return func(o *options) { o.schema = name }
}

// Open connects to the database at connString (a postgres:// URL or key=value
// string, as pgx reads it) and brings its schema up to date.
//
// The pgx parameters apply; where the string is silent Open uses a pool of 4
// connections (pool_max_conns), a 5 s connect_timeout, a 5 s statement_timeout,
// a 30 s idle_in_transaction_session_timeout and a 15 s
// pool_health_check_period. Connection failures, now and later, are reported as
// wrapped core.ErrUnavailable; no error carries the password.
func Open(ctx context.Context, connString string, opts ...Option) (*Store, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	cfg, err := pgxpool.ParseConfig(connString)
	if err != nil {
		// The parse error may quote the string; pgx redacts passwords only on a
		// best-effort basis, so scrub and keep only the text.
		return nil, fmt.Errorf("postgres: invalid connection string: %s", scrub(err.Error(), connString))
	}
	if !strings.Contains(connString, "pool_max_conns") {
		cfg.MaxConns = defaultMaxConns
	}
	if !strings.Contains(connString, "pool_health_check_period") {
		cfg.HealthCheckPeriod = defaultHealthCheckPeriod
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = defaultConnectTimeout
	}
	params := cfg.ConnConfig.RuntimeParams
	setDefault(params, "statement_timeout", defaultStatementTimeout)
	setDefault(params, "idle_in_transaction_session_timeout", defaultIdleInTxTimeout)
	setDefault(params, "application_name", "kmsless")
	if o.schema != "" {
		params["search_path"] = pgx.Identifier{o.schema}.Sanitize()
	}

	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %s", scrub(err.Error(), connString))
	}
	s := &Store{pool: pool, db: pool, end: func() error { pool.Close(); return nil }}
	if err := s.migrate(ctx, o.schema); err != nil {
		pool.Close()
		return nil, scrubbed(err, connString)
	}
	return s, nil
}

// Close closes the pool's connections; a snapshot's Close ends the snapshot
// and leaves the pool to the store.
func (s *Store) Close() error {
	if s.end == nil {
		return nil
	}
	return s.end()
}

// Transaction runs fn with a Store whose reads and writes all run in one
// transaction, committed when fn returns nil and rolled back when it returns
// an error: for loading a store (a copy) all at once, with one commit. A
// failed statement fails the transaction, and every later one with it. It
// holds one connection until fn returns, and the Store fn gets is for fn's
// goroutine alone; idle_in_transaction_session_timeout (30 s unless the URL
// sets it) ends a transaction left unused that long.
func (s *Store) Transaction(ctx context.Context, fn func(*Store) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fail(ctx, "begin transaction", err)
	}
	defer tx.Rollback(context.Background()) // nothing to undo once committed
	if err := fn(&Store{pool: s.pool, db: tx}); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fail(ctx, "commit transaction", err)
	}
	return nil
}

// Snapshot is the store as it is now, for reading while instances keep
// writing: every read of the snapshot runs in one REPEATABLE READ, READ ONLY
// transaction, as pg_dump reads a database, so it sees one moment whole and
// nothing written after it; a write is refused. It holds one connection until
// its Close, and is for one goroutine at a time. While it is open the
// database keeps the row versions it may read (vacuum waits), and
// idle_in_transaction_session_timeout (30 s unless the URL sets it) ends it
// if it sits unused that long.
func (s *Store) Snapshot(ctx context.Context) (*Store, error) {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, fail(ctx, "begin snapshot", err)
	}
	return &Store{pool: s.pool, db: tx, end: func() error { return tx.Rollback(context.Background()) }}, nil
}

func setDefault(params map[string]string, name, value string) {
	if _, ok := params[name]; !ok {
		params[name] = value
	}
}

var (
	urlPassword = regexp.MustCompile(`://[^:/@\s]*:([^@\s]+)@`)
	kvPassword  = regexp.MustCompile(`password\s*=\s*('(?:[^'\\]|\\.)*'|[^\s&]+)`)
)

// scrub replaces every password connString carries with "xxxxx" in msg.
func scrub(msg, connString string) string {
	var secrets []string
	if u, err := url.Parse(connString); err == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok {
			secrets = append(secrets, pw, url.QueryEscape(pw), url.PathEscape(pw))
		}
	}
	for _, m := range urlPassword.FindAllStringSubmatch(connString, -1) {
		secrets = append(secrets, m[1])
	}
	for _, m := range kvPassword.FindAllStringSubmatch(connString, -1) {
		secrets = append(secrets, m[1], strings.Trim(m[1], "'"))
	}
	for _, secret := range secrets {
		if secret != "" {
			msg = strings.ReplaceAll(msg, secret, "xxxxx")
		}
	}
	return msg
}

// scrubbedError is an error whose text held a password. Its original chain is
// dropped, since that held the password too; only the core sentinel remains for
// errors.Is.
type scrubbedError struct {
	msg      string
	sentinel error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.sentinel }

// scrubbed returns err, or a scrubbed stand-in if its text carries a password
// from connString.
func scrubbed(err error, connString string) error {
	msg := scrub(err.Error(), connString)
	if msg == err.Error() {
		return err
	}
	for _, sentinel := range []error{core.ErrUnavailable, core.ErrNotFound, core.ErrExists, core.ErrConflict} {
		if errors.Is(err, sentinel) {
			return &scrubbedError{msg: msg, sentinel: sentinel}
		}
	}
	return &scrubbedError{msg: msg}
}
