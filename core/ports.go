package core

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Errors that KeyStore implementations return (wrapped or bare); core turns them
// into KMS error codes.
var (
	// ErrNotFound: no such key, version, alias or partition.
	ErrNotFound = errors.New("not found")
	// ErrExists: a create found the name or ID already taken.
	ErrExists = errors.New("already exists")
	// ErrConflict: a compare-and-set update found a newer revision.
	ErrConflict = errors.New("revision conflict")
	// ErrUnavailable: the backing service cannot be reached right now.
	ErrUnavailable = errors.New("unavailable")
)

// KeyStore is the durable source of truth for keys, their wrapped versions and
// aliases. Every method is atomic: it makes the whole change or none.
type KeyStore interface {
	// CreateKey stores a new key together with its first version, and any
	// more, oldest first, all or nothing. ErrExists if the key ID is taken.
	CreateKey(ctx context.Context, k Key, first KeyVersion, more ...KeyVersion) error
	// GetKey returns a key by ID, or ErrNotFound.
	GetKey(ctx context.Context, id string) (Key, error)
	// UpdateKey replaces a key's metadata if the stored revision equals
	// k.Revision-1 (the caller increments it); otherwise ErrConflict. ErrNotFound
	// if the key is gone.
	UpdateKey(ctx context.Context, k Key) error
	// AddVersion stores a new version and the key's updated metadata (its new
	// primary version) in one step, compare-and-set as UpdateKey.
	AddVersion(ctx context.Context, k Key, v KeyVersion) error
	// ReplaceVersion stores v in place of the version with its ID (an
	// EXTERNAL key's material imported or deleted, a pending rotation
	// made) and the key's updated metadata in one step, compare-and-set as
	// UpdateKey; ErrNotFound if the key or the version does not exist. It
	// stores v whole: Wrapped, Digest, RootKeyID, RotationType, CreatedAt,
	// ExpireAt and MaterialDescription alike, so a caller keeps what should
	// stay by passing it as it read it. The version keeps its place among
	// the key's versions, or, where the store orders them by CreatedAt,
	// moves to the place its new CreatedAt gives it.
	ReplaceVersion(ctx context.Context, k Key, v KeyVersion) error
	// DeleteKey removes a key, its versions and its aliases if the stored
	// revision is still revision; otherwise ErrConflict, and ErrNotFound if
	// the key is gone.
	DeleteKey(ctx context.Context, id string, revision int64) error
	// ListKeys returns the keys that exist at asOf, ordered by creation (then
	// ID), and their total count. A key whose DeleteAt is set and not after
	// asOf is past its deletion date and left out, purged or not; a zero asOf
	// leaves none out.
	ListKeys(ctx context.Context, asOf time.Time, p Page) ([]Key, int, error)
	// ListKeysAfter returns, in ListKeys' order, the first limit keys that
	// exist at asOf and come after the position after (the zero position:
	// from the first key); fewer only at the end of the listing, and all the
	// rest when limit is zero or less. It neither counts the listing nor
	// reads the keys up to after, so a walk that resumes deep in the listing
	// costs what it reads.
	ListKeysAfter(ctx context.Context, asOf time.Time, after KeyPosition, limit int) ([]Key, error)

	// GetVersion returns one version of a key, or ErrNotFound.
	GetVersion(ctx context.Context, keyID, versionID string) (KeyVersion, error)
	// ListVersions returns a key's versions, oldest first, and the total count.
	ListVersions(ctx context.Context, keyID string, p Page) ([]KeyVersion, int, error)

	// CreateAlias stores a new alias; ErrExists if the name is taken, ErrNotFound
	// if the key does not exist.
	CreateAlias(ctx context.Context, a Alias) error
	// UpdateAlias points an existing alias at another key, keeping its
	// CreatedAt; ErrNotFound if either the alias or the key does not exist.
	UpdateAlias(ctx context.Context, a Alias) error
	// DeleteAlias removes an alias; ErrNotFound if it does not exist.
	DeleteAlias(ctx context.Context, name string) error
	// GetAlias returns an alias, or ErrNotFound.
	GetAlias(ctx context.Context, name string) (Alias, error)
	// ListAliases returns aliases ordered by name, all of them or (keyID != "")
	// those of one key, and the total count, leaving out the aliases of keys
	// past their deletion date at asOf, as ListKeys does.
	ListAliases(ctx context.Context, keyID string, asOf time.Time, p Page) ([]Alias, int, error)
	// ListAliasesAfter returns, in ListAliases' order and leaving out the
	// same aliases, the first limit aliases (all of them, or those of keyID
	// when it is not empty) that come after the position after (the zero
	// position: from the first alias); fewer only at the end of the listing,
	// and all the rest when limit is zero or less. As ListKeysAfter, it
	// neither counts the listing nor reads the aliases up to after.
	ListAliasesAfter(ctx context.Context, keyID string, asOf time.Time, after AliasPosition, limit int) ([]Alias, error)

	Close() error
}

