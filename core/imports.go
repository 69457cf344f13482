package core

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/emmansun/gmsm/sm2"
)

// Bringing your own key material: a key created with Origin EXTERNAL has one
// version and no material until ImportKeyMaterial puts material into it,
// wrapped by an RSA or SM2 key that GetParametersForImport makes. A
// symmetric or HMAC key takes the bytes of its material; an asymmetric key
// its private key in PKCS #8, which must be of the key's spec, too long for
// RSA-OAEP but under the smaller curves, so wrapped as RSA_AES_KEY_WRAP
// does: an ephemeral AES key under RSA-OAEP, and the material under the AES
// key (RFC 5649's key wrap with padding). SM2PKE, under an SM2 wrapping key
// (Alibaba's EC_SM2, AWS's SM2), wraps material of any size, and is
// written as AsymmetricEncrypt's ciphertexts are (sm2.go).

// OriginExternal is the Origin of a key whose material the caller imports.
const OriginExternal = "EXTERNAL"

// lastUnix is the last second of the year 9999, the last a store keeps: bbolt
// keeps times as RFC 3339, whose years have four digits.
var lastUnix = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC).Unix()

// ImportTokenTTL is how long an import token and its wrapping key are valid.
const ImportTokenTTL = 24 * time.Hour

// ImportParameters is the result of GetParametersForImport: the public half of
// a fresh wrapping key and the import token that carries its private half,
// sealed under a key derived from the root key.
type ImportParameters struct {
	KeyID string
	// PublicKey is the wrapping key's SubjectPublicKeyInfo, DER.
	PublicKey []byte
	Token     string
	ExpiresAt time.Time
}

// Wrapping algorithms, in the token as one byte, their index.
var wrappingAlgorithms = []string{"RSAES_OAEP_SHA_256", "RSAES_OAEP_SHA_1", "RSAES_PKCS1_V1_5",
	"RSA_AES_KEY_WRAP_SHA_1", "RSA_AES_KEY_WRAP_SHA_256", sm2PKE.name}

// wrapSM2 is SM2PKE's byte in a token (its index above), the one algorithm
// of SM2 wrapping keys, whose token holds the key's PKCS #8 rather than
// RSA's PKCS #1.
const wrapSM2 = 5

// wrappingKeySpecs are the sizes of RSA wrapping key GetParametersForImport
// makes, by WrappingKeySpec; an SM2 wrapping key, by either cloud's name,
// has none.
var wrappingKeySpecs = map[string]int{"RSA_2048": 2048, "RSA_3072": 3072, "RSA_4096": 4096, "EC_SM2": 0, "SM2": 0}

// importTokenPurpose labels the key derived for import tokens.
const importTokenPurpose = "kmsless/v1/import-token"

// sealToken seals an import token: expiry (unix seconds), algorithm and the
// private key, RSA's PKCS #1 or SM2's PKCS #8, under a root-derived key with
// the key ID as AAD, so a token opens only for its key, and only in this
// service. The private key leaves the service only so sealed, and is
// useless once the token expires.
func (s *Service) sealToken(keyID string, alg byte, expires time.Time, priv any) (string, error) {
	var der []byte
	switch p := priv.(type) {
	case *rsa.PrivateKey:
		der = x509.MarshalPKCS1PrivateKey(p)
	case *sm2.PrivateKey:
		var err error
		if der, err = marshalSM2(p); err != nil {
			return "", err
		}
	}
	defer clear(der)
	plain := make([]byte, 0, 9+len(der))
	plain = binary.BigEndian.AppendUint64(plain, uint64(expires.Unix()))
	plain = append(plain, alg)
	plain = append(plain, der...)
	defer clear(plain)
	key := s.root.DeriveKey(importTokenPurpose)
	defer clear(key)
	aead, err := newAEAD(key)
	if err != nil {
		return "", err
	}
	out := make([]byte, nonceSize, nonceSize+len(plain)+tagSize)
	if _, err := io.ReadFull(s.rand, out); err != nil {
		return "", err
	}
	out = aead.Seal(out, out[:nonceSize], plain, []byte(importTokenPurpose+"\x00"+keyID))
	return base64.StdEncoding.EncodeToString(out), nil
}

