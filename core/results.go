package core

import "time"

// What actions return, in the domain's own terms. Each protocol's adapter
// renders them in its wire shapes; an action that returns only a RequestId
// returns nil.

// Listing is one page of a listing and the total it is part of.
type Listing[T any] struct {
	Items      []T
	Total      int
	PageNumber int
	PageSize   int
}

// KeyPage is one page of ListKeys by position (Request.KeysAfter): its keys,
// and whether more follow the last of them, after which the next page
// starts.
type KeyPage struct {
	Items []Key
	More  bool
}

// AliasPage is one page of ListAliases or ListAliasesByKeyId by position
// (Request.AliasesAfter): its aliases, and whether more follow the last of
// them, after which the next page starts.
type AliasPage struct {
	Items []Alias
	More  bool
}

// GrantCreated is CreateGrant's answer: the grant, and a token naming it.
type GrantCreated struct {
	KeyID, GrantID, Token string
}

// GrantPage is one page of ListGrants or ListRetirableGrants: its grants,
// and when more follow them, the marker the next page starts after.
type GrantPage struct {
	Items []Grant
	Next  string
}

// Sealed is a CiphertextBlob and the key version that sealed it: the result of
// GenerateDataKeyWithoutPlaintext, Encrypt and ReEncrypt. Cipher is the
// symmetric cipher that sealed it (CipherAESGCM or CipherSM4GCM), and empty
// for an asymmetric key's ciphertext.
type Sealed struct {
	KeyID, VersionID, Cipher string
	Blob                     []byte
}

// DataKey is the result of GenerateDataKey: a fresh data key and its blob. The
// adapter clears Plaintext once it has encoded it.
type DataKey struct {
	Sealed
	Plaintext []byte
}

// DataKeyPair is the result of GenerateDataKeyPair and
// GenerateDataKeyPairWithoutPlaintext: the blob of the private key, the
// public key (SubjectPublicKeyInfo, DER) and, for GenerateDataKeyPair only,
// the private key (PKCS #8, DER), which the adapter clears once it has
// encoded it.
type DataKeyPair struct {
	Sealed
	Spec       string
	PublicKey  []byte
	PrivateKey []byte
}

// Opened is the result of Decrypt. The adapter clears Plaintext once it has
// encoded it. Cipher is as Sealed's.
type Opened struct {
	KeyID, VersionID, Cipher string
	Plaintext                []byte
}

// Exported is the result of ExportDataKey: the data key of a blob, encrypted
// under the caller's public key, and the key version that opened the blob.
type Exported struct {
	KeyID, VersionID string
	ExportedKey      []byte
}

// SealedAndExported is the result of GenerateAndExportDataKey: a fresh data
// key's blob, and the same data key encrypted under the caller's public key.
type SealedAndExported struct {
	Sealed
	ExportedKey []byte
}

// Changed is the key as an action that changes it (enable, disable, deletion,
// description, rotation policy) left it. Alibaba answers such actions with a
// RequestId only; AWS echoes some of the key's state.
type Changed struct {
	Key Key
	// VersionID names the version whose material an import or deletion
	// changed; empty for other changes.
	VersionID string
}

// Resealed is the result of ReEncrypt: the new blob and the key version the
// source blob was opened with.
type Resealed struct {
	Sealed
	SourceKeyID, SourceVersionID string
	// SourceAlgorithm and DestinationAlgorithm are the algorithms that
	// opened and sealed the plaintext, in AWS's names: SYMMETRIC_DEFAULT
	// for a symmetric key's blob.
	SourceAlgorithm, DestinationAlgorithm string
}

// Wipe clears the secret a result carries (a data key, a private key, a
// plaintext, random bytes, a shared secret, a secret's value or a password): each adapter calls it once it has encoded the
// result.
func Wipe(result any) {
	switch r := result.(type) {
	case DataKey:
		clear(r.Plaintext)
	case DataKeyPair:
		clear(r.PrivateKey)
	case Opened:
		clear(r.Plaintext)
	case Random:
		clear(r.Bytes)
	case SharedSecret:
		clear(r.Secret)
	case Encapsulated:
		clear(r.Secret)
	case Decapsulated:
		clear(r.Secret)
	case SecretValue:
		clear(r.Data)
	case Password:
		clear(r.Text)
	case CertificateOpened:
		clear(r.Plaintext)
	case ClientKeyIssued:
		clear(r.PrivateKey)
	}
}

// Random is the result of GenerateRandom. The adapter clears Bytes once it
// has encoded them.
type Random struct {
	Bytes []byte
}

// KeyPolicy is a key's policy: GetKeyPolicy's result, and the items of
// ListKeyPolicies. Every key has exactly one, "default"; Document is what
// was put on the key, empty for the default policy, which gives the account
// every action and so leaves the callers' own policies to decide, and which
// each adapter writes out in its protocol's policy language.
type KeyPolicy struct {
	KeyID, Name, Document string
}

// Rotation is one of a key's versions as ListKeyRotations lists it. First
// marks the version the key was made with, which no rotation made; the
// version's RotationType says which kind of rotation made the others.
type Rotation struct {
	KeyVersion
	First bool
	// Current marks the key's primary version, the one that seals.
	Current bool
	// External marks a version of an EXTERNAL key; Imported tells whether
	// its material is imported now, and ExpireAt when that expires (zero:
	// never, or no material).
	External, Imported bool
}

// KeyLastUsage answers GetKeyLastUsage: a key's last recorded use (the
// zero KeyUsage when none is kept), since when uses are kept for it (the
// later of its creation and the store's first keeping), and its creation.
type KeyLastUsage struct {
	KeyID         string
	Usage         KeyUsage
	TrackingStart time.Time
	KeyCreated    time.Time
}
