// Package metrics counts what the edge sees of every request (by action and
// outcome, with latency), and what the cache, Redis and the store do, for
// Prometheus on a server and as CloudWatch Embedded Metric Format lines on
// Lambda and Function Compute. Labels are bounded: an action outside the
// service's table is "unknown", and no key or request ID is ever a label.
package metrics