// openToken opens an import token for keyID and checks its expiry, and
// returns its algorithm and wrapping key, *rsa.PrivateKey or
// *sm2.PrivateKey.
func (s *Service) openToken(keyID, token string) (byte, any, error) {
	invalid := Errorf(CodeInvalidImportToken, "The ImportToken is not one this service issued for key %q.", keyID)
	raw, err := base64.StdEncoding.DecodeString(token)
	if err != nil || len(raw) < nonceSize+tagSize+9 {
		return 0, nil, invalid
	}
	// A token sealed under a root key the ring still holds opens, so that
	// an import begun before a root rotation's step 2 finishes after it.
	var plain []byte
	for _, root := range s.roots.keys {
		key := root.DeriveKey(importTokenPurpose)
		aead, err := newAEAD(key)
		clear(key)
		if err != nil {
			return 0, nil, internal("import token key: %w", err)
		}
		if plain, err = aead.Open(nil, raw[:nonceSize], raw[nonceSize:], []byte(importTokenPurpose+"\x00"+keyID)); err == nil {
			break
		}
	}
	if plain == nil {
		return 0, nil, invalid
	}
	defer clear(plain)
	expires := time.Unix(int64(binary.BigEndian.Uint64(plain)), 0)
	if !s.clock.Now().Before(expires) {
		return 0, nil, Errorf(CodeExpiredImportToken, "The ImportToken expired at %s; call GetParametersForImport again.", expires.UTC().Format(time.RFC3339))
	}
	var priv any
	if plain[8] == wrapSM2 {
		priv, err = parsePKCS8(plain[9:])
	} else {
		priv, err = x509.ParsePKCS1PrivateKey(plain[9:])
	}
	if err != nil {
		return 0, nil, internal("import token: %w", err)
	}
	return plain[8], priv, nil
}

// externalKey resolves KeyId to an EXTERNAL key.
func (c *call) externalKey() (Key, error) {
	t, err := c.resolve("KeyId")
	if err != nil {
		return Key{}, err
	}
	if t.key.Origin != OriginExternal {
		return Key{}, Errorf(CodeUnsupportedOrigin, "The key %q was not created with Origin EXTERNAL; its material cannot be imported or deleted.", t.key.ID)
	}
	// Materials have IDs and descriptions, and a key more than one, only
	// when it is a symmetric encryption key, as on AWS.
	if !symmetric(&t.key) {
		for _, name := range [...]string{"KeyMaterialId", "ImportType", "KeyMaterialDescription"} {
			if c.str(name) != "" {
				return Key{}, invalidParam(name, "only a symmetric encryption key's materials take it; the key %q is a %s key", t.key.ID, t.key.KeySpec)
			}
		}
	}
	return t.key, nil
}

// Import types: new material, for an on-demand rotation once the key has
// taken its first, or material the key has taken before.
const (
	importNew      = "NEW_KEY_MATERIAL"
	importExisting = "EXISTING_KEY_MATERIAL"
)

// descriptionChars are those AWS's pattern for a KeyMaterialDescription
// allows, ^[a-zA-Z0-9:/_\s.-]+$, with \s as Java's regular expressions
// read it.
const descriptionChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:/_.- \t\n\v\f\r"

// materials lists all of k's versions, oldest first: an EXTERNAL key's
// materials, a handful at most, since each comes from an import. A key
// whose material was imported before versions kept their expiry has it in
// MaterialExpireAt alone, and one version: that version is given it here,
// and legacy reports so, for a write that adds a version to store it
// first.
func (c *call) materials(k *Key) (vs []KeyVersion, legacy bool, err error) {
	vs, _, err = c.s.store.ListVersions(c.ctx, k.ID, Page{})
	if err != nil {
		return nil, false, storeErr(err)
	}
	legacy = !k.MaterialExpireAt.IsZero() && len(vs) == 1 && vs[0].ExpireAt.IsZero() && len(vs[0].Wrapped) > 0
	if legacy {
		vs[0].ExpireAt = k.MaterialExpireAt
	}
	return vs, legacy, nil
}

// pendingMaterial is the version holding material imported for an
// on-demand rotation not yet made, or -1. Only the newest can be one: a
// key takes no new material while one is pending, and the rotation makes
// it primary.
func pendingMaterial(vs []KeyVersion) int {
	if n := len(vs) - 1; n > 0 && vs[n].RotationType == RotationPending {
		return n
	}
	return -1
}

