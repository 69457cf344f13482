package core_test

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/alibaba"
	"github.com/kmsless/kmsless/internal/zerotest"
)

// roundTripContexts are the EncryptionContext texts data keys are made under.
var roundTripContexts = []string{
	"",
	`{}`,
	`{"tenant":"acme"}`,
	`{"partition":"p-0042","tenant":"acme","region":"cn-hangzhou"}`,
	`{"":"empty key","unicode":"ключ 鍵 🔑","escaped":"\"\\\n\u0000"}`,
}

// roundTripSizes samples 1..1024 densely near the edges and the AES sizes.
func roundTripSizes() []int {
	sizes := []int{1, 2, 3, 7, 8, 15, 16, 17, 24, 31, 32, 33, 47, 48, 63, 64, 65, 100, 127, 128, 255, 256, 257, 511, 512, 513, 1000, 1022, 1023, 1024}
	for n := 37; n < 1024; n += 97 {
		sizes = append(sizes, n)
	}
	return sizes
}

func TestDataKeysRoundTripForEverySizeAndContext(t *testing.T) {
	f := newSvcFixture(t)
	id := f.createKey()
	for _, ctx := range roundTripContexts {
		for _, n := range roundTripSizes() {
			g := f.ok("GenerateDataKey", "KeyId", id, "NumberOfBytes", fmt.Sprint(n), "EncryptionContext", ctx).(*alibaba.DataKeyResponse)
			key, err := base64.StdEncoding.DecodeString(g.Plaintext)
			if err != nil || len(key) != n {
				t.Fatalf("size %d, context %s: data key of %d bytes (%v)", n, ctx, len(key), err)
			}
			d := f.ok("Decrypt", "CiphertextBlob", g.CiphertextBlob, "EncryptionContext", ctx).(*alibaba.DecryptResponse)
			if d.Plaintext != g.Plaintext || d.KeyId != id || d.KeyVersionId != g.KeyVersionId {
				t.Fatalf("size %d, context %s: Decrypt gave another key", n, ctx)
			}

			w := f.ok("GenerateDataKeyWithoutPlaintext", "KeyId", id, "NumberOfBytes", fmt.Sprint(n), "EncryptionContext", ctx).(*alibaba.CiphertextResponse)
			d = f.ok("Decrypt", "CiphertextBlob", w.CiphertextBlob, "EncryptionContext", ctx).(*alibaba.DecryptResponse)
			if key, _ := base64.StdEncoding.DecodeString(d.Plaintext); len(key) != n {
				t.Fatalf("size %d, context %s: GenerateDataKeyWithoutPlaintext key of %d bytes", n, ctx, len(key))
			}
		}
	}
}

func TestKeySpecSizes(t *testing.T) {
	f := newSvcFixture(t)
	id := f.createKey()
	for _, c := range []struct {
		kv   []string
		want int
	}{
		{nil, 32},
		{[]string{"KeySpec", "AES_256"}, 32},
		{[]string{"KeySpec", "AES_128"}, 16},
		{[]string{"KeySpec", "AES_128", "NumberOfBytes", "100"}, 100},
		{[]string{"KeySpec", "AES_256", "NumberOfBytes", "1"}, 1},
		// NumberOfBytes wins, so a KeySpec it overrides is not read at all.
		{[]string{"KeySpec", "AES_512", "NumberOfBytes", "24"}, 24},
	} {
		g := f.ok("GenerateDataKey", append([]string{"KeyId", id}, c.kv...)...).(*alibaba.DataKeyResponse)
		if key, _ := base64.StdEncoding.DecodeString(g.Plaintext); len(key) != c.want {
			t.Errorf("%q: %d bytes, want %d", c.kv, len(key), c.want)
		}
	}
}

func TestDataKeysAreFreshEachCall(t *testing.T) {
	f := newSvcFixture(t)
	id := f.createKey()
	seen := map[string]bool{}
	for range 50 {
		g := f.ok("GenerateDataKey", "KeyId", id).(*alibaba.DataKeyResponse)
		if seen[g.Plaintext] || seen[g.CiphertextBlob] {
			t.Fatal("a data key or blob repeated")
		}
		seen[g.Plaintext], seen[g.CiphertextBlob] = true, true
	}
}

func TestEncryptDecryptRoundTripsUpToTheLimit(t *testing.T) {
	f := newSvcFixture(t)
	id := f.createKey()
	for _, n := range []int{0, 1, 100, core.MaxEncryptPlaintext} {
		pt := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("x", n)))
		if n == 0 {
			_, err := f.call("Encrypt", "KeyId", id, "Plaintext", pt)
			mustCode(t, err, core.CodeMissingParameter)
			continue
		}
		for _, ctx := range roundTripContexts {
			e := f.ok("Encrypt", "KeyId", id, "Plaintext", pt, "EncryptionContext", ctx).(*alibaba.CiphertextResponse)
			d := f.ok("Decrypt", "CiphertextBlob", e.CiphertextBlob, "EncryptionContext", ctx).(*alibaba.DecryptResponse)
			if d.Plaintext != pt {
				t.Fatalf("%d bytes under %s came back different", n, ctx)
			}
		}
	}
	over := base64.StdEncoding.EncodeToString(make([]byte, core.MaxEncryptPlaintext+1))
	_, err := f.call("Encrypt", "KeyId", id, "Plaintext", over)
	if ke := mustCode(t, err, core.CodeInvalidParameter); !strings.Contains(ke.Message, "Plaintext") {
		t.Errorf("message does not name Plaintext: %s", ke.Message)
	}
	huge := strings.Repeat("A", 64<<10)
	_, err = f.call("Encrypt", "KeyId", id, "Plaintext", huge)
	mustCode(t, err, core.CodeInvalidParameter)
}

