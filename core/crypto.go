package core

import (
	"cmp"
	"encoding/base64"
	"errors"
	"io"
	"strings"
)

// MaxEncryptPlaintext is the most Encrypt accepts, in bytes after base64 decoding.
const MaxEncryptPlaintext = 6144

// dataKeySize reads NumberOfBytes (1–1024) or KeySpec (AES_256 = 32 bytes,
// AES_128 = 16 bytes); neither means 32 bytes. NumberOfBytes wins: Alibaba
// ignores KeySpec when both are given, so KeySpec is not even checked then.
// (AWS refuses the two together, which its adapter decides.)
func (c *call) dataKeySize() (int, error) {
	n, ok, err := c.int("NumberOfBytes", 1, 1024)
	if err != nil {
		return 0, err
	}
	if ok {
		return n, nil
	}
	switch c.str("KeySpec") {
	case "", "AES_256":
		return 32, nil
	case "AES_128":
		return 16, nil
	}
	return 0, invalidParam("KeySpec", "it must be AES_256 or AES_128")
}

// sealingKey resolves keyParam into k, a key that may seal. A DryRun ends
// here, every check passed, before anything is minted.
func (c *call) sealingKey(k *Key, keyParam string) error {
	if err := c.resolveKey(k, keyParam); err != nil {
		return err
	}
	return c.sealable(k)
}

// sealingRef is sealingKey for a reference already read.
func (c *call) sealingRef(k *Key, ref keyRef) error {
	if err := c.resolveRef(k, ref); err != nil {
		return err
	}
	return c.sealable(k)
}

// sealable checks that k, resolved, may seal; a DryRun ends here.
func (c *call) sealable(k *Key) error {
	if err := c.envelopeKey(k); err != nil {
		return err
	}
	if c.dry {
		return errDryRunOK
	}
	return nil
}

// envelopeKey checks that k, resolved, seals and opens envelopes now, in
// the cipher the caller named, if any.
func (c *call) envelopeKey(k *Key) error {
	if err := usable(k); err != nil {
		return err
	}
	if err := encrypts(k); err != nil {
		return err
	}
	return c.namedCipher(k)
}

// ignoreCiphertext is the one DryRunModifiers value, AWS's.
const ignoreCiphertext = "IGNORE_CIPHERTEXT"

// ignoresCiphertext reads DryRunModifiers (Decrypt's and ReEncrypt's, a
// comma-separated list) and reports whether the request is a DryRun that
// asks for the checks of its key and permission only, reading no
// ciphertext. Outside a DryRun the modifiers change nothing, as AWS
// documents.
func (c *call) ignoresCiphertext() (bool, error) {
	v := c.str("DryRunModifiers")
	if v == "" {
		return false, nil
	}
	for m := range strings.SplitSeq(v, ",") {
		if m != ignoreCiphertext {
			return false, invalidParam("DryRunModifiers", "the one modifier is %s", ignoreCiphertext)
		}
	}
	return c.dry, nil
}

// dryOpen checks what opening a blob under the key keyParam names would,
// without a blob: the context, the key, and the caller's permission, which
// conditions on the context may decide. A DryRun that ignores the
// ciphertext runs it in open's place.
func (c *call) dryOpen(ctxParam, keyParam string) (Key, error) {
	ctx, err := c.context(ctxParam)
	if err != nil {
		return Key{}, err
	}
	c.facts.Context = ctx
	var k Key
	if err := c.resolveKey(&k, keyParam); err != nil {
		return Key{}, err
	}
	return k, c.envelopeKey(&k)
}

// sealRandom seals n fresh random bytes under k's primary version: a data key
// that is never revealed.
func (c *call) sealRandom(k *Key, ctx EncryptionContext, n int) (Sealed, error) {
	vid, env, err := c.s.primary(c.ctx, k)
	if err != nil {
		return Sealed{}, err
	}
	blob, err := env.SealRandom(c.s.rand, ctx, n)
	if err != nil {
		return Sealed{}, internal("seal: %w", err)
	}
	return Sealed{KeyID: k.ID, VersionID: vid, Cipher: cipherOf(k), Blob: blob}, nil
}

// seal seals plaintext under k's primary version.
func (c *call) seal(k *Key, ctx EncryptionContext, plaintext []byte) (Sealed, error) {
	vid, env, err := c.s.primary(c.ctx, k)
	if err != nil {
		return Sealed{}, err
	}
	blob, err := env.Seal(c.s.rand, ctx, plaintext)
	if err != nil {
		return Sealed{}, internal("seal: %w", err)
	}
	return Sealed{KeyID: k.ID, VersionID: vid, Cipher: cipherOf(k), Blob: blob}, nil
}