// namedMaterial is the version of k whose material id names (the primary
// when id is empty), or KeyNotFound; a withdrawn material is named no more.
func namedMaterial(k *Key, vs []KeyVersion, id string) (int, error) {
	for i := range vs {
		v := &vs[i]
		if v.RotationType == RotationWithdrawn {
			continue
		}
		if id == "" && v.VersionID == k.PrimaryVersionID || id != "" && id == MaterialID(k.ID, v.VersionID) {
			return i, nil
		}
	}
	if id == "" {
		return -1, internal("key %s has no primary version %s", k.ID, k.PrimaryVersionID)
	}
	return -1, Errorf(CodeKeyNotFound, "The key %q has no key material %q.", k.ID, ClipText(id))
}

// importTarget picks the version an import puts material into, from the
// key's versions. The first import fills the material the key was made
// with, which DescribeKey names from the key's making, whatever ImportType
// says. After it, new material goes to a version pending rotation (fresh,
// when the result's index is len(vs)), and material taken before (the
// default) to the version KeyMaterialId names, or the primary.
func (c *call) importTarget(k *Key, vs []KeyVersion) (int, error) {
	id := c.str("KeyMaterialId")
	switch {
	case !slices.ContainsFunc(vs, func(v KeyVersion) bool { return len(v.Digest) > 0 }):
		return namedMaterial(k, vs, id)
	case c.str("ImportType") != importNew:
		return namedMaterial(k, vs, id)
	case id != "":
		return -1, invalidParam("KeyMaterialId", "it names material the key has taken, and %s imports material it has not", importNew)
	}
	if p := pendingMaterial(vs); p >= 0 {
		return -1, Errorf(CodeStateModifiedFailed, "The key %q already holds key material %s pending rotation: rotate to it (RotateKeyOnDemand) or delete it before importing other new material.", k.ID, MaterialID(k.ID, vs[p].VersionID))
	}
	return len(vs), nil
}

// materialNamed is " <its KeyMaterialId>" for a symmetric encryption key's
// material, which has one, and "" for others.
func materialNamed(k *Key, versionID string) string {
	if !symmetric(k) {
		return ""
	}
	return " " + MaterialID(k.ID, versionID)
}

// settleMaterials sets an EXTERNAL key's state and MaterialExpireAt from its
// materials: the key is usable only while every material permanently its
// own (all but one pending rotation) is imported, as on AWS, and its
// material expires when the first of those does.
func settleMaterials(k *Key, vs []KeyVersion) {
	whole := true
	k.MaterialExpireAt = time.Time{}
	for _, v := range vs {
		switch {
		case v.RotationType == RotationPending || v.RotationType == RotationWithdrawn:
		case len(v.Wrapped) == 0:
			whole = false
		case !v.ExpireAt.IsZero() && (k.MaterialExpireAt.IsZero() || v.ExpireAt.Before(k.MaterialExpireAt)):
			k.MaterialExpireAt = v.ExpireAt
		}
	}
	switch {
	case !whole && k.State != KeyPendingDeletion:
		k.State = KeyPendingImport
	case whole && k.State == KeyPendingImport:
		k.State = KeyEnabled
	}
}

// importingKey is the external key KeyId names, for the two steps of an
// import: a key pending deletion takes no material, so it is given no
// wrapping key either, as both key-state tables say.
func (c *call) importingKey() (Key, error) {
	k, err := c.externalKey()
	if err != nil {
		return Key{}, err
	}
	if k.State == KeyPendingDeletion {
		return Key{}, Errorf(CodeStateModifiedFailed, "The key %q is pending deletion; its material cannot be imported.", k.ID)
	}
	return k, nil
}

