package core_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
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

// Changes names who was added, removed, or changed and in what, and nothing
// of a principal that stayed as it was.
func TestDirectoryChangesNamesWhatChanged(t *testing.T) {
	readOnly := core.MustPolicy(core.Statement{Effect: "Allow", Action: []string{"kms:Describe*"}, Resource: []string{"*"}})
	dir := func(ps ...core.Principal) *core.Directory {
		t.Helper()
		d, err := core.NewDirectory(ps)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	p := func(name, id, secret string, policy *core.Policy, qps int) core.Principal {
		return core.Principal{Name: name, AccessKeyID: id, Secret: core.NewSecret(secret), Policy: policy, QPS: qps}
	}
	was := dir(p("orders", "LTAIorders", "s1", core.FullAccess(), 0), p("billing", "LTAIbilling", "s2", core.FullAccess(), 0),
		p("audit", "LTAIaudit", "s3", readOnly, 0), p("reports", "LTAIreports", "s4", readOnly, 0))
	is := dir(p("orders", "LTAIorders", "s1-rotated", core.FullAccess(), 0), p("audit", "LTAIaudit", "s3", core.FullAccess(), 50),
		p("reports", "LTAIreports", "s4", core.MustPolicy(core.Statement{Effect: "Allow", Action: []string{"kms:Describe*"}, Resource: []string{"*"}}), 0),
		p("search", "LTAIsearch", "s5", readOnly, 0))
	got := fmt.Sprint(was.Changes(is))
	want := fmt.Sprint([]core.PrincipalChange{
		{Name: "audit", AccessKeyID: "LTAIaudit", Changed: []string{"limits", "policy"}},
		{Name: "billing", AccessKeyID: "LTAIbilling", Removed: true},
		{Name: "orders", AccessKeyID: "LTAIorders", Changed: []string{"secret"}},
		{Name: "search", AccessKeyID: "LTAIsearch", Added: true},
	})
	if got != want {
		t.Errorf("changes:\n got %s\nwant %s", got, want)
	}
	if changes := is.Changes(is); len(changes) != 0 {
		t.Errorf("a directory against itself: %v", changes)
	}
}