// dataKeyRequest reads what GenerateDataKey and
// GenerateDataKeyWithoutPlaintext take, in the order both check it: the data
// key's size, the encryption context, and the key that seals it, resolved
// into k.
func (c *call) dataKeyRequest(k *Key) (int, EncryptionContext, error) {
	n, err := c.dataKeySize()
	if err != nil {
		return 0, nil, err
	}
	ctx, err := c.context("EncryptionContext")
	if err != nil {
		return 0, nil, err
	}
	c.facts.Context = ctx
	return n, ctx, c.sealingKey(k, "KeyId")
}

func (c *call) generateDataKeyWithoutPlaintext() (any, error) {
	var k Key
	n, ctx, err := c.dataKeyRequest(&k)
	if err != nil {
		return nil, err
	}
	return c.sealRandom(&k, ctx, n)
}

func (c *call) generateDataKey() (any, error) {
	var k Key
	n, ctx, err := c.dataKeyRequest(&k)
	if err != nil {
		return nil, err
	}
	dk, err := c.newDataKey(&k, ctx, n)
	if err != nil {
		return nil, err
	}
	return dk, nil
}

// newDataKey makes a data key of n random bytes and seals it under k's
// primary version. On an error no plaintext is left behind.
func (c *call) newDataKey(k *Key, ctx EncryptionContext, n int) (DataKey, error) {
	key := make([]byte, n)
	if _, err := io.ReadFull(c.s.rand, key); err != nil {
		clear(key) // what was read before the failure
		return DataKey{}, internal("data key: %w", err)
	}
	sealed, err := c.seal(k, ctx, key)
	if err != nil {
		clear(key)
		return DataKey{}, err
	}
	return DataKey{Sealed: sealed, Plaintext: key}, nil
}

func (c *call) encrypt() (any, error) {
	text, err := c.required("Plaintext")
	if err != nil {
		return nil, err
	}
	if base64.StdEncoding.DecodedLen(len(text)) > MaxEncryptPlaintext+3 {
		return nil, invalidParam("Plaintext", "it is longer than %d bytes", MaxEncryptPlaintext)
	}
	pt, err := base64.StdEncoding.DecodeString(text)
	defer clear(pt)
	if err != nil {
		return nil, invalidParam("Plaintext", "it must be base64-encoded")
	}
	if len(pt) > MaxEncryptPlaintext {
		return nil, invalidParam("Plaintext", "it is longer than %d bytes", MaxEncryptPlaintext)
	}
	ctx, err := c.context("EncryptionContext")
	if err != nil {
		return nil, err
	}
	c.facts.Context = ctx
	var k Key
	if err := c.sealingKey(&k, "KeyId"); err != nil {
		return nil, err
	}
	return c.seal(&k, ctx, pt)
}

var errInvalidCiphertext = &Error{Code: CodeInvalidCiphertext, Message: "The CiphertextBlob is invalid, or the EncryptionContext does not match the one it was made with."}

// open decodes the blob in blobParam and opens it under the context in
// ctxParam, after authorizing the action on the key the blob names and, when
// keyParam is given, checking that it names the same key. A DryRun ends once
// the blob has opened.
// openEvenIfDry opens a blob for real under DryRun too, for an action whose
// DryRun must see checks that come after the opening; its plaintext is the
// caller's to clear.
func (c *call) openEvenIfDry(blobParam, ctxParam, keyParam string) (Opened, error) {
	dry := c.dry
	c.dry = false
	defer func() { c.dry = dry }()
	return c.open(blobParam, ctxParam, keyParam)
}

func (c *call) open(blobParam, ctxParam, keyParam string) (Opened, error) {
	text, err := c.required(blobParam)
	if err != nil {
		return Opened{}, err
	}
	raw, err := base64.StdEncoding.DecodeString(text)
	if err != nil {
		return Opened{}, Errorf(CodeInvalidCiphertext, "The %s is not valid base64.", blobParam)
	}
	ctx, err := c.context(ctxParam)
	if err != nil {
		return Opened{}, err
	}
	return c.openBlob(raw, ctx, keyParam)
}

