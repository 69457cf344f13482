package config

import (
	"context"
	"encoding/base64"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/rootkey/rootkeytest"
)

func rootIDOf(t *testing.T, text string) string {
	raw, err := base64.StdEncoding.DecodeString(text)
	if err != nil {
		t.Fatal(err)
	}
	r, err := core.NewRootKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	return r.ID()
}

func TestPreviousRootKeyIsAcceptedFromTheSameSource(t *testing.T) {
	current := base64.StdEncoding.EncodeToString(randomRootKey(t))
	previous := base64.StdEncoding.EncodeToString(randomRootKey(t))
	dir := t.TempDir()
	currentFile, previousFile := filepath.Join(dir, "root.key"), filepath.Join(dir, "previous.key")
	for f, text := range map[string]string{currentFile: current, previousFile: previous} {
		if err := os.WriteFile(f, []byte(text+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{rootIDOf(t, current), rootIDOf(t, previous)}
	for name, env := range map[string]map[string]string{
		"env":  {"KMS_ROOT_KEY": current, "KMS_ROOT_KEY_PREVIOUS": previous},
		"file": {"KMS_ROOT_KEY_FILE": currentFile, "KMS_ROOT_KEY_PREVIOUS_FILE": previousFile},
	} {
		t.Run(name, func(t *testing.T) {
			env["KMS_DATA_DIR"] = t.TempDir()
			set, err := Read(func(k string) string { return env[k] })
			if err != nil {
				t.Fatal(err)
			}
			svc, err := Wire(context.Background(), set, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			defer svc.Close()
			if got := svc.KMS.RootKeyIDs(); !slices.Equal(got, want) {
				t.Fatalf("root key IDs %v, want %v (current first)", got, want)
			}
		})
	}
}

func TestPreviousRootKeyMisconfigurationsAreRefused(t *testing.T) {
	current := base64.StdEncoding.EncodeToString(randomRootKey(t))
	file := filepath.Join(t.TempDir(), "root.key")
	if err := os.WriteFile(file, []byte(current), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := "bm90IGEgcm9vdCBrZXkgYXQgYWxs"
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"previous without current", map[string]string{"KMS_ROOT_KEY_PREVIOUS": current}, "needs the current root key"},
		{"file variable with env source", map[string]string{"KMS_ROOT_KEY": current, "KMS_ROOT_KEY_PREVIOUS_FILE": file}, "KMS_ROOT_KEY_PREVIOUS_FILE goes with the file source"},
		{"text variable with file source", map[string]string{"KMS_ROOT_KEY_FILE": file, "KMS_ROOT_KEY_PREVIOUS": current}, "KMS_ROOT_KEY_PREVIOUS_FILE"},
		{"not a key", map[string]string{"KMS_ROOT_KEY": current, "KMS_ROOT_KEY_PREVIOUS": bad}, "KMS_ROOT_KEY_PREVIOUS: the root key must be"},
		{"the same key twice", map[string]string{"KMS_ROOT_KEY": current, "KMS_ROOT_KEY_PREVIOUS": current}, "given twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.env["KMS_DATA_DIR"] = t.TempDir()
			set, err := Read(func(k string) string { return tc.env[k] })
			if err == nil {
				var svc *Service
				if svc, err = Wire(context.Background(), set, slog.New(slog.DiscardHandler)); err == nil {
					svc.Close()
				}
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error saying %q", err, tc.want)
			}
			if strings.Contains(err.Error(), current) || strings.Contains(err.Error(), bad) {
				t.Fatalf("the error repeats a key: %v", err)
			}
		})
	}
}

func TestPreviousRootKeyIsUnwrappedByTheCloudKMSToo(t *testing.T) {
	current, previous := randomRootKey(t), randomRootKey(t)
	want := []string{rootIDOf(t, base64.StdEncoding.EncodeToString(current)), rootIDOf(t, base64.StdEncoding.EncodeToString(previous))}
	check := func(t *testing.T, vars map[string]string) {
		t.Helper()
		svc, err := Wire(context.Background(), settings(t, vars), slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		defer svc.Close()
		if got := svc.KMS.RootKeyIDs(); !slices.Equal(got, want) {
			t.Fatalf("root key IDs %v, want %v", got, want)
		}
	}
	t.Run("aws-kms", func(t *testing.T) {
		l := rootkeytest.StartLocalKMS(t)
		rootkeytest.UseAWS(t, l.Endpoint)
		key := l.CreateKey(t)
		check(t, map[string]string{
			"KMS_ROOT_KEY_SOURCE":   SourceAWSKMS,
			"KMS_ROOT_KEY_CMK":      key,
			"KMS_ROOT_KEY":          l.Encrypt(t, key, current, nil),
			"KMS_ROOT_KEY_PREVIOUS": l.Encrypt(t, key, previous, nil),
		})
	})
	t.Run("alibaba-kms", func(t *testing.T) {
		k := rootkeytest.StartKmsless(t)
		key := k.CreateKey(t)
		check(t, map[string]string{
			"KMS_ROOT_KEY_SOURCE":             SourceAlibabaKMS,
			"KMS_ROOT_KEY_CMK":                key,
			"KMS_ROOT_KEY":                    k.Encrypt(t, key, base64.StdEncoding.EncodeToString(current), nil),
			"KMS_ROOT_KEY_PREVIOUS":           k.Encrypt(t, key, base64.StdEncoding.EncodeToString(previous), nil),
			"KMS_ROOT_KEY_ENDPOINT":           k.Endpoint,
			"ALIBABA_CLOUD_ACCESS_KEY_ID":     k.AccessKeyID,
			"ALIBABA_CLOUD_ACCESS_KEY_SECRET": k.AccessKeySecret,
		})
	})
}
