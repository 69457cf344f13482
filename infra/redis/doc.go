// Package redis shares what kmsless instances must agree on through Redis: a
// key-metadata cache (in-process layer, then Redis, then the store), per-principal
// token buckets and signature nonces, checked together in one round trip that
// concurrent requests share. Redis is a cache and a limiter only; when it is
// unreachable each instance falls back to the in-process implementations of
// package inproc and returns to shared state by itself.
package redis
