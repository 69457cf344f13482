package core

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/emmansun/gmsm/sm4"
)

// KeyMaterialSize is the size of CMK version material and of the root key.
const KeyMaterialSize = 32

// RootKey wraps and unwraps CMK version material and derives the keys other
// parts of the service need. It never exposes its bytes and prints as a
// placeholder, whatever the verb and whether or not it is a pointer.
type RootKey struct {
	aead cipher.AEAD
	// prk is the HKDF pseudorandom key extracted from the root bytes: derived
	// keys are expanded from it, so the root bytes themselves are not kept. It
	// sits behind a pointer so that a print which skips the methods below (a
	// RootKey in an unexported field, a verb fmt finds bad) shows an address.
	prk *[sha256.Size]byte
	// id names the root key in the versions it wraps (ID).
	id string
}

// rootIDPurpose labels the derivation of a root key's ID.
const rootIDPurpose = "kmsless/v1/root-key-id"

// rootSalt is the HKDF salt: a fixed label, so that the pseudorandom key is
// specific to this use of the root bytes.
const rootSalt = "kmsless/v1/root-derivation"

// NewRootKey makes a RootKey from 32 bytes. The caller should zero b afterwards;
// the RootKey keeps only the expanded AES key schedule and an HKDF pseudorandom
// key extracted from b.
func NewRootKey(b []byte) (*RootKey, error) {
	if len(b) != KeyMaterialSize {
		return nil, errors.New("root key must be 32 bytes")
	}
	aead, err := newAEAD(b)
	if err != nil {
		return nil, err
	}
	extracted, err := hkdf.Extract(sha256.New, b, []byte(rootSalt))
	if err != nil {
		return nil, err
	}
	prk := new([sha256.Size]byte)
	copy(prk[:], extracted)
	clear(extracted)
	r := &RootKey{aead: aead, prk: prk}
	fp := r.DeriveKey(rootIDPurpose)
	r.id = hex.EncodeToString(fp[:8])
	clear(fp)
	return r, nil
}

// ID is the root key's fingerprint: 16 hex digits of a key derived for this
// purpose alone, so it names the root key in stored versions and in logs
// while saying nothing about its bytes or any other derived key.
func (r *RootKey) ID() string { return r.id }

// DeriveKey returns a 32-byte key for one purpose, such as
// "kmsless/v1/redis-cache" (HKDF-SHA256, the purpose as info). Each purpose
// gets its own key, so a key handed to one component says nothing about the
// root or about another purpose's key.
func (r *RootKey) DeriveKey(purpose string) []byte {
	k, err := hkdf.Expand(sha256.New, r.prk[:], purpose, KeyMaterialSize)
	if err != nil {
		// Expand fails only for lengths above 255 hash blocks.
		panic("core: HKDF expand: " + err.Error())
	}
	return k
}

func (RootKey) String() string   { return "RootKey(redacted)" }
func (RootKey) GoString() string { return "RootKey(redacted)" }

// Format keeps verbs that bypass String, such as %d and %x on a copy of the
// struct, from printing the derivation key.
func (RootKey) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, "RootKey(redacted)") }

func versionAAD(keyID, versionID string) []byte {
	aad := make([]byte, 0, 8+len(keyID)+len(versionID))
	aad = append(aad, "kmsless/v1/version\x00"...)
	aad = append(aad, byte(len(keyID)))
	aad = append(aad, keyID...)
	aad = append(aad, byte(len(versionID)))
	return append(aad, versionID...)
}

// wrap seals material for storage: nonce || ciphertext || tag.
func (r *RootKey) wrap(rand io.Reader, keyID, versionID string, material []byte) ([]byte, error) {
	out := make([]byte, nonceSize, nonceSize+len(material)+tagSize)
	if _, err := io.ReadFull(rand, out); err != nil {
		return nil, err
	}
	return r.aead.Seal(out, out[:nonceSize], material, versionAAD(keyID, versionID)), nil
}

// open returns a stored version's plaintext material; the caller zeroes it.
func (r *RootKey) open(v KeyVersion) ([]byte, error) {
	if len(v.Wrapped) < nonceSize+tagSize {
		return nil, errors.New("wrapped key version is truncated")
	}
	material, err := r.aead.Open(nil, v.Wrapped[:nonceSize], v.Wrapped[nonceSize:], versionAAD(v.KeyID, v.VersionID))
	if err != nil {
		return nil, fmt.Errorf("wrapped key version does not open under root key %s", r.id)
	}
	return material, nil
}

// envelope makes the envelope of a version of a key of spec from its
// material: AES-GCM, or SM4-GCM for SpecSM4.
func envelope(spec string, v KeyVersion, material []byte) (*Envelope, error) {
	newBlock := aes.NewCipher
	if spec == SpecSM4 {
		newBlock = sm4.NewCipher
	}
	block, err := newBlock(material)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return NewEnvelope(aead, v.KeyID, v.VersionID)
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// newVersion makes a key version of size bytes of fresh material, wrapped
// by r.
func (r *RootKey) newVersion(rnd io.Reader, keyID, versionID string, created time.Time, size int) (KeyVersion, error) {
	material := make([]byte, size)
	defer clear(material)
	if _, err := io.ReadFull(rnd, material); err != nil {
		return KeyVersion{}, err
	}
	wrapped, err := r.wrap(rnd, keyID, versionID, material)
	if err != nil {
		return KeyVersion{}, err
	}
	return KeyVersion{KeyID: keyID, VersionID: versionID, CreatedAt: created, Wrapped: wrapped, RootKeyID: r.id}, nil
}

// GenerateRootKey returns 32 random bytes for a new root key.
func GenerateRootKey() ([]byte, error) {
	b := make([]byte, KeyMaterialSize)
	_, err := rand.Read(b)
	return b, err
}

// keyring keeps what versions' material makes in memory, so the hot path
// opens the root key wrapping once per version per instance: an encryption
// key's envelope (*Envelope), an asymmetric key's parsed private key
// (crypto.Signer). Bounded: when full it starts over.
type keyring struct {
	mu   sync.RWMutex
	m    map[VersionRef]any
	size int
}

func newKeyring(size int) *keyring {
	return &keyring{m: make(map[VersionRef]any), size: size}
}

func (k *keyring) get(id VersionRef) (any, bool) {
	k.mu.RLock()
	a, ok := k.m[id]
	k.mu.RUnlock()
	return a, ok
}

// drop forgets a version's envelope, once its material is deleted.
func (k *keyring) drop(id VersionRef) {
	k.mu.Lock()
	delete(k.m, id)
	k.mu.Unlock()
}

func (k *keyring) put(id VersionRef, a any) {
	k.mu.Lock()
	if len(k.m) >= k.size {
		clear(k.m)
	}
	k.m[id] = a
	k.mu.Unlock()
}