// PartitionStore keeps the data-key records of partitions.
type PartitionStore interface {
	// CreatePartition stores p unless a record for p.ID exists. It returns the
	// stored record and whether this call created it: a conditional create, so
	// concurrent calls for one partition leave exactly one record.
	CreatePartition(ctx context.Context, p Partition) (Partition, bool, error)
	// GetPartition returns a partition record, or ErrNotFound.
	GetPartition(ctx context.Context, id string) (Partition, error)
	// ListPartitionsAfter returns, ordered by ID (as bytes), the first limit
	// partition records whose ID comes after after ("": from the first);
	// fewer only at the end, and all the rest when limit is zero or less.
	ListPartitionsAfter(ctx context.Context, after string, limit int) ([]Partition, error)
}

// SecretStore keeps secrets, each with its versions as one record. Every
// method is atomic.
type SecretStore interface {
	// CreateSecret stores a new secret; ErrExists if the name is taken.
	CreateSecret(ctx context.Context, s GenericSecret) error
	// GetSecret returns a secret with its versions, or ErrNotFound.
	GetSecret(ctx context.Context, name string) (GenericSecret, error)
	// UpdateSecret replaces a secret, versions and all, if the stored
	// revision equals s.Revision-1 (the caller increments it); otherwise
	// ErrConflict, and ErrNotFound if the secret is gone. The stored
	// CreatedAt stays.
	UpdateSecret(ctx context.Context, s GenericSecret) error
	// DeleteSecret removes a secret if the stored revision is still
	// revision; otherwise ErrConflict, and ErrNotFound if it is gone.
	DeleteSecret(ctx context.Context, name string, revision int64) error
	// ListSecrets returns the secrets that exist at asOf, ordered by name
	// (as bytes), without their versions, and their total count. A secret
	// whose DeleteAt is set and not after asOf is left out; a zero asOf
	// leaves none out.
	ListSecrets(ctx context.Context, asOf time.Time, p Page) ([]GenericSecret, int, error)
	// ListSecretsAfter returns, ordered by name (as bytes), the first limit
	// secrets whose name comes after after ("": from the first), without
	// their versions, past their deletion dates or not; fewer only at the
	// end, and all the rest when limit is zero or less. A walk of every
	// secret reads a page at a time with it, each page after the last name
	// of the one before.
	ListSecretsAfter(ctx context.Context, after string, limit int) ([]GenericSecret, error)
}

// CertificateStore keeps certificates, each as one record. Every method is
// atomic.
type CertificateStore interface {
	// CreateCertificate stores a new certificate; ErrExists if its ID is
	// taken.
	CreateCertificate(ctx context.Context, c Certificate) error
	// GetCertificate returns a certificate, or ErrNotFound.
	GetCertificate(ctx context.Context, id string) (Certificate, error)
	// UpdateCertificate replaces a certificate if the stored revision
	// equals c.Revision-1 (the caller increments it); otherwise
	// ErrConflict, and ErrNotFound if it is gone. The stored CreatedAt
	// stays.
	UpdateCertificate(ctx context.Context, c Certificate) error
	// DeleteCertificate removes a certificate if the stored revision is
	// still revision; otherwise ErrConflict, and ErrNotFound if it is gone.
	DeleteCertificate(ctx context.Context, id string, revision int64) error
	// ListCertificatesAfter returns, ordered by ID (as bytes), the first
	// limit certificates whose ID comes after after ("": from the first);
	// fewer only at the end, and all the rest when limit is zero or less.
	ListCertificatesAfter(ctx context.Context, after string, limit int) ([]Certificate, error)
}

