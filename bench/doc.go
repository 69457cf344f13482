// Package bench holds the service's end-to-end comparisons: load against the
// real api server and against floors that receive the very same requests.
// The load generator is bench/load, the floors bench/floor, and
// bench/cmd/loadgen prints each ratio with p50 and p99 beside it (make bench).
package bench
