package config_test

import (
	"context"
	"encoding/base64"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/audit"
	"github.com/kmsless/kmsless/infra/config"
)

func TestAuditLogDefaultsToTheDataDirLocallyAndStdoutInACloud(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"KMS_DATA_DIR": "/d"}, "/d/audit.jsonl"},
		{map[string]string{"AWS_LAMBDA_RUNTIME_API": "x"}, "stdout"},
		{map[string]string{"FC_RUNTIME_API": "x"}, "stdout"},
		{map[string]string{"FC_RUNTIME_API": "x", "KMS_AUDIT_LOG": "/var/log/kms.jsonl"}, "/var/log/kms.jsonl"},
	} {
		set, err := config.Read(func(k string) string { return c.env[k] })
		if err != nil {
			t.Fatal(err)
		}
		if set.AuditLog != c.want {
			t.Errorf("%v: KMS_AUDIT_LOG %q, want %q", c.env, set.AuditLog, c.want)
		}
	}
}

// TestAuditKeyVerifiesTheTrailTheServiceWrote: the verifier's key, read from
// the same environment, is the one the wired service chains with.
func TestAuditKeyVerifiesTheTrailTheServiceWrote(t *testing.T) {
	dir := t.TempDir()
	raw, _ := core.GenerateRootKey()
	env := map[string]string{"KMS_DATA_DIR": dir, "KMS_ROOT_KEY": base64.StdEncoding.EncodeToString(raw)}
	set, err := config.Read(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	svc, err := config.Wire(context.Background(), set, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	x := svc.Edge.Begin(ctx)
	x.Action = "ListKeys"
	if _, ke := svc.Edge.Run(ctx, x, func() (any, error) { return nil, nil }); ke != nil {
		t.Fatal(ke)
	}
	svc.Close()
	key, err := config.AuditKey(ctx, set)
	if err != nil {
		t.Fatal(err)
	}
	text, err := os.ReadFile(filepath.Join(dir, "audit.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	v := audit.NewVerifier(key)
	_ = v.Read("audit.jsonl", strings.NewReader(string(text)))
	if problems, _, n := v.Result(); len(problems) != 0 || n != 1 {
		t.Fatalf("%d records, problems %v", n, problems)
	}

	// Without a root key, the verifier's key is an error, not a new root key.
	empty := map[string]string{"KMS_DATA_DIR": t.TempDir()}
	set, _ = config.Read(func(k string) string { return empty[k] })
	if _, err := config.AuditKey(ctx, set); err == nil {
		t.Fatal("a key out of nothing")
	}
	if _, err := os.Stat(filepath.Join(empty["KMS_DATA_DIR"], "root.key")); err == nil {
		t.Fatal("AuditKey generated a root key")
	}
}