// KeyUsage is a key's last successful cryptographic use, as kept by a
// KeyUsageStore.
type KeyUsage struct {
	// Action is core's name of the action that used the key ("Encrypt",
	// "AsymmetricSign").
	Action string
	// At is when the request arrived, to the millisecond.
	At time.Time
	// RequestID is the request's ID, by which the audit trail finds it.
	RequestID string
}

// KeyUsageStore keeps each key's last recorded use. KeyStore.DeleteKey
// removes a key's use with it.
type KeyUsageStore interface {
	// RecordKeyUsage keeps u as keyID's last use unless the use kept is
	// later (by At); ErrNotFound, keeping nothing, if the key does not
	// exist.
	RecordKeyUsage(ctx context.Context, keyID string, u KeyUsage) error
	// KeyUsage returns keyID's last recorded use (the zero KeyUsage if none
	// is kept) and since when the store has kept uses: from the first time
	// this kind of store was opened over its data, or made. It does not
	// check that the key exists.
	KeyUsage(ctx context.Context, keyID string) (KeyUsage, time.Time, error)
}

// The kinds of AccessRecord: the KMS instance API's access configuration,
// as Alibaba's management API shapes it.
const (
	AccessNetworkRule = "networkrule"
	AccessPolicy      = "policy"
	AccessPoint       = "applicationaccesspoint"
	AccessClientKey   = "clientkey"
)

// AccessRecord is one named record of the KMS instance API's access
// configuration: a network rule, an access policy, an application access
// point or a client key, in core's own encoding, which a store keeps as it
// is. A client key's record holds its public key only.
type AccessRecord struct {
	Kind, Name string
	Doc        []byte
}

// AccessStore keeps access records by kind and name. Every method is
// atomic; kinds are apart, so the same name may be taken in each.
type AccessStore interface {
	// CreateAccess stores a new record; ErrExists if its kind has one of
	// that name.
	CreateAccess(ctx context.Context, r AccessRecord) error
	// GetAccess returns a record, or ErrNotFound.
	GetAccess(ctx context.Context, kind, name string) (AccessRecord, error)
	// ReplaceAccess replaces the Doc of a record; ErrNotFound if there is
	// none.
	ReplaceAccess(ctx context.Context, r AccessRecord) error
	// DeleteAccess removes a record; ErrNotFound if there is none.
	DeleteAccess(ctx context.Context, kind, name string) error
	// ListAccess returns every record of a kind, ordered by name.
	ListAccess(ctx context.Context, kind string) ([]AccessRecord, error)
}

// GrantStore keeps grants by key, and finds them by grantee and by retiring
// principal. Every method is atomic. KeyStore.DeleteKey removes a key's
// grants with it.
type GrantStore interface {
	// CreateGrant stores a new grant; ErrExists if its key already has a
	// grant of that ID.
	CreateGrant(ctx context.Context, g Grant) error
	// GetGrant returns a grant of a key, or ErrNotFound.
	GetGrant(ctx context.Context, keyID, grantID string) (Grant, error)
	// DeleteGrant removes a grant of a key; ErrNotFound if there is none.
	DeleteGrant(ctx context.Context, keyID, grantID string) error
	// GrantsFor returns the grants of a key whose GranteeName is grantee,
	// ordered by grant ID.
	GrantsFor(ctx context.Context, keyID, grantee string) ([]Grant, error)
	// ListGrants returns, ordered by grant ID, the first limit grants of a
	// key whose ID comes after after ("": from the first).
	ListGrants(ctx context.Context, keyID, after string, limit int) ([]Grant, error)
	// ListRetirable returns, ordered by key ID and then grant ID, the first
	// limit grants whose RetiringName is retiring and that come after the
	// position after (the zero position: from the first).
	ListRetirable(ctx context.Context, retiring string, after GrantPosition, limit int) ([]Grant, error)
}

// VersionRef names one version of one key as caches keep it. A version's
// material never changes, but its IDs alone do not name it for ever: a key
// purged past its deletion date is forgotten by the store, and a seed may make
// a key of that ID again, with other material under the same version IDs. The
// key's creation time tells the two apart, so a cache that keeps material by
// ref serves the second as soon as it reads the second's metadata.
type VersionRef struct {
	KeyID, VersionID string
	// KeyCreated is the key's CreatedAt in Unix seconds, a precision every
	// store keeps.
	KeyCreated int64
}

