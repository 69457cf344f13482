// Package storecopy copies everything one store holds into another, empty
// one: to move a deployment from bbolt to PostgreSQL, or to back a store up
// into a bbolt file (and restore it) while instances keep serving. Into a
// store that takes it in one transaction (CopyInTransaction), a copy is
// written once, and not at all when it fails.
//
// Records are copied as they are stored. Key material and certificates'
// private keys stay wrapped under the root keys that wrapped them, and
// secrets' values sealed under their keys, so the copy needs no root key and
// the destination serves with the source's root keys. Keys and secrets past
// their deletion dates are left out, a key with its aliases, grants and last
// use: they exist to no caller, and their material is due for destruction
// (kmsless purge), not for a copy that would outlive it. Copy reads keys,
// aliases, grants, secrets, certificates and partitions a page at a time (a
// key's versions and the access records, which are few, whole), so what it
// holds does not grow with the store, but for a bbolt destination's
// transaction. It reads from as it reads it: a record made or changed while
// the copy runs may be left out, or refuse the copy (an alias of a key made
// after the keys were read). For a copy of one moment, copy from a
// PostgreSQL store's Snapshot, or stop the writers first.
package storecopy

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kmsless/kmsless/core"
)

// Store is everything a deployment's store holds.
type Store interface {
	core.KeyStore
	core.PartitionStore
	core.SecretStore
	core.GrantStore
	core.CertificateStore
	core.KeyUsageStore
	core.AccessStore
}

// Counts are the records copied, by kind.
type Counts struct {
	Keys, Versions, Aliases, Grants, Usages, Secrets, Certificates, Partitions, Access int
}

func (c Counts) String() string {
	return fmt.Sprintf("%d keys with %d versions, %d aliases, %d grants, %d last uses, %d secrets, %d certificates, %d partitions, %d access records",
		c.Keys, c.Versions, c.Aliases, c.Grants, c.Usages, c.Secrets, c.Certificates, c.Partitions, c.Access)
}

// ErrNotEmpty refuses a destination that holds records already: a copy
// merged into them could pair one store's aliases or grants with the
// other's keys.
var ErrNotEmpty = errors.New("the destination store is not empty")

// batch is how many records a listing reads at once.
const batch = 500

// accessKinds are the kinds of access records, in the order they name one
// another: a policy names network rules, an access point policies, a client
// key its access point.
var accessKinds = []string{core.AccessNetworkRule, core.AccessPolicy, core.AccessPoint, core.AccessClientKey}

// Copy copies every record of from that exists at asOf into to, which must
// be empty. Keys come first, with their versions, so that the aliases,
// grants and uses that name them find them.
func Copy(ctx context.Context, from, to Store, asOf time.Time) (Counts, error) {
	var n Counts
	if err := empty(ctx, to); err != nil {
		return n, err
	}
	var after core.KeyPosition
	for {
		keys, err := from.ListKeysAfter(ctx, asOf, after, batch)
		if err != nil {
			return n, fmt.Errorf("listing keys: %w", err)
		}
		for _, k := range keys {
			if err := copyKey(ctx, from, to, k, &n); err != nil {
				return n, fmt.Errorf("key %s: %w", k.ID, err)
			}
		}
		if len(keys) < batch {
			break
		}
		after = keys[len(keys)-1].Position()
	}
	if err := walk(ctx, func(ctx context.Context, after string, limit int) ([]core.Alias, error) {
		return from.ListAliasesAfter(ctx, "", asOf, core.AliasPosition{Name: after}, limit)
	}, func(a core.Alias) string { return a.Name }, func(a core.Alias) error {
		n.Aliases++
		return to.CreateAlias(ctx, a)
	}); err != nil {
		return n, fmt.Errorf("aliases: %w", err)
	}
	if err := walk(ctx, from.ListSecretsAfter, func(s core.GenericSecret) string { return s.Name }, func(listed core.GenericSecret) error {
		if listed.PastDeletion(asOf) {
			return nil
		}
		sec, err := from.GetSecret(ctx, listed.Name)
		if err != nil {
			return err
		}
		n.Secrets++
		return to.CreateSecret(ctx, sec)
	}); err != nil {
		return n, fmt.Errorf("secrets: %w", err)
	}
	if err := walk(ctx, from.ListCertificatesAfter, func(c core.Certificate) string { return c.ID }, func(c core.Certificate) error {
		n.Certificates++
		return to.CreateCertificate(ctx, c)
	}); err != nil {
		return n, fmt.Errorf("certificates: %w", err)
	}
	if err := walk(ctx, from.ListPartitionsAfter, func(p core.Partition) string { return p.ID }, func(p core.Partition) error {
		n.Partitions++
		_, _, err := to.CreatePartition(ctx, p)
		return err
	}); err != nil {
		return n, fmt.Errorf("partitions: %w", err)
	}
	for _, kind := range accessKinds {
		records, err := from.ListAccess(ctx, kind)
		if err != nil {
			return n, fmt.Errorf("listing %s records: %w", kind, err)
		}
		for _, r := range records {
			if err := to.CreateAccess(ctx, r); err != nil {
				return n, fmt.Errorf("%s %s: %w", kind, r.Name, err)
			}
			n.Access++
		}
	}
	return n, nil
}

