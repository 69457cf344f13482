package bolt_test

import (
	"context"
	"crypto/rand"
	"path/filepath"
	"testing"
	"time"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/alibaba"
	"github.com/kmsless/kmsless/infra/store/bolt"
)

// A service over a reopened file finds the keys and aliases written before and
// opens the blobs made then: the file, not the process, holds the state.
func TestServiceRestartKeepsKeysAndDecryptsOldBlobs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kms.db")
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	root, err := core.NewRootKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	admin := &core.Principal{Name: "admin", AccessKeyID: "LTAIadmin", Policy: core.FullAccess()}
	// call opens the file, runs one action through a new service and closes
	// the file again.
	call := func(action string, kv ...string) any {
		t.Helper()
		store, err := bolt.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close()
		svc, err := core.New(core.Config{Store: store, Partitions: store, Root: root})
		if err != nil {
			t.Fatal(err)
		}
		p := core.Params{}
		for i := 0; i+1 < len(kv); i += 2 {
			p[kv[i]] = kv[i+1]
		}
		result, err := svc.Handle(context.Background(), &core.Request{ID: "REQ", Action: action, Params: p, Caller: admin})
		if err != nil {
			t.Fatalf("%s: %v", action, err)
		}
		r, err := alibaba.Response(svc, "REQ", result)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}

	id := call("CreateKey", "Description", "survives restarts").(*alibaba.KeyMetadataResponse).KeyMetadata.KeyId
	call("CreateAlias", "AliasName", "alias/kept", "KeyId", id)
	blob := call("Encrypt", "KeyId", id, "Plaintext", "cGVyc2lzdGVk", "EncryptionContext", `{"k":"v"}`).(*alibaba.CiphertextResponse).CiphertextBlob
	if m := call("DescribeKey", "KeyId", "alias/kept").(*alibaba.KeyMetadataResponse).KeyMetadata; m.KeyId != id || m.Description != "survives restarts" {
		t.Fatalf("after restart: %+v", m)
	}
	if d := call("Decrypt", "CiphertextBlob", blob, "EncryptionContext", `{"k":"v"}`).(*alibaba.DecryptResponse); d.Plaintext != "cGVyc2lzdGVk" {
		t.Fatal("old blob decrypted to something else after restart")
	}
}

// A reopened file keeps its keys' last uses and since when it has kept
// them: the time a file began keeping uses is written once.
func TestReopenKeepsKeyUsageAndSince(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "kms.db")
	at := time.Date(2026, 3, 14, 15, 9, 26, 535000000, time.UTC)
	k := core.Key{ID: "key-a", State: core.KeyEnabled, CreatedAt: at, PrimaryVersionID: "key-a-v1", Revision: 1}
	use := core.KeyUsage{Action: "Encrypt", At: at, RequestID: "req-1"}
	store, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.CreateKey(ctx, k, core.KeyVersion{KeyID: k.ID, VersionID: k.PrimaryVersionID, CreatedAt: at, Wrapped: []byte{1}}); err != nil {
		t.Fatal(err)
	}
	if err := store.RecordKeyUsage(ctx, k.ID, use); err != nil {
		t.Fatal(err)
	}
	_, since, err := store.KeyUsage(ctx, k.ID)
	if err != nil {
		t.Fatal(err)
	}
	store.Close()

	time.Sleep(time.Millisecond) // a since rewritten at reopen would differ
	if store, err = bolt.Open(path); err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	got, again, err := store.KeyUsage(ctx, k.ID)
	if err != nil || got != use || !again.Equal(since) {
		t.Fatalf("KeyUsage after reopen = %+v, since %v, %v; want %+v, since %v", got, again, err, use, since)
	}
}
