package core_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"hash"
	"strings"
	"testing"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/internal/zerotest"
)

// keptHash is SHA-256 that keeps the slices written to it. HMAC hashes a key
// longer than a block before it uses it, so the key MAC put together is
// written to one.
type keptHash struct {
	hash.Hash
	kept *[][]byte
}

func (k keptHash) Write(p []byte) (int, error) {
	*k.kept = append(*k.kept, p)
	return k.Hash.Write(p)
}

func TestSecretMACZeroesTheKeyItPutTogether(t *testing.T) {
	secret := strings.Repeat("s3cr3t", 20) // longer than SHA-256's block
	var kept [][]byte
	mac := core.NewSecret(secret).MAC(func() hash.Hash { return keptHash{sha256.New(), &kept} }, "AWS4", "&")
	var keys [][]byte
	for _, p := range kept {
		if len(p) == len("AWS4"+secret+"&") {
			keys = append(keys, p)
		}
	}
	if len(keys) != 1 {
		t.Fatalf("the key was hashed %d times, want once", len(keys))
	}
	if !zerotest.Zeroed(keys) {
		t.Error("the key MAC put together was not zeroed")
	}
	want := hmac.New(sha256.New, []byte("AWS4"+secret+"&"))
	mac.Write([]byte("string to sign"))
	want.Write([]byte("string to sign"))
	if !bytes.Equal(mac.Sum(nil), want.Sum(nil)) {
		t.Error("MAC is not the HMAC under prefix, secret and suffix")
	}
}
