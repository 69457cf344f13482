// Package storetest is the conformance suite every core.KeyStore adapter runs, so
// the embedded and the shared store keep exactly the same semantics: atomic
// writes, compare-and-set revisions, conditional partition creates and paging.
package storetest

import "github.com/kmsless/kmsless/core"

// Store is what the stores under test hold: keys, versions and aliases, and
// partition records, secrets, grants, certificates, keys' last uses and
// access records.
type Store interface {
	core.KeyStore
	core.PartitionStore
	core.SecretStore
	core.GrantStore
	core.CertificateStore
	core.KeyUsageStore
	core.AccessStore
}