func TestReEncryptMovesBlobBetweenKeysAndContexts(t *testing.T) {
	f := newSvcFixture(t)
	src, dst := f.createKey(), f.createKey()
	g := f.ok("GenerateDataKey", "KeyId", src, "EncryptionContext", `{"from":"a"}`).(*alibaba.DataKeyResponse)
	r := f.ok("ReEncrypt", "CiphertextBlob", g.CiphertextBlob, "SourceEncryptionContext", `{"from":"a"}`,
		"DestinationKeyId", dst, "DestinationEncryptionContext", `{"to":"b"}`).(*alibaba.CiphertextResponse)
	if r.KeyId != dst {
		t.Fatalf("ReEncrypt sealed under %s", r.KeyId)
	}
	d := f.ok("Decrypt", "CiphertextBlob", r.CiphertextBlob, "EncryptionContext", `{"to":"b"}`).(*alibaba.DecryptResponse)
	if d.Plaintext != g.Plaintext || d.KeyId != dst {
		t.Fatal("ReEncrypt changed the data key")
	}
	_, err := f.call("ReEncrypt", "CiphertextBlob", g.CiphertextBlob, "SourceEncryptionContext", `{"from":"x"}`, "DestinationKeyId", dst)
	mustCode(t, err, core.CodeInvalidCiphertext)
	_, err = f.call("ReEncrypt", "CiphertextBlob", g.CiphertextBlob, "SourceEncryptionContext", `{"from":"a"}`)
	mustCode(t, err, core.CodeMissingParameter)
	// A SourceKeyId naming no key is the caller's mistake, not the blob's.
	_, err = f.call("ReEncrypt", "CiphertextBlob", g.CiphertextBlob, "SourceEncryptionContext", `{"from":"a"}`,
		"SourceKeyId", "key-doesnotexist0000000000", "DestinationKeyId", dst)
	mustCode(t, err, core.CodeKeyNotFound)
}

func TestDecryptRejectsContextMismatch(t *testing.T) {
	f := newSvcFixture(t)
	id := f.createKey()
	blob := f.ok("GenerateDataKeyWithoutPlaintext", "KeyId", id, "EncryptionContext", `{"tenant":"acme","partition":"7"}`).(*alibaba.CiphertextResponse).CiphertextBlob
	for _, ctx := range []string{
		"",
		`{}`,
		`{"tenant":"acme"}`,
		`{"tenant":"acme","partition":"8"}`,
		`{"tenant":"acme","partition":"7","extra":""}`,
		`{"Tenant":"acme","partition":"7"}`,
		`{"tenant":"acme ","partition":"7"}`,
	} {
		_, err := f.call("Decrypt", "CiphertextBlob", blob, "EncryptionContext", ctx)
		mustCode(t, err, core.CodeInvalidCiphertext)
	}
	f.ok("Decrypt", "CiphertextBlob", blob, "EncryptionContext", `{"partition":"7","tenant":"acme"}`)
}

// failingRand is crypto/rand until a read of n bytes, which it fills half of
// and fails, keeping the buffer.
type failingRand struct {
	n    int
	kept [][]byte
}

func (r *failingRand) Read(p []byte) (int, error) {
	if len(p) != r.n {
		return rand.Read(p)
	}
	r.kept = append(r.kept, p)
	n, _ := rand.Read(p[:len(p)/2])
	return n, errors.New("entropy source failed")
}

// A data key whose randomness fails halfway leaves none of it behind.
func TestDataKeyCutShortIsZeroed(t *testing.T) {
	r := &failingRand{n: 48}
	svc, _ := memService(t, core.Config{Rand: r})
	admin := &core.Principal{Name: "admin", AccessKeyID: "LTAIadmin", Policy: core.FullAccess()}
	k, err := svc.Handle(background, &core.Request{ID: "REQ", Action: "CreateKey", Params: core.Params{}, Caller: admin})
	if err != nil {
		t.Fatal(err)
	}
	_, err = svc.Handle(background, &core.Request{ID: "REQ", Action: "GenerateDataKey",
		Params: core.Params{"KeyId": k.(core.Key).ID, "NumberOfBytes": "48"}, Caller: admin})
	mustCode(t, err, core.CodeInternalFailure)
	if !zerotest.Zeroed(r.kept) {
		t.Error("the half-made data key was not zeroed")
	}
}
