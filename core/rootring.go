package core

import (
	"crypto/subtle"
	"errors"
	"fmt"
)

// RootRing is the set of root keys a service accepts: the current one, which
// wraps every new version, and during a root rotation the others that may
// still wrap stored versions. Once every version is re-wrapped under the
// current key (Service.RewrapRoot), the others can be dropped.
type RootRing struct {
	keys []*RootKey // the current key first
}

// NewRootRing makes a ring of the current root key and others that may still
// open stored versions.
func NewRootRing(current *RootKey, others ...*RootKey) (*RootRing, error) {
	if current == nil {
		return nil, errors.New("core: a root ring needs a current root key")
	}
	r := &RootRing{keys: []*RootKey{current}}
	for _, o := range others {
		if o == nil {
			continue
		}
		for _, k := range r.keys {
			if k.id == o.id {
				return nil, fmt.Errorf("root key %s is given twice", o.id)
			}
		}
		r.keys = append(r.keys, o)
	}
	return r, nil
}

// Current is the key that wraps new versions.
func (r *RootRing) Current() *RootKey { return r.keys[0] }

// IDs lists the ring's root key IDs, the current one first.
func (r *RootRing) IDs() []string {
	ids := make([]string, len(r.keys))
	for i, k := range r.keys {
		ids[i] = k.id
	}
	return ids
}

// keysFor returns the root keys that may have made v's wrapping and digest:
// the one its RootKeyID names or, for a version written before versions
// recorded their root key, each.
func (r *RootRing) keysFor(v KeyVersion) ([]*RootKey, error) {
	if v.RootKeyID == "" {
		return r.keys, nil
	}
	for i, k := range r.keys {
		if k.id == v.RootKeyID {
			return r.keys[i : i+1], nil
		}
	}
	return nil, fmt.Errorf("wrapped by root key %s, which is not configured (configured: %v)", v.RootKeyID, r.IDs())
}

// open returns a stored version's material, from the root key that wrapped
// it. The caller zeroes the material.
func (r *RootRing) open(v KeyVersion) ([]byte, error) {
	keys, err := r.keysFor(v)
	if err != nil {
		return nil, err
	}
	if v.RootKeyID != "" {
		return keys[0].open(v)
	}
	for _, k := range keys {
		if m, err := k.open(v); err == nil {
			return m, nil
		}
	}
	return nil, fmt.Errorf("wrapped key version opens under none of the configured root keys %v", r.IDs())
}

// holds reports whether the stored version v wraps exactly material, opened
// under whichever root key of the ring wrapped it. The unwrapped bytes are
// compared in constant time and zeroed: a seed is checked against the store
// without the stored material leaving this function.
func (r *RootRing) holds(v KeyVersion, material []byte) (bool, error) {
	stored, err := r.open(v)
	if err != nil {
		return false, err
	}
	defer clear(stored)
	return subtle.ConstantTimeCompare(stored, material) == 1, nil
}
