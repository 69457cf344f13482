package core

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"
)

// KeyState is the lifecycle state of a customer master key.
type KeyState string

// Key states as Alibaba Cloud KMS reports them.
const (
	KeyEnabled         KeyState = "Enabled"
	KeyDisabled        KeyState = "Disabled"
	KeyPendingDeletion KeyState = "PendingDeletion"
	// KeyPendingImport: a key of Origin EXTERNAL without key material, before
	// its first import or after its material was deleted or expired.
	KeyPendingImport KeyState = "PendingImport"
)

// Key is the metadata of a customer master key. It holds no key material: the
// material lives in its KeyVersions, wrapped by the root key.
type Key struct {
	ID              string
	Description     string
	KeySpec         string
	KeyUsage        string
	Origin          string
	ProtectionLevel string
	Creator         string
	State           KeyState
	CreatedAt       time.Time
	// DeleteAt is when a key in PendingDeletion is destroyed; zero otherwise.
	DeleteAt         time.Time
	PrimaryVersionID string
	// Rotation policy. RotationInterval is zero when automatic rotation is off.
	AutomaticRotation bool
	RotationInterval  time.Duration
	LastRotatedAt     time.Time
	// RotationBase is when the automatic schedule counts RotationInterval
	// from, if not LastRotatedAt: a version made on demand (CreateKeyVersion,
	// RotateKeyOnDemand) while automatic rotation is on leaves the schedule
	// where it was, and AWS's EnableKeyRotation starts it on the day it turns
	// rotation on. Zero means LastRotatedAt, as in records written before
	// this field existed, where every rotation restarted the schedule.
	RotationBase time.Time
	// Tags label the key (at most MaxTags); policy conditions read them.
	Tags map[string]string
	// DeletionProtection refuses ScheduleKeyDeletion while set.
	DeletionProtection            bool
	DeletionProtectionDescription string
	// MaterialExpireAt is when imported key material expires (zero: never, or
	// not an EXTERNAL key).
	MaterialExpireAt time.Time
	// Policy is the key's own policy document, JSON as it was put; empty
	// is the default policy, which gives the account every action and so
	// leaves the callers' own policies to decide (see keypolicy.go).
	Policy string
	// Revision increases by one on every stored change; stores use it for
	// compare-and-set updates and caches for invalidation.
	Revision int64
}

// NextRotation is when automatic rotation is next due (zero when it is off).
func (k Key) NextRotation() time.Time {
	if !k.AutomaticRotation || k.RotationInterval <= 0 {
		return time.Time{}
	}
	return k.rotationBase().Add(k.RotationInterval)
}

// rotationBase is when the automatic schedule counts from.
func (k Key) rotationBase() time.Time {
	if k.RotationBase.IsZero() {
		return k.LastRotatedAt
	}
	return k.RotationBase
}

// PastDeletion reports whether the key's deletion date has come by t: from
// then on the key and its aliases are gone, whether or not the store still
// holds them. A zero t is before every date.
func (k Key) PastDeletion(t time.Time) bool { return pastDate(k.DeleteAt, t) }

// pastDate reports whether a deletion date has come by t; a zero date never
// comes, and a zero t is before every date.
func pastDate(date, t time.Time) bool {
	return !date.IsZero() && !t.IsZero() && !t.Before(date)
}

// KeyVersion is one version of a key's material, wrapped by the root key. Versions
// are immutable once written, but for the material of an EXTERNAL key, which
// is imported into its version and may be deleted from it.
type KeyVersion struct {
	KeyID     string
	VersionID string
	CreatedAt time.Time
	// Wrapped is the version's 32-byte material sealed under the root key with
	// AAD binding KeyID and VersionID. Never the plaintext. Empty for a
	// version of an EXTERNAL key whose material is not imported (yet, or any
	// more).
	Wrapped []byte
	// Digest identifies imported material without revealing it (a hash of
	// it sealed under the root key, digest.go), so that a re-import can be
	// held to the same material after the material was deleted. Nil
	// otherwise.
	Digest []byte
	// RootKeyID names the root key that wrapped it and sealed its Digest
	// (RootKey.ID); empty for versions written before versions recorded it.
	// A root rotation re-wraps versions in place, the one change a version
	// sees.
	RootKeyID string
	// RotationType is how the version came to be. Empty for the version a
	// key was made with, which no rotation made, for versions a seed file
	// supplied, and for versions written before versions recorded it;
	// RotationPending for an EXTERNAL key's material imported for a rotation
	// not yet made.
	RotationType RotationType
	// ExpireAt is when an EXTERNAL key's imported material in this version
	// expires: zero when it never does, when none is imported, and for
	// other keys.
	ExpireAt time.Time
	// MaterialDescription is the caller's description of the imported
	// material (AWS's KeyMaterialDescription); empty for other keys.
	MaterialDescription string
}

