package config

import (
	"context"
	"encoding/base64"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/sealed"
	"github.com/kmsless/kmsless/infra/store/storetest"
)

const sealedPrincipals = `principals:
  - name: app
    accessKeyId: LTAI5tSealedApp00001
    accessKeySecret: sealed-secret-never-in-plaintext
    policy:
      Version: "1"
      Statement:
        - Effect: Allow
          Action: ["kms:*"]
          Resource: ["*"]
`

func TestSealedPrincipalsAndStorePasswordLoadWithTheRootKey(t *testing.T) {
	raw, other := randomRootKey(t), randomRootKey(t)
	root, err := core.NewRootKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	principalsText, err := sealed.Seal(root, sealed.Principals, []byte(sealedPrincipals))
	if err != nil {
		t.Fatal(err)
	}
	passwordText, err := sealed.Seal(root, sealed.StorePassword, []byte("p@ss:w/rd?&"))
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "principals.sealed")
	if err := os.WriteFile(file, []byte(principalsText), 0o600); err != nil {
		t.Fatal(err)
	}
	store := storetest.PostgresDatabase(t, "kms_sealed_") // trust auth: any password is let in
	env := map[string]string{
		"AWS_LAMBDA_RUNTIME_API":    "127.0.0.1:9",
		"KMS_ROOT_KEY":              base64.StdEncoding.EncodeToString(raw),
		"KMS_PRINCIPALS_FILE":       file,
		"KMS_STORE":                 store,
		"KMS_STORE_PASSWORD_SEALED": strings.TrimSpace(passwordText),
	}
	wire := func(env map[string]string) (*Service, error) {
		set, err := Read(func(k string) string { return env[k] })
		if err != nil {
			return nil, err
		}
		return Wire(context.Background(), set, slog.New(slog.DiscardHandler))
	}
	svc, err := wire(env)
	if err != nil {
		t.Fatal(err)
	}
	if p := svc.Principals.Lookup("LTAI5tSealedApp00001"); p == nil || p.Name != "app" {
		t.Fatalf("the sealed principals file gave %+v", p)
	}
	// Read again, as a server following the file does, with the root key
	// start-up had.
	renamed, err := sealed.Seal(root, sealed.Principals, []byte(strings.Replace(sealedPrincipals, "name: app", "name: app-renamed", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(renamed), 0o600); err != nil {
		t.Fatal(err)
	}
	if d, err := svc.ReadPrincipals(); err != nil || d.Lookup("LTAI5tSealedApp00001").Name != "app-renamed" {
		t.Fatalf("the sealed file read again: %v", err)
	}
	svc.Close()
	withPassword, err := storeURL(Settings{Store: store, StorePasswordSealed: passwordText}, root)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(withPassword)
	if err != nil {
		t.Fatal(err)
	}
	if pw, _ := u.User.Password(); pw != "p@ss:w/rd?&" || u.Query().Get("sslmode") != "disable" {
		t.Fatal("the store URL does not carry the password, escaped, and its options")
	}

	wrong := map[string]string{}
	for k, v := range env {
		wrong[k] = v
	}
	wrong["KMS_ROOT_KEY"] = base64.StdEncoding.EncodeToString(other)
	_, err = wire(wrong)
	if err == nil || !strings.Contains(err.Error(), "KMS_STORE_PASSWORD_SEALED: sealed under root key "+root.ID()+", which is not configured") {
		t.Fatalf("another root key: %v", err)
	}
	// A maintenance command opens the store as the functions do.
	deployment := func(env map[string]string) error {
		set, err := Read(func(k string) string { return env[k] })
		if err != nil {
			return err
		}
		st, err := DeploymentStore(context.Background(), set, slog.New(slog.DiscardHandler))
		if err == nil {
			err = st.Close()
		}
		return err
	}
	if err := deployment(env); err != nil {
		t.Fatalf("DeploymentStore: %v", err)
	}
	if err := deployment(wrong); err == nil || !strings.Contains(err.Error(), "sealed under root key "+root.ID()) {
		t.Fatalf("DeploymentStore under another root key: %v", err)
	}
	delete(wrong, "KMS_STORE_PASSWORD_SEALED")
	_, err = wire(wrong)
	if err == nil || !strings.Contains(err.Error(), "principals file "+file+": sealed under root key "+root.ID()) {
		t.Fatalf("another root key: %v", err)
	}

	// During a root rotation the previous key opens them.
	rotating := map[string]string{}
	for k, v := range env {
		rotating[k] = v
	}
	rotating["KMS_ROOT_KEY"], rotating["KMS_ROOT_KEY_PREVIOUS"] = base64.StdEncoding.EncodeToString(other), env["KMS_ROOT_KEY"]
	if svc, err := wire(rotating); err != nil {
		t.Fatalf("with the sealing key as the previous one: %v", err)
	} else {
		svc.Close()
	}

	// A sealed file changed by one byte is refused, saying so.
	b := []byte(principalsText)
	b[len(b)-5] ^= 'A' ^ 'B'
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = wire(env)
	if err == nil || (!strings.Contains(err.Error(), "changed or damaged") && !strings.Contains(err.Error(), "damaged")) {
		t.Fatalf("a tampered principals file: %v", err)
	}
	if strings.Contains(err.Error(), "sealed-secret-never") {
		t.Fatalf("the error shows a secret: %v", err)
	}
}