// Transactional is a store that takes a copy in one transaction of its own
// (bolt.Store and postgres.Store): S is the type of the store its
// Transaction hands over.
type Transactional[S Store] interface {
	Store
	Transaction(ctx context.Context, fn func(S) error) error
}

// CopyInTransaction is Copy into one transaction of to's: the copy is
// written once, at the end, and a copy that fails leaves to as it was
// (empty), with Counts of zero.
func CopyInTransaction[S Store](ctx context.Context, from Store, to Transactional[S], asOf time.Time) (Counts, error) {
	var n Counts
	err := to.Transaction(ctx, func(tx S) error {
		var err error
		n, err = Copy(ctx, from, tx, asOf)
		return err
	})
	if err != nil {
		return Counts{}, err
	}
	return n, nil
}

// copyKey copies a key with all its versions in one write, then its grants
// and its last use.
func copyKey(ctx context.Context, from, to Store, k core.Key, n *Counts) error {
	versions, _, err := from.ListVersions(ctx, k.ID, core.Page{})
	if err != nil {
		return fmt.Errorf("listing versions: %w", err)
	}
	if len(versions) == 0 {
		return errors.New("the key has no version")
	}
	if err := to.CreateKey(ctx, k, versions[0], versions[1:]...); err != nil {
		return err
	}
	n.Keys++
	n.Versions += len(versions)
	if err := walk(ctx, func(ctx context.Context, after string, limit int) ([]core.Grant, error) {
		return from.ListGrants(ctx, k.ID, after, limit)
	}, func(g core.Grant) string { return g.ID }, func(g core.Grant) error {
		n.Grants++
		return to.CreateGrant(ctx, g)
	}); err != nil {
		return fmt.Errorf("grants: %w", err)
	}
	u, _, err := from.KeyUsage(ctx, k.ID)
	if err != nil {
		return fmt.Errorf("last use: %w", err)
	}
	if u == (core.KeyUsage{}) {
		return nil
	}
	n.Usages++
	return to.RecordKeyUsage(ctx, k.ID, u)
}

// walk hands each item of a listing by ID to each, a batch at a time.
func walk[T any](ctx context.Context, list func(context.Context, string, int) ([]T, error), id func(T) string, each func(T) error) error {
	after := ""
	for {
		items, err := list(ctx, after, batch)
		if err != nil {
			return err
		}
		for _, it := range items {
			if err := each(it); err != nil {
				return fmt.Errorf("%s: %w", id(it), err)
			}
		}
		if len(items) < batch {
			return nil
		}
		after = id(items[len(items)-1])
	}
}

// empty checks that to holds no record of any kind.
func empty(ctx context.Context, to Store) error {
	keys, err := to.ListKeysAfter(ctx, time.Time{}, core.KeyPosition{}, 1)
	if err != nil {
		return fmt.Errorf("reading the destination: %w", err)
	}
	_, secrets, err := to.ListSecrets(ctx, time.Time{}, core.Page{Limit: 1})
	if err != nil {
		return fmt.Errorf("reading the destination: %w", err)
	}
	certs, err := to.ListCertificatesAfter(ctx, "", 1)
	if err != nil {
		return fmt.Errorf("reading the destination: %w", err)
	}
	parts, err := to.ListPartitionsAfter(ctx, "", 1)
	if err != nil {
		return fmt.Errorf("reading the destination: %w", err)
	}
	held := len(keys) + secrets + len(certs) + len(parts)
	for _, kind := range accessKinds {
		records, err := to.ListAccess(ctx, kind)
		if err != nil {
			return fmt.Errorf("reading the destination: %w", err)
		}
		held += len(records)
	}
	if held > 0 {
		return ErrNotEmpty
	}
	return nil
}
