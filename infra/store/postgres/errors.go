package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/kmsless/kmsless/core"
)

// SQLSTATE codes the store interprets.
const (
	codeUniqueViolation     = "23505"
	codeForeignKeyViolation = "23503"
	codeUndefinedTable      = "42P01"
)

// fail wraps err from operation op, marking it core.ErrUnavailable when the
// database could not be reached or could not serve the request in time.
func fail(ctx context.Context, op string, err error) error {
	if unavailable(ctx, err) {
		return fmt.Errorf("postgres: %s: %w: %w", op, core.ErrUnavailable, err)
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}

// unavailable tells a database that is down, restarting, overloaded or slow
// from one that answered and refused.
func unavailable(ctx context.Context, err error) bool {
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return false // the caller gave up; nothing is wrong with the database
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case strings.HasPrefix(pgErr.Code, "08"), // connection exception
			strings.HasPrefix(pgErr.Code, "53"), // insufficient resources, too many connections
			pgErr.Code == "57P01",               // admin shutdown
			pgErr.Code == "57P02",               // crash shutdown
			pgErr.Code == "57P03",               // cannot connect now (starting up, recovering)
			pgErr.Code == "57014",               // statement timeout
			pgErr.Code == "40001",               // serialization failure
			pgErr.Code == "40P01",               // deadlock detected
			pgErr.Code == "25006":               // read-only transaction: a failover in progress
			return true
		}
		return false
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connectErr) ||
		errors.As(err, &netErr) ||
		errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.EPIPE) ||
		pgconn.Timeout(err) ||
		pgconn.SafeToRetry(err)
}

// brokenConn reports whether err came from a pooled connection the server had
// already dropped (it restarted, or an idle timeout closed it).
func brokenConn(err error) bool {
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) || pgconn.Timeout(err) {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "57P01" || pgErr.Code == "57P02"
	}
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// constraint reports whether err is a server error with the given SQLSTATE.
func constraint(err error, code string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == code
}