func (c *call) getParametersForImport() (any, error) {
	alg, err := c.required("WrappingAlgorithm")
	if err != nil {
		return nil, err
	}
	code := -1
	for i, a := range wrappingAlgorithms {
		if a == alg {
			code = i
		}
	}
	if code < 0 {
		return nil, invalidParam("WrappingAlgorithm", "it must be one of %v", wrappingAlgorithms)
	}
	spec, err := c.required("WrappingKeySpec")
	if err != nil {
		return nil, err
	}
	bits, ok := wrappingKeySpecs[spec]
	switch {
	case !ok:
		return nil, invalidParam("WrappingKeySpec", "it must be RSA_2048, RSA_3072, RSA_4096 or, for SM2PKE, EC_SM2 (AWS: SM2)")
	case (bits == 0) != (code == wrapSM2):
		return nil, invalidParam("WrappingAlgorithm", "%s does not wrap under WrappingKeySpec %s: SM2PKE wraps under an SM2 key, the others under RSA", alg, spec)
	}
	k, err := c.importingKey()
	if err != nil {
		return nil, err
	}
	if asymmetricSpecs[k.KeySpec] != nil && alg == "RSAES_PKCS1_V1_5" {
		// Its padding oracle is closed by knowing the material's size
		// (unwrapMaterial), which a private key's is not.
		return nil, invalidParam("WrappingAlgorithm", "an asymmetric key's private key is not wrapped with RSAES_PKCS1_V1_5")
	}
	var priv privateKeyOf
	if bits > 0 {
		priv, err = c.newRSAKey(bits)
	} else if priv, err = sm2.GenerateKey(c.s.rand); err != nil {
		err = internal("wrapping key: %w", err)
	}
	if err != nil {
		return nil, err
	}
	pub, err := marshalPKIX(priv.Public())
	if err != nil {
		return nil, internal("wrapping key: %w", err)
	}
	expires := c.s.clock.Now().UTC().Truncate(time.Second).Add(ImportTokenTTL)
	token, err := c.s.sealToken(k.ID, byte(code), expires, priv)
	if err != nil {
		return nil, internal("import token: %w", err)
	}
	return ImportParameters{KeyID: k.ID, PublicKey: pub, Token: token, ExpiresAt: expires}, nil
}

