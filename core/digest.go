package core

import (
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
)

// A material digest holds an EXTERNAL key to the material first imported into
// it, also once that material is deleted: SHA-256 of the material and the
// version it belongs to, sealed under a key derived from the root key that
// RootKeyID names. Sealed rather than keyed, so that a root rotation moves it
// to the new root key without the material, which a key whose material was
// deleted no longer has; and whoever holds the store, without a root key,
// cannot test guesses of the material against it.

// materialDigestPurpose labels the key derived for material digests.
const materialDigestPurpose = "kmsless/v1/material-digest"

// hmacDigestSize is the size of a digest of the first form: an HMAC-SHA256
// of the same input under the derived key. Only the root key that made one
// can check it, and only the material can make a sealed one in its place.
const hmacDigestSize = sha256.Size

// errDigestNeedsMaterial says that a digest of the first form cannot move to
// another root key, because its key's material is deleted.
var errDigestNeedsMaterial = errors.New("the material digest can move to another root key only with the material")

func digestAAD(keyID, versionID string) []byte {
	return append([]byte(materialDigestPurpose+"\x00"), versionAAD(keyID, versionID)...)
}

// materialHash is what a digest seals.
func materialHash(keyID, versionID string, material []byte) []byte {
	h := sha256.New()
	h.Write(versionAAD(keyID, versionID))
	h.Write(material)
	return h.Sum(nil)
}

func (r *RootKey) digestAEAD() (cipher.AEAD, error) {
	key := r.DeriveKey(materialDigestPurpose)
	defer clear(key)
	return newAEAD(key)
}

// sealDigest returns the digest of material for a version, sealed under r.
func (r *RootKey) sealDigest(rnd io.Reader, keyID, versionID string, material []byte) ([]byte, error) {
	hash := materialHash(keyID, versionID, material)
	defer clear(hash)
	return r.sealHash(rnd, keyID, versionID, hash)
}

func (r *RootKey) sealHash(rnd io.Reader, keyID, versionID string, hash []byte) ([]byte, error) {
	aead, err := r.digestAEAD()
	if err != nil {
		return nil, err
	}
	out := make([]byte, nonceSize, nonceSize+len(hash)+tagSize)
	if _, err := io.ReadFull(rnd, out); err != nil {
		return nil, err
	}
	return aead.Seal(out, out[:nonceSize], hash, digestAAD(keyID, versionID)), nil
}

// openDigest returns the hash a sealed digest holds.
func (r *RootKey) openDigest(v KeyVersion) ([]byte, error) {
	aead, err := r.digestAEAD()
	if err != nil {
		return nil, err
	}
	if len(v.Digest) < nonceSize+tagSize {
		return nil, errors.New("the material digest is truncated")
	}
	hash, err := aead.Open(nil, v.Digest[:nonceSize], v.Digest[nonceSize:], digestAAD(v.KeyID, v.VersionID))
	if err != nil {
		return nil, fmt.Errorf("the material digest does not open under root key %s", r.id)
	}
	return hash, nil
}

// digestMatches reports whether v's digest, if r made it, is of material.
func (r *RootKey) digestMatches(v KeyVersion, material []byte) (bool, error) {
	if len(v.Digest) == hmacDigestSize {
		key := r.DeriveKey(materialDigestPurpose)
		defer clear(key)
		m := hmac.New(sha256.New, key)
		m.Write(versionAAD(v.KeyID, v.VersionID))
		m.Write(material)
		return hmac.Equal(v.Digest, m.Sum(nil)), nil
	}
	hash, err := r.openDigest(v)
	if err != nil {
		return false, err
	}
	defer clear(hash)
	want := materialHash(v.KeyID, v.VersionID, material)
	defer clear(want)
	return subtle.ConstantTimeCompare(hash, want) == 1, nil
}

// remembers reports whether v's digest is of material, checked under the root
// key that made it.
func (r *RootRing) remembers(v KeyVersion, material []byte) (bool, error) {
	keys, err := r.keysFor(v)
	if err != nil {
		return false, err
	}
	checked := false
	for _, k := range keys {
		same, err := k.digestMatches(v, material)
		if err != nil {
			continue // sealed under another of the keys tried
		}
		if same {
			return true, nil
		}
		checked = true
	}
	if !checked {
		return false, fmt.Errorf("the material digest opens under none of the configured root keys %v", r.IDs())
	}
	return false, nil
}

// resealDigest returns v's digest sealed under current instead. A sealed
// digest moves without the material; a digest of the first form is made anew
// from material (nil when the key's material is deleted), once that is
// checked to be the material it remembers.
func (r *RootRing) resealDigest(rnd io.Reader, current *RootKey, v KeyVersion, material []byte) ([]byte, error) {
	if len(v.Digest) == hmacDigestSize {
		if material == nil {
			return nil, errDigestNeedsMaterial
		}
		same, err := r.remembers(v, material)
		if err != nil {
			return nil, err
		}
		if !same {
			return nil, errors.New("the material digest is not of the version's material")
		}
		return current.sealDigest(rnd, v.KeyID, v.VersionID, material)
	}
	keys, err := r.keysFor(v)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		if hash, err := k.openDigest(v); err == nil {
			defer clear(hash)
			return current.sealHash(rnd, v.KeyID, v.VersionID, hash)
		}
	}
	return nil, fmt.Errorf("the material digest opens under none of the configured root keys %v", r.IDs())
}
