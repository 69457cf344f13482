package sealed

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/kmsless/kmsless/core"
)

// Magic starts every sealed secret: "kmsless-sealed-v1 KIND ROOTKEYID DATA",
// one line, DATA the base64 (URL alphabet, unpadded) of nonce, ciphertext and
// tag.
const Magic = "kmsless-sealed-v1"

// What a sealed secret may be.
const (
	Principals    = "principals"
	StorePassword = "store-password"
	RedisPassword = "redis-password"
)

// purpose labels the derivation of the sealing key from the root key.
const purpose = "kmsless/v1/sealed-config"

// IsSealed reports whether b is a sealed secret (by its first bytes).
func IsSealed(b []byte) bool {
	return bytes.HasPrefix(bytes.TrimLeft(b, " \t\r\n"), []byte(Magic+" "))
}

// Seal seals plaintext as kind under root.
func Seal(root *core.RootKey, kind string, plaintext []byte) (string, error) {
	aead, err := sealer(root)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	out := aead.Seal(nonce, nonce, plaintext, aad(kind, root.ID()))
	return strings.Join([]string{Magic, kind, root.ID(), base64.RawURLEncoding.EncodeToString(out)}, " ") + "\n", nil
}

// Open returns the plaintext of text, a secret sealed as kind under one of
// roots. Its errors say what is wrong (not sealed, sealed as something else or
// under a root key not given, changed or damaged) and never quote the text.
func Open(text []byte, kind string, roots ...*core.RootKey) ([]byte, error) {
	fields := strings.Fields(string(text))
	if len(fields) != 4 || fields[0] != Magic {
		return nil, fmt.Errorf("not a sealed secret: want one line %q followed by its kind, root key ID and data", Magic)
	}
	if fields[1] != kind {
		return nil, fmt.Errorf("sealed as %s, not as %s", fields[1], kind)
	}
	var root *core.RootKey
	var ids []string
	for _, r := range roots {
		if r == nil {
			continue
		}
		ids = append(ids, r.ID())
		if r.ID() == fields[2] {
			root = r
		}
	}
	if root == nil {
		return nil, fmt.Errorf("sealed under root key %s, which is not configured (configured: %v): seal it again under the current root key", fields[2], ids)
	}
	data, err := base64.RawURLEncoding.DecodeString(fields[3])
	if err != nil {
		return nil, fmt.Errorf("the sealed %s is damaged: its data is not base64", kind)
	}
	aead, err := sealer(root)
	if err != nil {
		return nil, err
	}
	if len(data) < aead.NonceSize()+aead.Overhead() {
		return nil, fmt.Errorf("the sealed %s is damaged: truncated", kind)
	}
	n := aead.NonceSize()
	pt, err := aead.Open(nil, data[:n], data[n:], aad(kind, root.ID()))
	if err != nil {
		return nil, fmt.Errorf("the sealed %s was changed or damaged: it does not open under root key %s", kind, root.ID())
	}
	return pt, nil
}

func sealer(root *core.RootKey) (cipher.AEAD, error) {
	if root == nil {
		return nil, errors.New("sealing needs the root key")
	}
	key := root.DeriveKey(purpose)
	defer clear(key)
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// aad binds the format, the kind and the root key.
func aad(kind, rootID string) []byte {
	return []byte(Magic + "\x00" + kind + "\x00" + rootID)
}