func (c *call) importKeyMaterial() (any, error) {
	token, err := c.required("ImportToken")
	if err != nil {
		return nil, err
	}
	text, err := c.required("EncryptedKeyMaterial")
	if err != nil {
		return nil, err
	}
	var expireAt time.Time
	if v := c.str("KeyMaterialExpireUnix"); v != "" && v != "0" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 || n > lastUnix {
			return nil, invalidParam("KeyMaterialExpireUnix", "it must be a Unix time in seconds before the year 10000, or 0 for never")
		}
		expireAt = time.Unix(n, 0).UTC()
		if !expireAt.After(c.s.clock.Now()) {
			return nil, invalidParam("KeyMaterialExpireUnix", "it is not in the future")
		}
	}
	switch c.str("ImportType") {
	case "", importNew, importExisting:
	default:
		return nil, invalidParam("ImportType", "it must be %s or %s", importNew, importExisting)
	}
	description := c.str("KeyMaterialDescription")
	if len(description) > 256 || strings.Trim(description, descriptionChars) != "" {
		return nil, invalidParam("KeyMaterialDescription", "it must be at most 256 letters, digits, spaces and the characters :/_.-")
	}
	c.changes = true
	k, err := c.importingKey()
	if err != nil {
		return nil, err
	}
	alg, priv, err := c.s.openToken(k.ID, token)
	if err != nil {
		return nil, err
	}
	wrapped, err := base64.StdEncoding.DecodeString(text)
	if err != nil {
		return nil, Errorf(CodeInvalidKeyMaterial, "The EncryptedKeyMaterial is not valid base64.")
	}
	s := c.s
	// Whether the material goes where the key has taken material decides
	// how PKCS #1 v1.5 unwraps (see unwrapMaterial), so the target is
	// picked first, for every algorithm.
	vs, _, err := c.materials(&k)
	if err != nil {
		return nil, err
	}
	i, err := c.importTarget(&k, vs)
	if err != nil {
		return nil, err
	}
	size := materialSize(k.KeySpec)
	var substitute []byte
	switch {
	case i < len(vs) && len(vs[i].Digest) > 0:
		substitute = make([]byte, size)
		if _, err := io.ReadFull(s.rand, substitute); err != nil {
			return nil, internal("substitute material: %w", err)
		}
	case alg == 2 && i == len(vs):
		// New material for a rotation could be imported, deleted and
		// imported again without end, each answer an oracle on the
		// padding (see unwrapMaterial).
		return nil, invalidParam("ImportToken", "it wraps with RSAES_PKCS1_V1_5, which brings a key no new material for a rotation; get parameters for RSAES_OAEP_SHA_256")
	}
	material, err := unwrapMaterial(alg, priv, wrapped, substitute)
	defer func() { clear(material) }() // material may become the canonical key below
	what := fmt.Sprintf("%d bytes of key material", size)
	spec := asymmetricSpecs[k.KeySpec]
	if spec != nil {
		what = "a PKCS #8 private key of KeySpec " + k.KeySpec
		if alg == 2 {
			// GetParametersForImport gives no such token (see there).
			err = errors.New("RSAES_PKCS1_V1_5 for an asymmetric key")
		}
	}
	if spec != nil && err == nil {
		// Kept as this service writes it, so that the same key imported
		// again in another encoding is the same material.
		var canonical []byte
		canonical, err = importedPrivateKey(spec, material)
		clear(material)
		material, size = canonical, len(canonical)
	}
	if err != nil || len(material) != size {
		// One answer for every failure: which step failed would be an
		// oracle on the wrapping.
		e := Errorf(CodeInvalidKeyMaterial, "The EncryptedKeyMaterial does not unwrap to %s under this import token's wrapping key and algorithm.", what)
		e.cause = ErrMaterialDoesNotUnwrap
		return nil, e
	}
	for try := retries(c.ctx); try.again(); {
		cur, err := s.store.GetKey(c.ctx, k.ID)
		if err != nil {
			return nil, storeErr(err)
		}
		vs, legacy, err := c.materials(&cur)
		if err != nil {
			return nil, err
		}
		if i, err = c.importTarget(&cur, vs); err != nil {
			return nil, err
		}
		var v KeyVersion
		added := i == len(vs)
		if added && legacy {
			// The first material's expiry moves to its version before
			// another material joins it, or the key's would forget it.
			moved := cur
			moved.Revision++
			if err := s.store.ReplaceVersion(c.ctx, moved, vs[0]); err != nil && !errors.Is(err, ErrConflict) {
				return nil, storeErr(err)
			}
			continue
		}
		if !added {
			v = vs[i]
		} else {
			v = KeyVersion{KeyID: k.ID, VersionID: newVersionID(), CreatedAt: s.clock.Now().UTC().Truncate(time.Second), RotationType: RotationPending}
			vs = append(vs, v)
		}
		if substitute != nil && len(v.Digest) == 0 {
			// Material unwrapped with a substitute may be the
			// substitute: only a digest may let it in. Digests outlive
			// material, so only a store that lost one comes here.
			return nil, internal("key %s's material digest is gone during an import", k.ID)
		}
		if len(v.Digest) > 0 {
			same, err := s.roots.remembers(v, material)
			if err != nil {
				return nil, internal("check key %s's material digest: %w", k.ID, err)
			}
			if !same {
				// Also the answer to PKCS #1 v1.5 that does not unwrap
				// (see unwrapMaterial), so it says nothing of which.
				return nil, Errorf(CodeInvalidKeyMaterial, "The EncryptedKeyMaterial does not unwrap to the material%s the key %q took; only that material may be imported into it again.", materialNamed(&cur, v.VersionID), k.ID)
			}
		}
		digest, err := s.root.sealDigest(s.rand, k.ID, v.VersionID, material)
		if err != nil {
			return nil, internal("material digest: %w", err)
		}
		w, err := s.root.wrap(s.rand, k.ID, v.VersionID, material)
		if err != nil {
			return nil, internal("wrap imported material: %w", err)
		}
		v.Wrapped, v.Digest, v.RootKeyID, v.ExpireAt = w, digest, s.root.ID(), expireAt
		if description != "" {
			v.MaterialDescription = description
		}
		vs[i] = v
		next := cur
		settleMaterials(&next, vs)
		next.Revision++
		if added {
			err = s.store.AddVersion(c.ctx, next, v)
		} else {
			err = s.store.ReplaceVersion(c.ctx, next, v)
		}
		if errors.Is(err, ErrConflict) {
			continue
		}
		if err != nil {
			return nil, storeErr(err)
		}
		s.cache.InvalidateKey(c.ctx, k.ID)
		return Changed{Key: next, VersionID: v.VersionID}, nil
	}
	return nil, Errorf(CodeStateModifiedFailed, "The key %q is being changed by another request; retry.", k.ID)
}

// ErrMaterialDoesNotUnwrap is the cause of the InvalidKeyMaterial answered
// when the EncryptedKeyMaterial does not unwrap to key material. Alibaba's API
// names that failure and an import of other material than the key's alike;
// AWS's tells them apart (InvalidCiphertextException and
// IncorrectKeyMaterialException), and its adapter asks errors.Is. Under
// RSAES_PKCS1_V1_5 into a key that has taken material, nothing fails to
// unwrap: see unwrapMaterial.
var ErrMaterialDoesNotUnwrap = errors.New("the encrypted key material does not unwrap")

