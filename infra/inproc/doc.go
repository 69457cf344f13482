// Package inproc holds the in-process defaults for core's ports: a metadata cache
// with a short TTL and single-flight loading, a token-bucket limiter per key and a
// bounded nonce memory. They serve one instance; the redis package shares the same
// duties across instances and falls back to these when Redis is away.
package inproc
