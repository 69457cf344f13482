package core

import "io"

// DefaultPolicyName is the name of the one policy every key has.
const DefaultPolicyName = "default"

// getKeyPolicy answers for a key's policy. Keys carry no policy document of
// their own: who may do what is the callers' policies alone, so there is one
// policy per key, "default", and nothing to set.
func (c *call) getKeyPolicy() (any, error) {
	name := c.str("PolicyName")
	if name == "" {
		name = DefaultPolicyName
	}
	t, err := c.resolve("KeyId")
	if err != nil {
		return nil, err
	}
	if name != DefaultPolicyName {
		return nil, Errorf(CodeKeyNotFound, "The key %q has no policy %q; its one policy is %q.", t.key.ID, ClipText(name), DefaultPolicyName)
	}
	return KeyPolicy{KeyID: t.key.ID, Name: DefaultPolicyName}, nil
}

func (c *call) listKeyPolicies() (any, error) {
	t, err := c.resolve("KeyId")
	if err != nil {
		return nil, err
	}
	return Listing[KeyPolicy]{Items: []KeyPolicy{{KeyID: t.key.ID, Name: DefaultPolicyName}}, Total: 1, PageNumber: 1, PageSize: 1}, nil
}

// generateRandom returns NumberOfBytes (1–1024) random bytes. It is on no key:
// policies grant it on the key collection, like CreateKey and ListKeys.
func (c *call) generateRandom() (any, error) {
	n, ok, err := c.int("NumberOfBytes", 1, 1024)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, missingParam("NumberOfBytes")
	}
	if err := c.authorize(c.s.CollectionARN("key")); err != nil {
		return nil, err
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(c.s.rand, b); err != nil {
		return nil, internal("random: %w", err)
	}
	return Random{Bytes: b}, nil
}

// expectKey checks that the key the caller named in param, if any, is the
// one that made a blob (keyID): naming a key is a promise about the blob, and
// a broken promise is refused rather than ignored.
func (c *call) expectKey(param, keyID string) error {
	if c.str(param) == "" {
		return nil
	}
	t, err := c.resolve(param)
	if err != nil {
		return err
	}
	if t.key.ID != keyID {
		return Errorf(CodeIncorrectKey, "The ciphertext was not made under the key named by %s.", param)
	}
	return nil
}
