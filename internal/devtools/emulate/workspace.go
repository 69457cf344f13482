package emulate

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/config"
	"github.com/kmsless/kmsless/infra/principals"
)

// DemoAlias is the key alias the sample events name.
const DemoAlias = "alias/kmsless-demo"

// Workspace is the state a locally invoked function runs against: a root key,
// a principals file whose one principal signs HTTP events, and an embedded
// store holding the samples' demo key, named by DemoAlias and by the default
// partition key alias (KMS_PARTITION_KEY_ID, alias/partitions).
type Workspace struct {
	Dir            string
	RootKeyFile    string
	PrincipalsFile string
	StorePath      string
	// Caller signs HTTP trigger events; it has full access.
	Caller Credentials
}

// Prepare makes dir a workspace, or reuses the one there, and makes sure the
// demo key and its aliases exist.
func Prepare(ctx context.Context, dir string) (*Workspace, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	w := &Workspace{Dir: dir, RootKeyFile: filepath.Join(dir, "root.key"),
		PrincipalsFile: filepath.Join(dir, "principals.yaml"), StorePath: filepath.Join(dir, "kms.db")}
	if err := writeOnce(w.RootKeyFile, func() ([]byte, error) {
		raw, err := core.GenerateRootKey()
		if err != nil {
			return nil, err
		}
		defer clear(raw)
		return []byte(base64.StdEncoding.EncodeToString(raw)), nil
	}); err != nil {
		return nil, err
	}
	if err := writeOnce(w.PrincipalsFile, func() ([]byte, error) {
		id, secret := make([]byte, 10), make([]byte, 20)
		_, _ = rand.Read(id)
		_, _ = rand.Read(secret)
		return fmt.Appendf(nil, `# Written by make invoke: the principal that signs sample HTTP events.
principals:
  - name: invoke
    accessKeyId: LTAI%s
    accessKeySecret: %q
    policy:
      Version: "1"
      Statement:
        - Effect: Allow
          Action: ["kms:*"]
          Resource: ["*"]
`, strings.ToUpper(hex.EncodeToString(id)), base64.RawURLEncoding.EncodeToString(secret)), nil
	}); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(w.PrincipalsFile)
	if err != nil {
		return nil, err
	}
	var f struct {
		Principals []struct {
			AccessKeyID     string `yaml:"accessKeyId"`
			AccessKeySecret string `yaml:"accessKeySecret"`
		} `yaml:"principals"`
	}
	if _, err := principals.Load(w.PrincipalsFile); err != nil || yaml.Unmarshal(b, &f) != nil || len(f.Principals) == 0 {
		return nil, fmt.Errorf("%s is damaged; delete the workspace %s to start afresh", w.PrincipalsFile, dir)
	}
	w.Caller = Credentials{AccessKeyID: f.Principals[0].AccessKeyID, Secret: f.Principals[0].AccessKeySecret}
	if err := w.seed(ctx); err != nil {
		return nil, err
	}
	return w, nil
}

func writeOnce(path string, make func() ([]byte, error)) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	b, err := make()
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

// seed creates the demo key and its aliases through the service itself, unless
// they exist.
func (w *Workspace) seed(ctx context.Context) error {
	env := map[string]string{}
	for _, kv := range w.Env() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	set, err := config.Read(func(k string) string { return env[k] })
	if err != nil {
		return err
	}
	svc, err := config.Wire(ctx, set, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer svc.Close()
	admin := &core.Principal{Name: "workspace", AccessKeyID: "workspace", Policy: core.FullAccess()}
	call := func(action string, p core.Params) (any, error) {
		return svc.KMS.Handle(ctx, &core.Request{ID: core.NewRequestID(), Action: action, Params: p, Caller: admin})
	}
	var keyID string
	for _, alias := range []string{DemoAlias, set.PartitionKeyID} {
		resp, err := call("DescribeKey", core.Params{"KeyId": alias})
		if err == nil {
			keyID = resp.(core.Key).ID
			continue
		}
		if ke := core.AsError(err); ke.Code != core.CodeAliasNotFound {
			return err
		}
		if keyID == "" {
			created, err := call("CreateKey", core.Params{"Description": "demo key of the sample events"})
			if err != nil {
				return err
			}
			keyID = created.(core.Key).ID
		}
		if _, err := call("CreateAlias", core.Params{"AliasName": alias, "KeyId": keyID}); err != nil {
			return err
		}
	}
	return nil
}

// Env is the environment of a function running against the workspace, as a
// cloud runtime would give it: root key, principals and store from the
// workspace, nothing generated.
func (w *Workspace) Env() []string {
	return w.EnvWithStore(w.StorePath)
}

// EnvWithStore is Env with another store file, for instances that run at the
// same time (an embedded store admits one process at a time).
func (w *Workspace) EnvWithStore(path string) []string {
	return append(BaseEnv(),
		"KMS_ROOT_KEY_FILE="+w.RootKeyFile,
		"KMS_PRINCIPALS_FILE="+w.PrincipalsFile,
		"KMS_STORE=bolt://"+path,
		"KMS_DATA_DIR="+w.Dir,
	)
}
