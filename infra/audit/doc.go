// Package audit writes the audit trail: one JSON record per request, shaped
// like CloudTrail's KMS records, chained per instance with an HMAC under a key
// derived from the root key so that an edited, dropped, reordered or truncated
// record shows; and it reads the trail back to verify it and answer questions.
package audit