// unwrapMaterial decrypts wrapped with the token's algorithm. substitute is
// random material, given when the key has a digest of material it took.
//
// OAEP fails in constant time with one error, and its integrity check makes
// any ciphertext not made from the plaintext fail: telling that failure from
// other material, as AWS's API does, teaches a caller nothing about the
// plaintext.
//
// PKCS #1 v1.5 has no such check, so whether some ciphertext unwraps is a
// padding oracle (Bleichenbacher's): with a token and the wrapped material
// captured from an importer, many chosen ciphertexts and their answers reveal
// the material. When the key has taken material, wrapped is decrypted with
// implicit rejection, as TLS does: padding that is wrong, or holds other than
// 32 bytes, yields substitute in constant time, which the digest check
// then refuses as other material, with the same answer and the same work as
// any other material. When the key has taken none, random material must not
// be imported, so a failure is refused as such; that leaves no useful oracle,
// since the first ciphertext that unwraps to 32 bytes is imported and the key
// has a digest from then on, while Bleichenbacher's attack needs many such
// answers.
//
// SM2PKE, like OAEP, checks its plaintext's integrity (C3, a hash over it
// and the shared point), so its failures tell nothing either.
func unwrapMaterial(alg byte, key any, wrapped, substitute []byte) ([]byte, error) {
	if alg == wrapSM2 {
		p, ok := key.(*sm2.PrivateKey)
		if !ok {
			return nil, errors.New("no SM2 wrapping key")
		}
		return sm2.Decrypt(p, wrapped)
	}
	priv, ok := key.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("no RSA wrapping key")
	}
	switch alg {
	case 0:
		return rsa.DecryptOAEP(sha256.New(), nil, priv, wrapped, nil)
	case 1:
		return rsa.DecryptOAEP(sha1.New(), nil, priv, wrapped, nil)
	case 3, 4:
		// RSA_AES_KEY_WRAP: the AES-256 key under RSA-OAEP, as long as the
		// modulus, then the material under it.
		h := sha1.New()
		if alg == 4 {
			h = sha256.New()
		}
		if len(wrapped) <= priv.Size() {
			return nil, errKWP
		}
		kek, err := rsa.DecryptOAEP(h, nil, priv, wrapped[:priv.Size()], nil)
		defer clear(kek)
		if err != nil || len(kek) != 32 {
			return nil, errKWP
		}
		return kwpUnwrap(kek, wrapped[priv.Size():])
	case 2:
		if substitute == nil {
			return rsa.DecryptPKCS1v15(nil, priv, wrapped)
		}
		// Its errors are of the ciphertext's length or size against the
		// public modulus, which the caller knows: substitute stands for
		// those too, so that every failure looks alike.
		_ = rsa.DecryptPKCS1v15SessionKey(nil, priv, wrapped, substitute)
		return substitute, nil
	}
	return nil, errors.New("unknown wrapping algorithm")
}

func (c *call) deleteKeyMaterial() (any, error) {
	c.changes = true
	k, err := c.externalKey()
	if err != nil {
		return nil, err
	}
	next, vid, err := c.s.clearMaterial(c, k.ID, c.str("KeyMaterialId"))
	if err != nil {
		return nil, err
	}
	return Changed{Key: next, VersionID: vid}, nil
}

// clearMaterial deletes the material of an EXTERNAL key's version that the
// material ID names (the primary's when empty), keeping its digest: the key
// awaits that material's import again (PendingImport; a key pending
// deletion stays so). Material pending rotation is not the key's for good:
// it is withdrawn, with its digest, the key's state stays, and new
// material may be imported in its stead. It returns the key as it left it
// and the version.
func (s *Service) clearMaterial(c *call, id, materialID string) (Key, string, error) {
	for try := retries(c.ctx); try.again(); {
		cur, err := s.store.GetKey(c.ctx, id)
		if err != nil {
			return Key{}, "", storeErr(err)
		}
		vs, _, err := c.materials(&cur)
		if err != nil {
			return Key{}, "", err
		}
		i, err := namedMaterial(&cur, vs, materialID)
		if err != nil {
			return Key{}, "", err
		}
		v := vs[i]
		clear(v.Wrapped)
		v.Wrapped, v.ExpireAt = nil, time.Time{}
		if v.RotationType == RotationPending {
			v.RotationType, v.Digest, v.MaterialDescription = RotationWithdrawn, nil, ""
		}
		vs[i] = v
		next := cur
		settleMaterials(&next, vs)
		next.Revision++
		err = s.store.ReplaceVersion(c.ctx, next, v)
		if errors.Is(err, ErrConflict) {
			continue
		}
		if err != nil {
			return Key{}, "", storeErr(err)
		}
		s.cache.InvalidateKey(c.ctx, id)
		s.ring.drop(VersionOf(&next, v.VersionID))
		return next, v.VersionID, nil
	}
	return Key{}, "", Errorf(CodeStateModifiedFailed, "The key %q is being changed by another request; retry.", id)
}

