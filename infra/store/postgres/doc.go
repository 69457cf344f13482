// Package postgres is the shared core.KeyStore: PostgreSQL through a small pgx
// pool, for many serverless instances at once. Each method is one statement (so
// one transaction), and the schema migrates itself at Open under an advisory lock.
// Nonces keeps signature nonces in a table every instance shares.
package postgres