// MaterialID names the material of a key's version as AWS names key
// materials (KeyMaterialId): 64 lowercase hex digits. It is a hash of the
// key and version IDs, which are no secret, so it tells nothing of the
// material; the same version always has the same one, through a re-import
// of its material and a rotation of the root key alike.
func MaterialID(keyID, versionID string) string {
	var in [128]byte // room for both IDs at their usual lengths, on the stack
	b := append(in[:0], "kmsless key material\x00"...)
	b = append(append(append(b, keyID...), 0), versionID...)
	sum := sha256.Sum256(b)
	var out [2 * sha256.Size]byte
	hex.Encode(out[:], sum[:])
	return string(out[:])
}

// RotationType names the kind of rotation that made a version.
type RotationType string

const (
	// RotationAutomatic: the automatic schedule made the version.
	RotationAutomatic RotationType = "Automatic"
	// RotationOnDemand: a caller asked for it (CreateKeyVersion,
	// RotateKeyOnDemand).
	RotationOnDemand RotationType = "OnDemand"
	// RotationPending: material imported into an EXTERNAL key for an
	// on-demand rotation not yet made (AWS's PENDING_ROTATION). The
	// rotation makes the version primary and RotationOnDemand.
	RotationPending RotationType = "Pending"
	// RotationWithdrawn: material once pending rotation, deleted before the
	// rotation. The version holds no material and never will again, so
	// that a version's material, once imported, is only ever that one,
	// which caches rely on (VersionRef); listings leave it out.
	RotationWithdrawn RotationType = "Withdrawn"
)