// rotateImported makes an EXTERNAL key's material pending rotation its
// primary, as AWS's RotateKeyOnDemand does for a key with imported
// material. A key that holds none such does not rotate, as before there
// was any (Unsupported.Origin).
func (c *call) rotateImported(k Key, limited bool) (any, error) {
	s := c.s
	for try := retries(c.ctx); try.again(); {
		vs, _, err := c.materials(&k)
		if err != nil {
			return nil, err
		}
		if limited {
			if err := onDemandLimit(&k, vs); err != nil {
				return nil, err
			}
		}
		p := pendingMaterial(vs)
		if p < 0 || len(vs[p].Wrapped) == 0 || !vs[p].ExpireAt.IsZero() && !s.clock.Now().Before(vs[p].ExpireAt) {
			return nil, Errorf(CodeUnsupportedOrigin, "The key %q has imported material and none pending rotation, imported and unexpired: import new material (ImportType %s) first.", k.ID, importNew)
		}
		now := s.clock.Now().UTC().Truncate(time.Second)
		v := vs[p]
		v.RotationType, v.CreatedAt = RotationOnDemand, now
		vs[p] = v
		next := k
		next.PrimaryVersionID, next.LastRotatedAt = v.VersionID, now
		settleMaterials(&next, vs)
		next.Revision++
		err = s.store.ReplaceVersion(c.ctx, next, v)
		if err == nil {
			s.cache.InvalidateKey(c.ctx, k.ID)
			return KeyVersion{KeyID: k.ID, VersionID: v.VersionID, CreatedAt: now}, nil
		}
		if !errors.Is(err, ErrConflict) {
			return nil, storeErr(err)
		}
		if k, err = s.store.GetKey(c.ctx, k.ID); err != nil {
			return nil, storeErr(err)
		}
		if err := usable(&k); err != nil {
			return nil, err
		}
	}
	return nil, Errorf(CodeStateModifiedFailed, "The key %q is being changed by another request; retry.", k.ID)
}

// materialExpired reports whether an EXTERNAL key's imported material has
// expired: the key is then PendingImport to every caller.
func (s *Service) materialExpired(k *Key) bool {
	return k.Origin == OriginExternal && !k.MaterialExpireAt.IsZero() && !s.clock.Now().Before(k.MaterialExpireAt)
}

// stateOf is the state every caller sees k in: a key whose imported material
// has expired awaits a new import, unless it is pending deletion.
func (s *Service) stateOf(k *Key) KeyState {
	if s.materialExpired(k) && k.State != KeyPendingDeletion {
		return KeyPendingImport
	}
	return k.State
}

// importedPrivateKey reads imported material into an asymmetric key of
// spec: a PKCS #8 private key of the spec's kind and size, which it returns
// as this service writes it.
func importedPrivateKey(spec *keyPairSpec, der []byte) ([]byte, error) {
	parsed, err := parsePKCS8(der)
	if err != nil {
		return nil, err
	}
	priv, ok := parsed.(privateKeyOf)
	if !ok {
		return nil, errors.New("no private key")
	}
	switch p := priv.(type) {
	case *rsa.PrivateKey:
		ok = spec.bits == p.N.BitLen() && p.Validate() == nil
	case *ecdsa.PrivateKey:
		ok = spec.curve == p.Curve
	case k1PrivateKey:
		ok = spec.k1
	case *sm2.PrivateKey:
		ok = spec.sm2
	case ed25519.PrivateKey:
		ok = spec.name == "ECC_NIST_EDWARDS25519"
	case mldsaPrivateKey:
		ok = spec.mldsa == p.spec
	case mlkemPrivateKey:
		ok = spec.mlkem == p.spec
	default:
		ok = false
	}
	if !ok {
		return nil, fmt.Errorf("a private key of another kind than %s", spec.name)
	}
	return marshalPKCS8(priv)
}
