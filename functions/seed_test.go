package functions_test

// The seed scenario end to end, with the real binaries under the emulators: a
// control plane's partition-created events reach provision-partitions through
// SQS (AWS Lambda, under aws-lambda-rie) and an MNS queue (Function Compute,
// under the project's emulator); then data-plane producers and consumers, over
// HTTP with the official SDK, fetch a partition's key ciphertext, Decrypt it,
// use the key locally and zero it. All processes share one PostgreSQL store, as
// a cloud deployment does.

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	util "github.com/alibabacloud-go/tea-utils/v2/service"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/config"
	"github.com/kmsless/kmsless/infra/principals"
	"github.com/kmsless/kmsless/infra/store/storetest"
	"github.com/kmsless/kmsless/internal/devtools/emulate"
	"github.com/kmsless/kmsless/internal/syncbuf"
)

// The seed's principals, as an operator writes them into the principals file.
const principalsYAML = `principals:
  - name: partition-provisioner
    accessKeyId: LTAI5tProvisioner0001
    accessKeySecret: provisioner-secret-0001
    policy:
      Version: "1"
      Statement:
        - Effect: Allow
          Action: ["kms:GenerateDataKeyWithoutPlaintext"]
          Resource: ["acs:kms:*:*:key/*", "acs:kms:*:*:alias/*"]
  - name: producer
    accessKeyId: LTAI5tProducer000001
    accessKeySecret: producer-secret-0001
    policy:
      Version: "1"
      Statement:
        - Effect: Allow
          Action: ["kms:GetPartitionDataKey", "kms:Decrypt"]
          Resource: ["acs:kms:*:*:partition/*", "acs:kms:*:*:key/*"]
  - name: consumer
    accessKeyId: LTAI5tConsumer000001
    accessKeySecret: consumer-secret-0001
    policy:
      Version: "1"
      Statement:
        - Effect: Allow
          Action: ["kms:GetPartitionDataKey", "kms:Decrypt"]
          Resource: ["acs:kms:*:*:partition/seed-*", "acs:kms:*:*:key/*"]
`

// seed is the deployment under test.
type seed struct {
	env       []string
	store     storetest.Store
	principal *core.Directory
	apiAddr   string
}

