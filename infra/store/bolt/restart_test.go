package boltstore_test

import (
	"crypto/rand"
	"path/filepath"
	"testing"

	"github.com/kmsless/kmsless/infra/alibaba"
)

// A service over a reopened file finds the keys and aliases written before and
// opens the blobs made then: the file, not the process, holds the state.
func TestServiceRestartKeepsKeysAndDecryptsOldBlobs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kms.db")
	root := make([]byte, 32)
	_, _ = rand.Read(root)

	before := openService(t, path, root)
	id := before.ok("CreateKey", "Description", "survives restarts").(*alibaba.KeyMetadataResponse).KeyMetadata.KeyId
	before.ok("CreateAlias", "AliasName", "alias/kept", "KeyId", id)
	blob := before.ok("Encrypt", "KeyId", id, "Plaintext", "cGVyc2lzdGVk", "EncryptionContext", `{"k":"v"}`).(*alibaba.CiphertextResponse).CiphertextBlob
	if err := before.store.Close(); err != nil {
		t.Fatal(err)
	}

	after := openService(t, path, root)
	if m := after.ok("DescribeKey", "KeyId", "alias/kept").(*alibaba.KeyMetadataResponse).KeyMetadata; m.KeyId != id || m.Description != "survives restarts" {
		t.Fatalf("after restart: %+v", m)
	}
	d := after.ok("Decrypt", "CiphertextBlob", blob, "EncryptionContext", `{"k":"v"}`).(*alibaba.DecryptResponse)
	if d.Plaintext != "cGVyc2lzdGVk" {
		t.Fatal("old blob decrypted to something else after restart")
	}
}
