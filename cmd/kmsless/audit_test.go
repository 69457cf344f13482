package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/audit"
)

// trail writes a Decrypt of partition p-17's key by consumer, and a refused
// Decrypt by intruder, under the root key of env.
func trail(t *testing.T) (env map[string]string, path string) {
	t.Helper()
	raw, _ := core.GenerateRootKey()
	root, err := core.NewRootKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	env = map[string]string{"KMS_ROOT_KEY": base64.StdEncoding.EncodeToString(raw), "KMS_DATA_DIR": t.TempDir()}
	path = filepath.Join(t.TempDir(), "audit.jsonl")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	l := audit.New(f, root.DeriveKey(audit.KeyPurpose))
	now := time.Now()
	for _, r := range []audit.Request{
		{Time: now, ID: "req-ok", Action: "Decrypt", Principal: "consumer", AccessKeyID: "LTAIconsumer",
			Params: core.Params{"EncryptionContext": `{"PartitionId":"p-17"}`}, Result: core.Opened{KeyID: "key-1", VersionID: "v-1"}},
		{Time: now, ID: "req-denied", Action: "Decrypt", Principal: "intruder", AccessKeyID: "LTAIintruder",
			Params: core.Params{"EncryptionContext": `{"PartitionId":"p-17"}`}, Err: core.Errorf(core.CodeNoPermission, "no")},
		{Time: now.Add(-30 * 24 * time.Hour), ID: "req-old", Action: "Decrypt", Principal: "consumer", Result: core.Opened{KeyID: "key-1"}},
	} {
		if err := l.Write(audit.Build(r, arns{})); err != nil {
			t.Fatal(err)
		}
	}
	return env, path
}

type arns struct{}

func (arns) KeyARN(id string) string         { return "acs:kms:r:1:key/" + id }
func (arns) AliasARN(name string) string     { return "acs:kms:r:1:" + name }
func (arns) PartitionARN(id string) string   { return "acs:kms:r:1:partition/" + id }
func (arns) SecretARN(name string) string    { return "acs:kms:r:1:secret/" + name }
func (arns) CertificateARN(id string) string { return "acs:kms:r:1:certificate/" + id }

func runAudit(env map[string]string, args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := auditCommand(args[0], args[1:], &out, &errOut, func(k string) string { return env[k] })
	return code, out.String(), errOut.String()
}

func TestVerifyPassesAnIntactTrailAndFailsAnEditedOne(t *testing.T) {
	env, path := trail(t)
	if code, out, errOut := runAudit(env, "verify", path); code != 0 || !strings.Contains(out, "OK: 3 records in 1 chains") {
		t.Fatalf("intact: %d %s %s", code, out, errOut)
	}
	text, _ := os.ReadFile(path)
	edited := filepath.Join(t.TempDir(), "edited.jsonl")
	os.WriteFile(edited, bytes.Replace(text, []byte(`"intruder"`), []byte(`"consumer"`), 1), 0o600)
	code, out, _ := runAudit(env, "verify", edited)
	if code != 1 || !strings.Contains(out, edited+":2: edited") {
		t.Fatalf("edited: %d %s", code, out)
	}
	other := map[string]string{"KMS_ROOT_KEY": base64.StdEncoding.EncodeToString(make([]byte, 32)), "KMS_DATA_DIR": t.TempDir()}
	if code, _, _ := runAudit(other, "verify", path); code != 1 {
		t.Fatalf("another root key verified the trail: %d", code)
	}
}

func TestQueryAnswersWhoDecryptedAPartitionThisWeek(t *testing.T) {
	env, path := trail(t)
	code, out, errOut := runAudit(env, "query", "-partition", "p-17", "-action", "Decrypt", "-error", "OK", "-since", "7d", path)
	if code != 0 || !strings.Contains(out, "consumer") || strings.Contains(out, "intruder") || strings.Contains(out, "req-old") {
		t.Fatalf("%d\n%s\n%s", code, out, errOut)
	}
	code, out, _ = runAudit(env, "query", "-json", "-principal", "LTAIintruder", path)
	var rec audit.Record
	if code != 0 || json.Unmarshal([]byte(out), &rec) != nil || rec.RequestID != "req-denied" || rec.ErrorCode != core.CodeNoPermission {
		t.Fatalf("%d %s", code, out)
	}
}

// TestQueryFindsTheRequestAKeysLastUseNames: -request finds the one record
// GetKeyLastUsage's KmsRequestId names, and who made it.
func TestQueryFindsTheRequestAKeysLastUseNames(t *testing.T) {
	env, path := trail(t)
	code, out, errOut := runAudit(env, "query", "-json", "-request", "req-old", path)
	var rec audit.Record
	if code != 0 || strings.Count(out, "\n") != 1 || json.Unmarshal([]byte(out), &rec) != nil || rec.RequestID != "req-old" || rec.UserIdentity.Principal != "consumer" {
		t.Fatalf("%d\n%s\n%s", code, out, errOut)
	}
}