// openBlob opens raw under ctx as open does, once the parameters are read.
func (c *call) openBlob(raw []byte, ctx EncryptionContext, keyParam string) (Opened, error) {
	bl, err := ParseBlob(raw)
	if err != nil {
		return Opened{}, errInvalidCiphertext
	}
	c.facts.Context = ctx
	var k Key
	if err := c.authorizeKey(&k, bl.KeyID, ""); err != nil {
		// The blob names a key that is not (or no longer) here: the blob is
		// what is wrong.
		var ke *Error
		if errors.As(err, &ke) && ke.Code == CodeKeyNotFound {
			return Opened{}, errInvalidCiphertext
		}
		return Opened{}, err
	}
	// A key the caller names that does not exist is the caller's mistake,
	// and says so, as a missing alias in the same place does.
	if err := c.expectKey(keyParam, bl.KeyID); err != nil {
		return Opened{}, err
	}
	if err := c.envelopeKey(&k); err != nil {
		return Opened{}, err
	}
	env, err := c.s.version(c.ctx, &k, bl.VersionID)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return Opened{}, errInvalidCiphertext
		}
		return Opened{}, storeErr(err)
	}
	pt, err := env.Open(bl, ctx)
	if err != nil {
		return Opened{}, errInvalidCiphertext
	}
	if c.dry {
		clear(pt)
		return Opened{}, errDryRunOK
	}
	return Opened{KeyID: k.ID, VersionID: bl.VersionID, Cipher: cipherOf(&k), Plaintext: pt}, nil
}

func (c *call) decrypt() (any, error) {
	ignore, err := c.ignoresCiphertext()
	if err != nil {
		return nil, err
	}
	if ignore {
		if _, err := c.dryOpen("EncryptionContext", "KeyId"); err != nil {
			return nil, err
		}
		return nil, errDryRunOK
	}
	return c.open("CiphertextBlob", "EncryptionContext", "KeyId")
}

func (c *call) reEncrypt() (any, error) {
	ctx, err := c.context("DestinationEncryptionContext")
	if err != nil {
		return nil, err
	}
	if _, err := c.required("DestinationKeyId"); err != nil {
		return nil, err
	}
	// DryRun must see the destination checks too.
	o, from, err := c.reEncryptSource()
	if err != nil {
		return nil, err
	}
	defer clear(o.Plaintext)
	c.destination = true
	to := cmp.Or(c.str("DestinationEncryptionAlgorithm"), symmetricDefault.name)
	var sealed Sealed
	if to == symmetricDefault.name {
		c.facts.Context, c.facts.Algorithm = ctx, &symmetricDefault
		var k Key
		if err := c.sealingKey(&k, "DestinationKeyId"); err != nil {
			return nil, err
		}
		if sealed, err = c.seal(&k, ctx, o.Plaintext); err != nil {
			return nil, err
		}
	} else {
		if len(ctx) > 0 {
			return nil, invalidParam("DestinationEncryptionContext", "an asymmetric DestinationEncryptionAlgorithm binds no context")
		}
		c.facts.Context = nil
		hash, alg, err := c.encryptionAlgorithm("DestinationEncryptionAlgorithm")
		if err != nil {
			return nil, err
		}
		if sealed, err = c.publicEncrypt("DestinationKeyId", "", "CiphertextBlob", hash, alg, o.Plaintext); err != nil {
			return nil, err
		}
	}
	return Resealed{Sealed: sealed, SourceKeyID: o.KeyID, SourceVersionID: o.VersionID, SourceAlgorithm: from, DestinationAlgorithm: to}, nil
}

// reEncryptSource opens ReEncrypt's CiphertextBlob even in a DryRun: a
// symmetric key's blob, which names its key, or, with an asymmetric
// SourceEncryptionAlgorithm, a ciphertext of the asymmetric encryption key
// SourceKeyId names (its version SourceKeyVersionId), which binds no
// context. It returns the algorithm that opened it.
//
// A DryRun that ignores the ciphertext reads none: it checks the key
// SourceKeyId names as opening would, and answers no plaintext.
func (c *call) reEncryptSource() (Opened, string, error) {
	ignore, err := c.ignoresCiphertext()
	if err != nil {
		return Opened{}, "", err
	}
	from := cmp.Or(c.str("SourceEncryptionAlgorithm"), symmetricDefault.name)
	if from == symmetricDefault.name {
		if ignore {
			k, err := c.dryOpen("SourceEncryptionContext", "SourceKeyId")
			return Opened{KeyID: k.ID}, from, err
		}
		o, err := c.openEvenIfDry("CiphertextBlob", "SourceEncryptionContext", "SourceKeyId")
		return o, from, err
	}
	if c.str("SourceEncryptionContext") != "" {
		return Opened{}, "", invalidParam("SourceEncryptionContext", "an asymmetric SourceEncryptionAlgorithm binds no context")
	}
	if _, err := c.required("SourceKeyId"); err != nil {
		return Opened{}, "", err
	}
	if ignore {
		if err := c.dryPrivateDecrypt("SourceKeyId", "SourceKeyVersionId", "SourceEncryptionAlgorithm"); err != errDryRunOK {
			return Opened{}, "", err
		}
		return Opened{}, from, nil
	}
	dry := c.dry
	c.dry = false
	defer func() { c.dry = dry }()
	o, err := c.privateDecrypt("SourceKeyId", "SourceKeyVersionId", "SourceEncryptionAlgorithm")
	return o, from, err
}
