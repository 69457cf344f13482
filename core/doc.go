// Package core is the key management service itself: the actions of Alibaba Cloud
// KMS (API 2016-01-20), the key model and its state machine, the CiphertextBlob
// envelope, RAM-style policy evaluation and the error codes callers see.
//
// core does no I/O of its own. It reaches storage, caches, limiters and clocks
// through the small ports declared in ports.go; infra provides the adapters.
package core