// Alias is a friendly name ("alias/…") pointing at a key.
type Alias struct {
	Name      string
	KeyID     string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Partition is the record of a data partition's data key: the ciphertext of the one
// data key minted for it. The plaintext key is never stored.
type Partition struct {
	ID                string
	KeyID             string
	KeyVersionID      string
	CiphertextBlob    []byte
	EncryptionContext map[string]string
	CreatedAt         time.Time
}

// Page asks for one page of a listing. Offset counts items, not pages; a Limit
// of zero or less means no limit.
type Page struct {
	Offset int
	Limit  int
}

// KeyPosition is a key's place in the store's listing of keys, which orders
// them by creation time, then ID (as bytes). A walk that stops after a key
// resumes after its position: keys made or deleted meanwhile do not move the
// place of the others, as they move an offset.
type KeyPosition struct {
	CreatedAt time.Time
	ID        string
}

// Position is k's place in the listing of keys.
func (k Key) Position() KeyPosition {
	return KeyPosition{CreatedAt: k.CreatedAt, ID: k.ID}
}

// Compare orders positions as the listing does: -1 when p comes first, 0
// for one place, +1 when p comes after q.
func (p KeyPosition) Compare(q KeyPosition) int {
	if c := p.CreatedAt.Compare(q.CreatedAt); c != 0 {
		return c
	}
	return strings.Compare(p.ID, q.ID)
}

// AliasPosition is an alias's place in the store's listing of aliases, which
// orders them by name (as bytes). As with a KeyPosition, a walk that stops
// after an alias resumes after its position, wherever aliases were made or
// deleted meanwhile. The zero position comes before every alias.
type AliasPosition struct {
	Name string
}

// Position is a's place in the listing of aliases.
func (a Alias) Position() AliasPosition {
	return AliasPosition{Name: a.Name}
}

// GenericSecret is a named secret, Alibaba's generic secret: its metadata and its
// versions. Each version's value is sealed under the secret's key as Encrypt
// seals, bound to the secret's name and the version's ID; no value is kept
// in the clear.
type GenericSecret struct {
	Name        string
	Description string
	// KeyID is the ID of the symmetric key that seals the secret's values.
	KeyID     string
	Creator   string
	CreatedAt time.Time
	UpdatedAt time.Time
	// DeleteAt is when a secret scheduled for deletion goes; zero when it is
	// not scheduled.
	DeleteAt time.Time
	Tags     map[string]string
	// Stages maps each stage label ("ACSCurrent", "ACSPrevious", …) to the
	// version that carries it.
	Stages map[string]string
	// Versions are the secret's versions, oldest first. ListSecrets leaves
	// them out.
	Versions []SecretVersion
	// Policy is the secret's own policy document as it was put, JSON; ""
	// is the default policy (see keypolicy.go).
	Policy   string
	Revision int64
}

// PastDeletion reports whether the secret's deletion date has come by t, as
// Key.PastDeletion does for keys: from then on the secret is gone, whether or
// not the store still holds it.
func (s *GenericSecret) PastDeletion(t time.Time) bool { return pastDate(s.DeleteAt, t) }

// SecretVersion is one value of a secret.
type SecretVersion struct {
	ID        string
	CreatedAt time.Time
	// DataType is "text" or "binary" (the value is base64, as the caller
	// sent it).
	DataType string
	// Sealed is the value's CiphertextBlob under the secret's key.
	Sealed []byte
}

// Grant lets one principal, the grantee, use one key for the operations it
// names, as AWS KMS's grants do. A grant is kept beside the key and read
// only when a caller's own policy does not allow what it asks.
type Grant struct {
	// ID is 64 hexadecimal digits, unique within the key.
	ID    string
	KeyID string
	// KeyCreated is the key's CreatedAt in Unix seconds: a key purged past
	// its deletion date and made again under the same ID by a seed is not
	// the key the grant was for, and the grant gives nothing on it.
	KeyCreated int64
	// Name is the caller's name for the grant ("" when it gave none); a
	// CreateGrant repeated with the same name and terms returns the grant
	// it made.
	Name string
	// Grantee and Retiring are the principals' ARNs (Service.PrincipalARN);
	// GranteeName and RetiringName their names, by which grants are found.
	// Retiring is "" when the grant names no retiring principal.
	Grantee, GranteeName   string
	Retiring, RetiringName string
	// Operations are the grant operations, in AWS's names ("Decrypt",
	// "ReEncryptFrom", …), sorted, each once.
	Operations []string
	// Constraints, when set, limit the grant's symmetric cryptographic
	// operations to requests whose encryption context matches.
	Constraints GrantConstraints
	// Issuer is the name of the principal that made the grant.
	Issuer    string
	CreatedAt time.Time
}

// Of reports whether g was made on k, and not on an earlier key of its ID.
func (g *Grant) Of(k *Key) bool { return g.KeyCreated == k.CreatedAt.Unix() }

// GrantConstraints are a grant's encryption context constraints: a request
// matches Equals when its context has exactly these pairs, and Subset when
// its context holds at least these; keys compare without regard to case,
// values exactly. Nil imposes nothing.
type GrantConstraints struct {
	Equals, Subset EncryptionContext
}

// GrantPosition is where a listing of retirable grants stopped: the grants
// after it come next, in order of key ID and then grant ID.
type GrantPosition struct {
	KeyID, GrantID string
}

// Certificate statuses, as Alibaba's Certificates Manager names them. A
// certificate is PENDING from CreateCertificate until UploadCertificate
// gives it the certificate a CA issued; then ACTIVE, and INACTIVE or
// REVOKED as UpdateCertificateStatus sets it.
const (
	CertificatePending  = "PENDING"
	CertificateActive   = "ACTIVE"
	CertificateInactive = "INACTIVE"
	CertificateRevoked  = "REVOKED"
)

// Certificate is a certificate of Alibaba's Certificates Manager: a private
// key made and kept here, the request (CSR) to certify its public key, and,
// once uploaded, the certificate a CA issued for it and its chain. The
// private key never leaves the service: it signs and decrypts inside it.
type Certificate struct {
	// ID is a UUID, made here.
	ID string
	// KeySpec is the private key's spec by core's name: RSA_2048,
	// ECC_NIST_P256 or SM2.
	KeySpec string
	// Subject is the distinguished name the CSR names, as the caller gave
	// it, and SubjectAlternativeNames the DNS names it asks for.
	Subject                 string
	SubjectAlternativeNames []string
	// Exportable is CreateCertificate's ExportablePrivateKey, recorded and
	// described; no operation exports a private key.
	Exportable bool
	Status     string
	Creator    string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	Tags       map[string]string
	// PrivateKey is the private key's PKCS #8 wrapped by the root key, as a
	// key version's material is, with the certificate's ID for the key's and
	// CertificateKeyVersion for the version's, and RootKeyID the root key's.
	PrivateKey []byte
	RootKeyID  string
	// CSR is the certificate request's DER.
	CSR []byte
	// Certificate is the DER of the certificate uploaded, nil while the
	// certificate is PENDING; Chain the DER of each certificate of its
	// chain, as uploaded, in order.
	Certificate []byte
	Chain       [][]byte
	Revision    int64
}

// CertificateKeyVersion is the version ID a certificate's private key is
// wrapped under. No key version has it (theirs are UUIDs), so a
// certificate's wrapped key never opens as a key's version, nor the other way.
const CertificateKeyVersion = "certificate"
