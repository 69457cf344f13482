// Package fcemu emulates Alibaba Cloud Function Compute's runtime API
// (2020-11-11), the one fc-runtime-go-sdk talks to through FC_RUNTIME_API: a
// function process takes invocations from GET …/invocation/next, with the
// x-fc-* headers the SDK requires, and answers each on …/{id}/response or
// …/{id}/error before its deadline. cmd/fcemu runs a function binary under it.
package fcemu
