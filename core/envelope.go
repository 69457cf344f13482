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

// Blob is a parsed CiphertextBlob.
type Blob struct {
	KeyID     string
	VersionID string
	header    []byte // version byte through version ID
	nonce     []byte
	sealed    []byte
}

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
		header:    b[:i],
		nonce:     b[i : i+nonceSize],
		sealed:    b[i+nonceSize:],
	}, nil
}

// Open authenticates and decrypts the blob with the version's AEAD under the given
// context. Any mismatch (wrong key, context or a changed byte) is one error.
func (bl Blob) Open(aead cipher.AEAD, ctx EncryptionContext) ([]byte, error) {
	aad := ctx.appendCanonical(append(make([]byte, 0, len(bl.header)+64), bl.header...))
	pt, err := aead.Open(nil, bl.nonce, bl.sealed, aad)
	if err != nil {
		return nil, errMalformedBlob
	}
	return pt, nil
}

// SealBlob encrypts plaintext under a key version's AEAD and returns a version-1
// CiphertextBlob. rand supplies the nonce.
func SealBlob(aead cipher.AEAD, rand io.Reader, keyID, versionID string, ctx EncryptionContext, plaintext []byte) ([]byte, error) {
	out, err := blobHeader(keyID, versionID, ctx, len(plaintext))
	if err != nil {
		return nil, err
	}
	if _, err := io.ReadFull(rand, out[len(out)-nonceSize:]); err != nil {
		return nil, err
	}
	return sealBlob(aead, out, ctx, plaintext), nil
}

// sealRandomBlob returns a blob of n fresh random bytes. The nonce and the
// plaintext come from one read straight into the blob's buffer and are sealed in
// place, so no copy of the plaintext outlives the call. reveal, when not nil,
// sees the plaintext just before it is sealed (GenerateDataKey returns it).
func sealRandomBlob(aead cipher.AEAD, rand io.Reader, keyID, versionID string, ctx EncryptionContext, n int, reveal func([]byte)) ([]byte, error) {
	out, err := blobHeader(keyID, versionID, ctx, n)
	if err != nil {
		return nil, err
	}
	hl := len(out)
	fresh := out[hl-nonceSize : hl+n]
	if _, err := io.ReadFull(rand, fresh); err != nil {
		clear(fresh)
		return nil, err
	}
	pt := out[hl : hl+n]
	if reveal != nil {
		reveal(pt)
	}
	// Seal's output starts exactly where pt does: the exact overlap that
	// crypto/cipher allows for in-place encryption.
	return sealBlob(aead, out, ctx, pt), nil
}

// blobHeader allocates a blob for ptLen bytes of plaintext and writes its header.
// The returned slice ends after the (still empty) nonce. Its capacity also holds
// the AAD that sealBlob builds past the sealed bytes: the AEAD is an interface,
// so an AAD buffer of its own would escape to the heap, a second allocation on
// every call.
func blobHeader(keyID, versionID string, ctx EncryptionContext, ptLen int) ([]byte, error) {
	if len(keyID) == 0 || len(keyID) > maxIDLen || len(versionID) == 0 || len(versionID) > maxIDLen {
		return nil, errors.New("key or version ID length out of range")
	}
	hl := 3 + len(keyID) + len(versionID)
	aadLen := hl + 4
	for k, v := range ctx {
		aadLen += 8 + len(k) + len(v)
	}
	out := make([]byte, hl+nonceSize, hl+nonceSize+ptLen+tagSize+aadLen)
	out[0] = blobVersion1
	out[1] = byte(len(keyID))
	copy(out[2:], keyID)
	out[2+len(keyID)] = byte(len(versionID))
	copy(out[3+len(keyID):], versionID)
	return out, nil
}

// sealBlob seals plaintext onto out (a header and nonce from blobHeader). The
// returned blob's capacity ends where the sealed bytes do, so an append to it
// cannot reach the AAD kept after them.
func sealBlob(aead cipher.AEAD, out []byte, ctx EncryptionContext, plaintext []byte) []byte {
	hl := len(out) - nonceSize
	end := len(out) + len(plaintext) + tagSize
	aad := ctx.appendCanonical(append(out[end:end], out[:hl]...))
	return aead.Seal(out[:len(out):end], out[hl:], plaintext, aad)
}
