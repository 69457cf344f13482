package core

import (
	"crypto/cipher"
	"encoding/base64"
	"errors"
	"strings"
)

// MaxEncryptPlaintext is the most Encrypt accepts, in bytes after base64 decoding.
const MaxEncryptPlaintext = 6144

// dataKeySize reads NumberOfBytes (1–1024, wins when given) or KeySpec (AES_256
// = 32 bytes, AES_128 = 16 bytes); neither means 32 bytes.
func (c *call) dataKeySize() (int, error) {
	spec := c.str("KeySpec")
	size := 32
	switch spec {
	case "", "AES_256":
	case "AES_128":
		size = 16
	default:
		return 0, invalidParam("KeySpec", "it must be AES_256 or AES_128")
	}
	n, ok, err := c.int("NumberOfBytes", 1, 1024)
	if err != nil {
		return 0, err
	}
	if ok {
		size = n
	}
	return size, nil
}

// encodeBlob returns the base64 text of a CiphertextBlob in one allocation:
// EncodeToString makes two (the encoded bytes, then the string copied from
// them). Chunks of a multiple of 3 bytes encode without padding, so only the
// last one may end in '='.
func encodeBlob(blob []byte) string {
	var sb strings.Builder
	sb.Grow(base64.StdEncoding.EncodedLen(len(blob)))
	var chunk [1024]byte
	for len(blob) > 0 {
		n := min(len(blob), len(chunk)/4*3)
		m := base64.StdEncoding.EncodedLen(n)
		base64.StdEncoding.Encode(chunk[:m], blob[:n])
		sb.Write(chunk[:m])
		blob = blob[n:]
	}
	return sb.String()
}

// sealed is the result of sealing under a key's primary version.
type sealed struct {
	keyID, versionID string
	blob             []byte
}

// sealer makes a CiphertextBlob under one key version.
type sealer func(aead cipher.AEAD, keyID, versionID string, ctx EncryptionContext) ([]byte, error)

// sealPlaintext seals the given bytes.
func (c *call) sealPlaintext(pt []byte) sealer {
	return func(aead cipher.AEAD, keyID, versionID string, ctx EncryptionContext) ([]byte, error) {
		return SealBlob(aead, c.s.rand, keyID, versionID, ctx, pt)
	}
}

// sealRandom mints and seals an n-byte data key; reveal (may be nil) sees it
// before it is sealed in place.
func (c *call) sealRandom(n int, reveal func([]byte)) sealer {
	return func(aead cipher.AEAD, keyID, versionID string, ctx EncryptionContext) ([]byte, error) {
		return sealRandomBlob(aead, c.s.rand, keyID, versionID, ctx, n, reveal)
	}
}

// sealFor resolves KeyId, checks the key's state, reads the EncryptionContext
// parameter named ctxParam and, unless this is a DryRun, seals. The sealer runs
// only after every check has passed, so nothing is minted for a request that
// fails.
func (c *call) sealFor(keyParam, ctxParam string, seal sealer) (sealed, error) {
	ctx, err := c.context(ctxParam)
	if err != nil {
		return sealed{}, err
	}
	t, err := c.resolve(keyParam)
	if err != nil {
		return sealed{}, err
	}
	return c.sealUnder(t.key, ctx, seal)
}

// sealUnder checks that k is usable and, unless this is a DryRun, seals under
// its primary version with ctx as the encryption context.
func (c *call) sealUnder(k Key, ctx EncryptionContext, seal sealer) (sealed, error) {
	if err := usable(k); err != nil {
		return sealed{}, err
	}
	if c.dry {
		return sealed{}, errDryRunOK
	}
	vid, aead, err := c.s.primary(c.ctx, k)
	if err != nil {
		return sealed{}, err
	}
	blob, err := seal(aead, k.ID, vid, ctx)
	if err != nil {
		return sealed{}, internal("seal: %w", err)
	}
	return sealed{keyID: k.ID, versionID: vid, blob: blob}, nil
}

func (c *call) generateDataKeyWithoutPlaintext() (any, error) {
	n, err := c.dataKeySize()
	if err != nil {
		return nil, err
	}
	res, err := c.sealFor("KeyId", "EncryptionContext", c.sealRandom(n, nil))
	if err != nil {
		return nil, err
	}
	return &CiphertextResponse{RequestId: c.req.ID, KeyId: res.keyID, KeyVersionId: res.versionID,
		CiphertextBlob: encodeBlob(res.blob)}, nil
}