func TestSeedScenarioEndToEnd(t *testing.T) {
	s := newSeed(t)
	ctx := context.Background()

	t.Run("100 partitions through SQS on Lambda", func(t *testing.T) {
		if rie == "" {
			t.Skipf("aws-lambda-rie is missing: %v", rieErr)
		}
		r := s.run(t, func(ctx context.Context, env []string) (emulate.Runner, error) {
			return emulate.Lambda(ctx, rie, filepath.Join(binDir, "provision-partitions"), env)
		})
		tmpl := sampleRecord(t, root, "events/aws/provision-sqs.json", func(raw []byte) (json.RawMessage, error) {
			var ev struct{ Records []json.RawMessage }
			err := json.Unmarshal(raw, &ev)
			if err != nil || len(ev.Records) == 0 {
				return nil, fmt.Errorf("no Records (%v)", err)
			}
			return ev.Records[0], nil
		})
		sqs := func(bodies []string) []byte {
			recs := make([]map[string]any, len(bodies))
			for i, b := range bodies {
				recs[i] = clone(t, tmpl)
				recs[i]["messageId"] = fmt.Sprintf("seed-sqs-%s", bodies[i])
				recs[i]["body"] = b
			}
			return mustJSON(t, map[string]any{"Records": recs})
		}
		for batch := range 10 {
			bodies := make([]string, 10)
			for i := range bodies {
				bodies[i] = fmt.Sprintf(`{"PartitionId":"seed-aws-%03d","EncryptionContext":{"Tenant":"acme"}}`, batch*10+i)
			}
			out := invoke(t, r, sqs(bodies))
			var resp struct{ BatchItemFailures []map[string]string }
			if out.Failed() || json.Unmarshal(out.Payload, &resp) != nil || resp.BatchItemFailures == nil || len(resp.BatchItemFailures) != 0 {
				t.Fatalf("batch %d: %s %s %s", batch, out.ErrorType, out.ErrorMessage, out.Payload)
			}
		}
		before := s.partition(t, "seed-aws-003")

		// A redelivered batch with one poisoned message: only the poison is
		// reported, and the redelivered partitions keep their keys.
		bodies := make([]string, 10)
		for i := range bodies {
			bodies[i] = fmt.Sprintf(`{"PartitionId":"seed-aws-%03d","EncryptionContext":{"Tenant":"acme"}}`, i)
		}
		bodies[4] = `{"PartitionId":"seed-poison","KeyId":"alias/no-such-key"}`
		out := invoke(t, r, sqs(bodies))
		var resp struct {
			BatchItemFailures []struct{ ItemIdentifier string }
		}
		if err := json.Unmarshal(out.Payload, &resp); err != nil || len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "seed-sqs-"+bodies[4] {
			t.Fatalf("poisoned batch answered %s %s %s; want exactly the poisoned message", out.ErrorType, out.ErrorMessage, out.Payload)
		}
		if after := s.partition(t, "seed-aws-003"); string(after.CiphertextBlob) != string(before.CiphertextBlob) {
			t.Fatal("a redelivered event gave a partition a second key")
		}
		// alias/no-such-key is not one of KMS_PARTITION_KEYS: refused before
		// any lookup, with the reason logged.
		if !logsCome(r, `"partitionId":"seed-poison","code":"Forbidden.NoPermission"`, "KMS_PARTITION_KEYS") {
			t.Errorf("the poisoned message's reason is not in the function's log:\n%s", r.Logs())
		}
	})

	t.Run("100 partitions through an MNS queue on Function Compute", func(t *testing.T) {
		r := s.run(t, func(ctx context.Context, env []string) (emulate.Runner, error) {
			return emulate.FC(ctx, "provision-partitions", filepath.Join(binDir, "provision-partitions"), env, 20*time.Second)
		})
		tmpl := sampleRecord(t, root, "events/fc/provision-mns-queue-batch.json", func(raw []byte) (json.RawMessage, error) {
			var evs []json.RawMessage
			err := json.Unmarshal(raw, &evs)
			if err != nil || len(evs) == 0 {
				return nil, fmt.Errorf("not a batch (%v)", err)
			}
			return evs[0], nil
		})
		mns := func(batch int, bodies []string) []byte {
			evs := make([]map[string]any, len(bodies))
			for i, b := range bodies {
				id := fmt.Sprintf("SEEDMNS%02d%02d", batch, i)
				if i%2 == 1 { // the trigger's IsBase64Decode=false delivers bodies base64-encoded
					b = base64.StdEncoding.EncodeToString([]byte(b))
				}
				evs[i] = clone(t, tmpl)
				evs[i]["id"] = id
				evs[i]["data"] = map[string]string{"requestId": "R" + id, "messageId": id, "messageBody": b}
			}
			return mustJSON(t, evs)
		}
		for batch := range 10 {
			bodies := make([]string, 10)
			for i := range bodies {
				bodies[i] = fmt.Sprintf(`{"PartitionId":"seed-fc-%03d"}`, batch*10+i)
			}
			out := invoke(t, r, mns(batch, bodies))
			var c struct{ Created, AlreadyPresent, Failed int }
			if out.Failed() || json.Unmarshal(out.Payload, &c) != nil || c.Created != 10 {
				t.Fatalf("batch %d: %s %s %s", batch, out.ErrorType, out.ErrorMessage, out.Payload)
			}
		}
		// A poisoned batch fails the invocation, so the trigger retries it and
		// finally dead-letters it; its good messages are provisioned meanwhile.
		out := invoke(t, r, mns(10, []string{`{"PartitionId":"seed-fc-late"}`, `{"PartitionId":"seed-fc-bad","EncryptionContext":{"PartitionId":"seed-fc-other"}}`}))
		if out.ErrorType != core.CodeInvalidParameter {
			t.Fatalf("poisoned batch answered %s %s %s; want a function error", out.ErrorType, out.ErrorMessage, out.Payload)
		}
		s.partition(t, "seed-fc-late")
		if _, err := s.store.GetPartition(ctx, "seed-fc-bad"); !errors.Is(err, core.ErrNotFound) {
			t.Fatalf("the poisoned partition was stored: %v", err)
		}
	})

	for i := range 100 {
		s.partition(t, fmt.Sprintf("seed-aws-%03d", i))
		s.partition(t, fmt.Sprintf("seed-fc-%03d", i))
	}

	t.Run("get-partition-data-key invoked directly", func(t *testing.T) {
		if rie == "" {
			t.Skipf("aws-lambda-rie is missing: %v", rieErr)
		}
		r := s.run(t, func(ctx context.Context, env []string) (emulate.Runner, error) {
			return emulate.Lambda(ctx, rie, filepath.Join(binDir, "get-partition-data-key"), env)
		})
		out := invoke(t, r, []byte(`{"PartitionId":"seed-aws-042"}`))
		var resp struct{ PartitionId, KeyId, KeyVersionId, CiphertextBlob string }
		stored := s.partition(t, "seed-aws-042")
		if out.Failed() || json.Unmarshal(out.Payload, &resp) != nil || resp.CiphertextBlob != base64.StdEncoding.EncodeToString(stored.CiphertextBlob) {
			t.Fatalf("answered %s %s %s", out.ErrorType, out.ErrorMessage, out.Payload)
		}
		if out := invoke(t, r, []byte(`{"PartitionId":"seed-never-created"}`)); out.ErrorType != core.CodePartitionNotFound {
			t.Fatalf("unknown partition answered %s %s", out.ErrorType, out.Payload)
		}
	})

	t.Run("producers and consumers over HTTP", func(t *testing.T) {
		s.serveAPI(t)
		producer := s.client(t, "LTAI5tProducer000001", "producer-secret-0001")
		consumer := s.client(t, "LTAI5tConsumer000001", "consumer-secret-0001")
		provisioner := s.client(t, "LTAI5tProvisioner0001", "provisioner-secret-0001")

		for _, partition := range []string{"seed-aws-017", "seed-fc-063"} {
			payload := []byte("order 1234 of " + partition)
			sealed := withDataKey(t, producer, partition, func(aead cipher.AEAD) []byte {
				nonce := make([]byte, aead.NonceSize())
				_, _ = rand.Read(nonce)
				return aead.Seal(nonce, nonce, payload, []byte(partition))
			})
			opened := withDataKey(t, consumer, partition, func(aead cipher.AEAD) []byte {
				n := aead.NonceSize()
				pt, err := aead.Open(nil, sealed[:n], sealed[n:], []byte(partition))
				if err != nil {
					t.Fatalf("the consumer's key does not open the producer's payload: %v", err)
				}
				return pt
			})
			if string(opened) != string(payload) {
				t.Fatalf("consumer read %q, want %q", opened, payload)
			}
		}

		a := getPartitionDataKey(t, producer, "seed-aws-001")
		b := getPartitionDataKey(t, producer, "seed-aws-002")
		_, err := producer.Decrypt(&kms.DecryptRequest{CiphertextBlob: tea.String(a.CiphertextBlob), EncryptionContext: b.context()})
		wantSDKError(t, err, core.CodeInvalidCiphertext, http.StatusBadRequest)

		_, err = provisioner.Decrypt(&kms.DecryptRequest{CiphertextBlob: tea.String(a.CiphertextBlob), EncryptionContext: a.context()})
		wantSDKError(t, err, core.CodeNoPermission, http.StatusForbidden)
		_, err = callGetPartitionDataKey(provisioner, "seed-aws-001")
		wantSDKError(t, err, core.CodeNoPermission, http.StatusForbidden)

		_, err = producer.GenerateDataKeyWithoutPlaintext(&kms.GenerateDataKeyWithoutPlaintextRequest{
			KeyId: tea.String("alias/partitions"), EncryptionContext: map[string]interface{}{"PartitionId": "seed-aws-new"}})
		wantSDKError(t, err, core.CodeNoPermission, http.StatusForbidden)
		_, err = callGetPartitionDataKey(producer, "seed-never-created")
		wantSDKError(t, err, core.CodePartitionNotFound, http.StatusNotFound)
	})

	t.Run("the producer is refused provisioning", func(t *testing.T) {
		set := s.settings(t)
		svc, err := config.Wire(ctx, set, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		defer svc.Close()
		_, _, err = svc.KMS.ProvisionPartition(ctx, s.principal.Lookup("LTAI5tProducer000001"),
			core.PartitionRequest{PartitionID: "seed-by-producer", KeyID: "alias/partitions"})
		if ke := core.AsError(err); ke == nil || ke.Code != core.CodeNoPermission {
			t.Fatalf("producer provisioning: %v", err)
		}
		if _, err := s.store.GetPartition(ctx, "seed-by-producer"); !errors.Is(err, core.ErrNotFound) {
			t.Fatalf("a refused provisioning left a record: %v", err)
		}
	})
}

// newSeed prepares, for the binaries TestMain built, a fresh PostgreSQL
// database with a root key and the principals file, and no key at all:
// provision-partitions makes alias/partitions when it starts.
func newSeed(t *testing.T) *seed {
	t.Helper()
	ctx := context.Background()
	s := &seed{}
	dir := t.TempDir()
	rawRoot, err := core.GenerateRootKey()
	if err != nil {
		t.Fatal(err)
	}
	rootFile := filepath.Join(dir, "root.key")
	if err := os.WriteFile(rootFile, []byte(base64.StdEncoding.EncodeToString(rawRoot)), 0o600); err != nil {
		t.Fatal(err)
	}
	clear(rawRoot)
	principalsFile := filepath.Join(dir, "principals.yaml")
	if err := os.WriteFile(principalsFile, []byte(principalsYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	if s.principal, err = principals.Load(principalsFile); err != nil {
		t.Fatal(err)
	}
	s.env = append(emulate.BaseEnv(),
		"KMS_ROOT_KEY_FILE="+rootFile,
		"KMS_STORE="+freshDatabase(t),
		"KMS_DATA_DIR="+dir,
		"KMS_REGION=cn-hangzhou",
		"KMS_ACCOUNT_ID=1234567890123456",
	)

	svc, err := config.Wire(ctx, s.settings(t), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = svc.Close() })
	s.store = svc.KMS.Store().(storetest.Store)
	// No alias/partitions: the provisioner's first cold start creates it.
	if _, err := s.store.GetAlias(ctx, "alias/partitions"); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("alias/partitions exists before any function started: %v", err)
	}
	// The api function alone is given the principals file: the others answer
	// only what the platform authorized.
	s.env = append(s.env, "KMS_PRINCIPALS_FILE="+principalsFile)
	return s
}

// functionEnv is env without the principals file.
func (s *seed) functionEnv() []string {
	var env []string
	for _, kv := range s.env {
		if !strings.HasPrefix(kv, "KMS_PRINCIPALS_FILE=") {
			env = append(env, kv)
		}
	}
	return env
}

// settings reads the deployment's environment as a function does.
func (s *seed) settings(t *testing.T) config.Settings {
	t.Helper()
	env := map[string]string{}
	for _, kv := range s.env {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	set, err := config.Read(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// run starts a function instance, with the functions' environment, for the rest
// of the test.
func (s *seed) run(t *testing.T, start func(ctx context.Context, env []string) (emulate.Runner, error)) emulate.Runner {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := start(ctx, s.functionEnv())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Stop() })
	return r
}

func (s *seed) partition(t *testing.T, id string) core.Partition {
	t.Helper()
	p, err := s.store.GetPartition(context.Background(), id)
	if err != nil {
		t.Fatalf("partition %s: %v", id, err)
	}
	return p
}

// serveAPI runs the api function binary as a local server with the principals
// file, until the test ends.
func (s *seed) serveAPI(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.apiAddr = ln.Addr().String()
	ln.Close()
	cmd := exec.Command(filepath.Join(binDir, "api"))
	cmd.Env = append(s.env[:len(s.env):len(s.env)], "KMS_LISTEN_ADDR="+s.apiAddr)
	var logs syncbuf.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		if c, err := net.DialTimeout("tcp", s.apiAddr, 200*time.Millisecond); err == nil {
			c.Close()
			return
		}
		select {
		case <-exited:
			t.Fatalf("the api function exited:\n%s", logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the api function did not listen on %s:\n%s", s.apiAddr, logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *seed) client(t *testing.T, id, secret string) *kms.Client {
	t.Helper()
	c, err := kms.NewClient(&openapi.Config{
		AccessKeyId: tea.String(id), AccessKeySecret: tea.String(secret),
		Endpoint: tea.String(s.apiAddr), Protocol: tea.String("http"), RegionId: tea.String("cn-hangzhou"),
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// partitionKey is a GetPartitionDataKey response body.
type partitionKey struct {
	PartitionId, KeyId, KeyVersionId, CiphertextBlob string
	EncryptionContext                                map[string]string
}

func (p partitionKey) context() map[string]interface{} {
	m := make(map[string]interface{}, len(p.EncryptionContext))
	for k, v := range p.EncryptionContext {
		m[k] = v
	}
	return m
}

// callGetPartitionDataKey calls the action through the SDK's generic CallApi,
// signed like every other call: the SDK has no method for an action Alibaba
// Cloud KMS lacks.
func callGetPartitionDataKey(c *kms.Client, partition string) (map[string]interface{}, error) {
	return c.CallApi(&openapi.Params{
		Action: tea.String("GetPartitionDataKey"), Version: tea.String("2016-01-20"), Protocol: tea.String("HTTP"),
		Pathname: tea.String("/"), Method: tea.String("POST"), AuthType: tea.String("AK"), Style: tea.String("RPC"),
		ReqBodyType: tea.String("formData"), BodyType: tea.String("json"),
	}, &openapi.OpenApiRequest{Query: map[string]*string{"PartitionId": tea.String(partition)}}, &util.RuntimeOptions{})
}

func getPartitionDataKey(t *testing.T, c *kms.Client, partition string) partitionKey {
	t.Helper()
	resp, err := callGetPartitionDataKey(c, partition)
	if err != nil {
		t.Fatalf("GetPartitionDataKey %s: %v", partition, err)
	}
	var pk partitionKey
	b, _ := json.Marshal(resp["body"])
	if err := json.Unmarshal(b, &pk); err != nil || pk.PartitionId != partition || pk.CiphertextBlob == "" || pk.EncryptionContext["PartitionId"] != partition {
		t.Fatalf("GetPartitionDataKey %s answered %s", partition, b)
	}
	return pk
}

// withDataKey is what a producer or consumer does: fetch the partition's key
// ciphertext, Decrypt it, use the key through an AEAD, and zero the key bytes.
func withDataKey(t *testing.T, c *kms.Client, partition string, use func(cipher.AEAD) []byte) []byte {
	t.Helper()
	pk := getPartitionDataKey(t, c, partition)
	dec, err := c.Decrypt(&kms.DecryptRequest{CiphertextBlob: tea.String(pk.CiphertextBlob), EncryptionContext: pk.context()})
	if err != nil {
		t.Fatalf("Decrypt %s: %v", partition, err)
	}
	key, err := base64.StdEncoding.DecodeString(tea.StringValue(dec.Body.Plaintext))
	if err != nil || len(key) != 32 || tea.StringValue(dec.Body.KeyId) != pk.KeyId {
		t.Fatalf("Decrypt %s gave a %d-byte key of %s (%v)", partition, len(key), tea.StringValue(dec.Body.KeyId), err)
	}
	block, err := aes.NewCipher(key)
	clear(key)
	if err != nil {
		t.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	return use(aead)
}

func wantSDKError(t *testing.T, err error, code string, status int) {
	t.Helper()
	var se *tea.SDKError
	if !errors.As(err, &se) || tea.StringValue(se.Code) != code || tea.IntValue(se.StatusCode) != status {
		t.Fatalf("got %v, want %s (HTTP %d)", err, code, status)
	}
}

// sampleRecord reads one record of a shipped sample, the template of the
// events the test sends.
func sampleRecord(t *testing.T, root, file string, pick func([]byte) (json.RawMessage, error)) json.RawMessage {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(root, file))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := pick(raw)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return rec
}

func clone(t *testing.T, raw json.RawMessage) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// freshDatabase creates a database of its own on the test PostgreSQL server,
// dropped when the test ends.
func freshDatabase(t *testing.T) string {
	return storetest.PostgresDatabase(t, "kms_seed_")
}
