package core

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

// Sealed is a CiphertextBlob and the key version that sealed it: the result of
// GenerateDataKeyWithoutPlaintext, Encrypt and ReEncrypt.
type Sealed struct {
	KeyID, VersionID string
	Blob             []byte
}

// DataKey is the result of GenerateDataKey: a fresh data key and its blob. The
// adapter clears Plaintext once it has encoded it.
type DataKey struct {
	Sealed
	Plaintext []byte
}

// Opened is the result of Decrypt. The adapter clears Plaintext once it has
// encoded it.
type Opened struct {
	KeyID, VersionID string
	Plaintext        []byte
}
