// Package inproc holds the in-process defaults for core's ports: a metadata cache
// with a short TTL and single-flight loading, a token-bucket limiter per key and a
// nonce memory holding each principal to its quota. They serve one instance; the
// redis package shares the same duties across instances, and the stores make the
// nonce memory durable or shared.
package inproc
