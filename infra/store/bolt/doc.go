// Package bolt is the embedded core.KeyStore: one bbolt file on local disk,
// for a laptop or a single instance. Every method is one bbolt transaction, so a
// crash leaves each change whole or absent. Nonces keeps signature nonces for
// this instance across restarts, in a journal beside the file.
package bolt