func (c *call) generateDataKey() (any, error) {
	n, err := c.dataKeySize()
	if err != nil {
		return nil, err
	}
	var plaintext string
	res, err := c.sealFor("KeyId", "EncryptionContext", c.sealRandom(n, func(key []byte) {
		plaintext = base64.StdEncoding.EncodeToString(key)
	}))
	if err != nil {
		return nil, err
	}
	return &DataKeyResponse{RequestId: c.req.ID, KeyId: res.keyID, KeyVersionId: res.versionID,
		CiphertextBlob: encodeBlob(res.blob), Plaintext: plaintext}, nil
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
	res, err := c.sealFor("KeyId", "EncryptionContext", c.sealPlaintext(pt))
	if err != nil {
		return nil, err
	}
	return &CiphertextResponse{RequestId: c.req.ID, KeyId: res.keyID, KeyVersionId: res.versionID,
		CiphertextBlob: encodeBlob(res.blob)}, nil
}

// opened is the result of opening a CiphertextBlob.
type opened struct {
	keyID, versionID string
	plaintext        []byte
}

var errInvalidCiphertext = &Error{Code: CodeInvalidCiphertext, Message: "The CiphertextBlob is invalid, or the EncryptionContext does not match the one it was made with."}

// open decodes the blob in blobParam and, unless DryRun, opens it under the
// context in ctxParam, after authorizing the action on the key the blob names.
func (c *call) open(blobParam, ctxParam string) (opened, error) {
	text, err := c.required(blobParam)
	if err != nil {
		return opened{}, err
	}
	raw, err := base64.StdEncoding.DecodeString(text)
	if err != nil {
		return opened{}, Errorf(CodeInvalidCiphertext, "The %s is not valid base64.", blobParam)
	}
	ctx, err := c.context(ctxParam)
	if err != nil {
		return opened{}, err
	}
	bl, err := ParseBlob(raw)
	if err != nil {
		return opened{}, errInvalidCiphertext
	}
	if err := c.authorizeARN(c.s.keyARN(bl.KeyID)); err != nil {
		return opened{}, err
	}
	k, err := c.loadKey(bl.KeyID)
	if err != nil {
		var ke *Error
		if errors.As(err, &ke) && ke.Code == CodeKeyNotFound {
			return opened{}, errInvalidCiphertext
		}
		return opened{}, err
	}
	if err := usable(k); err != nil {
		return opened{}, err
	}
	aead, err := c.s.versionAEAD(c.ctx, k.ID, bl.VersionID)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return opened{}, errInvalidCiphertext
		}
		return opened{}, storeErr(err)
	}
	pt, err := bl.Open(aead, ctx)
	if err != nil {
		return opened{}, errInvalidCiphertext
	}
	if c.dry {
		clear(pt)
		return opened{}, errDryRunOK
	}
	return opened{keyID: k.ID, versionID: bl.VersionID, plaintext: pt}, nil
}

func (c *call) decrypt() (any, error) {
	o, err := c.open("CiphertextBlob", "EncryptionContext")
	if err != nil {
		return nil, err
	}
	defer clear(o.plaintext)
	return &DecryptResponse{RequestId: c.req.ID, KeyId: o.keyID, KeyVersionId: o.versionID,
		Plaintext: base64.StdEncoding.EncodeToString(o.plaintext)}, nil
}

func (c *call) reEncrypt() (any, error) {
	if _, err := c.context("DestinationEncryptionContext"); err != nil {
		return nil, err
	}
	if _, err := c.required("DestinationKeyId"); err != nil {
		return nil, err
	}
	// DryRun must see the destination checks too, so the source is opened for
	// real and its plaintext dropped.
	dry := c.dry
	c.dry = false
	o, err := c.open("CiphertextBlob", "SourceEncryptionContext")
	c.dry = dry
	if err != nil {
		return nil, err
	}
	defer clear(o.plaintext)
	res, err := c.sealFor("DestinationKeyId", "DestinationEncryptionContext", c.sealPlaintext(o.plaintext))
	if err != nil {
		return nil, err
	}
	return &CiphertextResponse{RequestId: c.req.ID, KeyId: res.keyID, KeyVersionId: res.versionID,
		CiphertextBlob: encodeBlob(res.blob)}, nil
}
