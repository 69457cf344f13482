// Package config is the one place that reads the environment and turns it into a
// wired service: root key, store, cache, limiter, nonces and principals. Entry
// points call Load and hand the result to a platform adapter.
package config
