// Package sealed keeps configuration secrets (the principals file, the
// database password) in a form useless without the root key: sealed with
// AES-256-GCM under a key derived from the root key for this purpose alone,
// naming the root key that sealed them and bound to what they are, so that a
// sealed password cannot be passed off as a principals file.
package sealed
