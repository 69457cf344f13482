package core

import (
	"crypto/cipher"
	"errors"
	"io"
)

// CiphertextBlob format, version 1:
//
//	byte     format version (1)
//	byte     length of the key ID, then the key ID
//	byte     length of the key version ID, then the version ID
//	12 bytes AES-GCM nonce
//	rest     AES-256-GCM ciphertext and 16-byte tag
//
// The AAD is everything before the nonce followed by the canonical encoding of the
// encryption context, so the header and the context are both authenticated and a
// blob names the key that opens it: Decrypt needs no KeyId.
const (
	blobVersion1 = 1
	nonceSize    = 12
	tagSize      = 16
	maxIDLen     = 255
)

var errMalformedBlob = errors.New("malformed ciphertext blob")

// Envelope seals and opens CiphertextBlobs under one key version, as an AEAD
// does with bytes: Seal and SealRandom make blobs naming the version, Open
// opens them. It holds the version's AEAD, never its material.
type Envelope struct {
	aead   cipher.AEAD
	header []byte // version byte through version ID
	// emptyAAD is the AAD of every blob sealed without a context, made
	// once: most data keys have none.
	emptyAAD []byte
}

// NewEnvelope returns the envelope of a key version whose material keys aead.
func NewEnvelope(aead cipher.AEAD, keyID, versionID string) (*Envelope, error) {
	if len(keyID) == 0 || len(keyID) > maxIDLen || len(versionID) == 0 || len(versionID) > maxIDLen {
		return nil, errors.New("key or version ID length out of range")
	}
	h := make([]byte, 0, 3+len(keyID)+len(versionID))
	h = append(h, blobVersion1, byte(len(keyID)))
	h = append(h, keyID...)
	h = append(h, byte(len(versionID)))
	h = append(h, versionID...)
	return &Envelope{aead: aead, header: h, emptyAAD: EncryptionContext(nil).appendCanonical(h)}, nil
}

// Seal returns a blob of plaintext under ctx; rand supplies the nonce.
func (e *Envelope) Seal(rand io.Reader, ctx EncryptionContext, plaintext []byte) ([]byte, error) {
	out := e.start(len(plaintext))
	if _, err := io.ReadFull(rand, out[len(e.header):]); err != nil {
		return nil, err
	}
	return e.seal(out, ctx, plaintext), nil
}

// SealRandom returns a blob of n fresh random bytes under ctx: a data key no
// one sees. The nonce and the key are read straight into the blob's buffer and
// sealed in place, so no copy of the key outlives the call.
func (e *Envelope) SealRandom(rand io.Reader, ctx EncryptionContext, n int) ([]byte, error) {
	out := e.start(n)
	fresh := out[len(e.header) : len(out)+n]
	if _, err := io.ReadFull(rand, fresh); err != nil {
		clear(fresh)
		return nil, err
	}
	// Seal's output starts exactly where the key does: the exact overlap that
	// crypto/cipher allows for in-place encryption.
	return e.seal(out, ctx, out[len(out):len(out)+n]), nil
}

// Open authenticates and decrypts a blob of this version under ctx. Any
// mismatch (another key or version, another context, a changed byte) is one
// error.
func (e *Envelope) Open(bl Blob, ctx EncryptionContext) ([]byte, error) {
	pt, err := e.aead.Open(nil, bl.nonce, bl.sealed, ctx.appendCanonical(bl.header))
	if err != nil {
		return nil, errMalformedBlob
	}
	return pt, nil
}

// start allocates a blob for ptLen bytes of plaintext and writes the header;
// the slice returned ends after the nonce, still to be filled.
func (e *Envelope) start(ptLen int) []byte {
	out := make([]byte, len(e.header)+nonceSize, len(e.header)+nonceSize+ptLen+tagSize)
	copy(out, e.header)
	return out
}

// seal appends the sealed plaintext to out (header and nonce).
func (e *Envelope) seal(out []byte, ctx EncryptionContext, plaintext []byte) []byte {
	aad := e.emptyAAD
	if len(ctx) > 0 {
		aad = ctx.appendCanonical(e.header)
	}
	return e.aead.Seal(out, out[len(e.header):], plaintext, aad)
}

// Blob is a parsed CiphertextBlob.
type Blob struct {
	KeyID     string
	VersionID string
	header    []byte // version byte through version ID
	nonce     []byte
	sealed    []byte
}

// Nonce is the nonce the blob was sealed with (the AEAD's IV).
func (b Blob) Nonce() []byte { return b.nonce }

// ParseBlob splits a CiphertextBlob into its parts without opening it. It fails on
// anything that is not a well-formed version-1 blob, including IDs of characters
// no key or version ID has: the IDs are looked up before the blob is
// authenticated, and a store must never be handed bytes such as NUL.
func ParseBlob(b []byte) (Blob, error) {
	if len(b) < 3 || b[0] != blobVersion1 {
		return Blob{}, errMalformedBlob
	}
	i := 1
	kl := int(b[i])
	i++
	if kl == 0 || len(b) < i+kl+1 {
		return Blob{}, errMalformedBlob
	}
	keyID := string(b[i : i+kl])
	if !validKeyID(keyID) {
		return Blob{}, errMalformedBlob
	}
	i += kl
	vl := int(b[i])
	i++
	if vl == 0 || len(b) < i+vl+nonceSize+tagSize {
		return Blob{}, errMalformedBlob
	}
	versionID := string(b[i : i+vl])
	if !validVersionID(versionID) {
		return Blob{}, errMalformedBlob
	}
	i += vl
	return Blob{
		KeyID:     keyID,
		VersionID: versionID,
		header:    b[:i:i],
		nonce:     b[i : i+nonceSize],
		sealed:    b[i+nonceSize:],
	}, nil
}