// VersionOf is the ref of version versionID of k.
func VersionOf(k *Key, versionID string) VersionRef {
	return VersionRef{KeyID: k.ID, VersionID: versionID, KeyCreated: k.CreatedAt.Unix()}
}

// MetadataCache sits in front of the KeyStore on the hot path. Each method returns
// the cached value or calls load with the same names (at most once per instance
// for concurrent misses) and caches its result. The loaders take the names, as
// the KeyStore's getters do, so a caller passes one function bound once instead
// of a closure per call, and a hit allocates nothing. Implementations hold only
// what the store holds: metadata and root-key-wrapped material, never plaintext.
type MetadataCache interface {
	Key(ctx context.Context, id string, load func(ctx context.Context, id string) (Key, error)) (Key, error)
	Alias(ctx context.Context, name string, load func(ctx context.Context, name string) (Alias, error)) (Alias, error)
	// Version keeps a version by ref, all of it, and loads it by its IDs.
	Version(ctx context.Context, ref VersionRef, load func(ctx context.Context, keyID, versionID string) (KeyVersion, error)) (KeyVersion, error)
	// InvalidateKey drops a key's metadata after a change, on this instance and
	// (for shared caches) on every other within the cache's bound.
	InvalidateKey(ctx context.Context, id string)
	// InvalidateAlias does the same for an alias.
	InvalidateAlias(ctx context.Context, name string)
}

// Limit is a token bucket: Rate tokens per Period, holding at most Burst.
type Limit struct {
	Rate   int
	Burst  int
	Period time.Duration
}

// PerSecond is a limit of qps requests a second with the given burst (qps when
// burst <= 0).
func PerSecond(qps, burst int) Limit {
	if burst <= 0 {
		burst = qps
	}
	return Limit{Rate: qps, Burst: burst, Period: time.Second}
}

// LimitResult is a limiter's answer.
type LimitResult struct {
	Allowed    bool
	Remaining  int
	RetryAfter time.Duration
}

// Limiter admits or throttles requests, one bucket per key (the principal).
type Limiter interface {
	Allow(ctx context.Context, key string, l Limit) (LimitResult, error)
}

// Refunder is a Limiter that can give back a request Allow admitted. When the
// Limiter and the NonceStore are apart, Service takes the request from the
// bucket before it spends the nonce (a throttled request keeps its nonce for
// its retry) and refunds it when the nonce turns out used: a replay costs the
// signer nothing.
type Refunder interface {
	Refund(key string, l Limit)
}

// NonceStore remembers signature nonces to refuse replays.
type NonceStore interface {
	// Use records nonce ("<AccessKeyId>:<nonce>") for ttl and reports whether
	// it was fresh (not seen within its ttl). quota is the most live nonces
	// that principal may hold in memory (0: no bound); a store that holds
	// them in memory refuses a new one beyond it with a *NonceQuotaError.
	Use(ctx context.Context, nonce string, ttl time.Duration, quota int) (bool, error)
}

// NonceLimiter is a Limiter that can also record a nonce in the same step, so a
// shared backend answers both in one round trip. Service uses it when the
// configured Limiter implements it.
type NonceLimiter interface {
	Limiter
	AllowAndUse(ctx context.Context, key string, l Limit, nonce string, ttl time.Duration, quota int) (LimitResult, bool, error)
}

// NonceQuotaError is a NonceStore's refusal of a nonce because its principal
// already holds its quota of live ones. The caller is throttled, not the
// service: one principal's flood never refuses another's requests.
type NonceQuotaError struct {
	// RetryAfter is how long until the principal's soonest nonce expires.
	RetryAfter time.Duration
}

func (e *NonceQuotaError) Error() string {
	return fmt.Sprintf("the principal holds its quota of live signature nonces; one expires in %s", e.RetryAfter)
}

// Clock tells the time.
type Clock interface {
	Now() time.Time
}

// SystemClock is the wall clock.
type SystemClock struct{}

// Now returns time.Now.
func (SystemClock) Now() time.Time { return time.Now() }
