// Package storetest is the conformance suite every core.KeyStore adapter runs, so
// the embedded and the shared store keep exactly the same semantics: atomic
// writes, compare-and-set revisions, conditional partition creates and paging.
package storetest

import "github.com/kmsless/kmsless/infra/store/storecopy"

// Store is what the stores under test hold: everything a deployment's store
// holds.
type Store = storecopy.Store
