package awsjson_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// The AWS CLI (botocore, Python) is a second client written apart from the Go
// SDK: its own signer, its own JSON protocol code.

func (e *env) awsCLI(t *testing.T, args ...string) []byte {
	t.Helper()
	cmd := exec.Command("aws", append([]string{"--endpoint-url", e.srv.URL, "--region", testRegion, "--output", "json", "kms"}, args...)...)
	cmd.Env = cliEnv(t)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("aws kms %s: %v: %s", args[0], err, stderr.String())
	}
	return out
}

func TestAWSCLIGeneratesAndDecryptsADataKey(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("the aws CLI is not installed (pip install awscli)")
	}
	e := newEnv(t)
	id := e.createKey()
	var gen struct{ CiphertextBlob, KeyId string }
	out := e.awsCLI(t, "generate-data-key-without-plaintext", "--key-id", id, "--key-spec", "AES_256", "--encryption-context", "tenant=acme,partition=p-1")
	if err := json.Unmarshal(out, &gen); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	if gen.KeyId != keyARN(id) {
		t.Errorf("KeyId %q", gen.KeyId)
	}
	blob, err := base64.StdEncoding.DecodeString(gen.CiphertextBlob)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "blob")
	if err := os.WriteFile(file, blob, 0o600); err != nil {
		t.Fatal(err)
	}
	var dec struct{ Plaintext, KeyId, EncryptionAlgorithm string }
	out = e.awsCLI(t, "decrypt", "--ciphertext-blob", "fileb://"+file, "--encryption-context", "tenant=acme,partition=p-1")
	if err := json.Unmarshal(out, &dec); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	pt, _ := base64.StdEncoding.DecodeString(dec.Plaintext)
	if len(pt) != 32 || dec.KeyId != keyARN(id) || dec.EncryptionAlgorithm != "SYMMETRIC_DEFAULT" {
		t.Errorf("decrypt: %d bytes under %q (%s)", len(pt), dec.KeyId, dec.EncryptionAlgorithm)
	}
	cmd := exec.Command("aws", "--endpoint-url", e.srv.URL, "--region", testRegion, "kms", "decrypt", "--ciphertext-blob", "fileb://"+file)
	cmd.Env = cliEnv(t)
	msg, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(msg), "InvalidCiphertextException") {
		t.Errorf("decrypt without the context: %v: %s", err, msg)
	}
}

// cliEnv is the environment with the admin's credentials and no profile,
// config file or instance metadata.
func cliEnv(t *testing.T) []string {
	none := filepath.Join(t.TempDir(), "none")
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	return append(env, "AWS_ACCESS_KEY_ID="+adminID, "AWS_SECRET_ACCESS_KEY="+adminSecret,
		"AWS_CONFIG_FILE="+none, "AWS_SHARED_CREDENTIALS_FILE="+none, "AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=")
}

// The CLI takes the token and the wrapped material as files (fileb://) and
// ValidTo as a date, which botocore sends as epoch seconds.
func TestAWSCLIImportsKeyMaterial(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("the aws CLI is not installed (pip install awscli)")
	}
	e := newEnv(t)
	id := e.awsExternalKey()
	var p struct{ KeyId, ImportToken, PublicKey string }
	out := e.awsCLI(t, "get-parameters-for-import", "--key-id", id, "--wrapping-algorithm", "RSAES_OAEP_SHA_256", "--wrapping-key-spec", "RSA_2048")
	if err := json.Unmarshal(out, &p); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	if p.KeyId != keyARN(id) {
		t.Errorf("KeyId %q", p.KeyId)
	}
	token, err := base64.StdEncoding.DecodeString(p.ImportToken)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := base64.StdEncoding.DecodeString(p.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tokenFile, materialFile := filepath.Join(dir, "token"), filepath.Join(dir, "wrapped")
	if err := os.WriteFile(tokenFile, token, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(materialFile, wrapOAEP(t, sha256.New(), pub, randomMaterial()), 0o600); err != nil {
		t.Fatal(err)
	}
	until := time.Now().Add(30 * 24 * time.Hour).UTC().Truncate(time.Second)
	e.awsCLI(t, "import-key-material", "--key-id", id, "--import-token", "fileb://"+tokenFile,
		"--encrypted-key-material", "fileb://"+materialFile, "--valid-to", until.Format(time.RFC3339))
	if m := e.state(id); m.KeyState != types.KeyStateEnabled || m.ValidTo == nil || !m.ValidTo.Equal(until) {
		t.Errorf("after the CLI's import: KeyState %s, ValidTo %v, want %v", m.KeyState, m.ValidTo, until)
	}
}

// TestAWSCLITagsAKey tags a key with the CLI's shorthand and lists its tags
// a page at a time: the CLI follows NextMarker until Truncated is false.
func TestAWSCLITagsAKey(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("the aws CLI is not installed (pip install awscli)")
	}
	e := newEnv(t)
	id := e.createKey()
	e.awsCLI(t, "tag-resource", "--key-id", keyARN(id), "--tags", "TagKey=team,TagValue=payments", "TagKey=env,TagValue=prod", "TagKey=tier,TagValue=")
	var out struct {
		Tags      []struct{ TagKey, TagValue string }
		Truncated bool
	}
	got := e.awsCLI(t, "list-resource-tags", "--key-id", id, "--page-size", "1")
	if err := json.Unmarshal(got, &out); err != nil {
		t.Fatalf("%s: %v", got, err)
	}
	want := []struct{ TagKey, TagValue string }{{"env", "prod"}, {"team", "payments"}, {"tier", ""}}
	if len(out.Tags) != len(want) || out.Truncated {
		t.Fatalf("list-resource-tags: %s", got)
	}
	for i := range want {
		if out.Tags[i] != want[i] {
			t.Errorf("tag %d: %+v, want %+v", i, out.Tags[i], want[i])
		}
	}
	if n := strings.Count(e.logs.String(), "action=ListResourceTags"); n != 3 {
		t.Errorf("the CLI listed three tags in %d requests, want 3 pages of 1", n)
	}
}

// TestAWSCLIListsKeysByMarker lists keys a page at a time with the CLI, which
// follows NextMarker, as it gets it, until Truncated is false.
func TestAWSCLIListsKeysByMarker(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("the aws CLI is not installed (pip install awscli)")
	}
	e := newEnv(t)
	want := map[string]bool{e.createKey(): true, e.createKey(): true, e.createKey(): true}
	var out struct {
		Keys      []struct{ KeyId, KeyArn string }
		Truncated bool
	}
	got := e.awsCLI(t, "list-keys", "--page-size", "1")
	if err := json.Unmarshal(got, &out); err != nil {
		t.Fatalf("%s: %v", got, err)
	}
	if len(out.Keys) != len(want) || out.Truncated {
		t.Fatalf("list-keys: %s", got)
	}
	for _, k := range out.Keys {
		if !want[k.KeyId] || k.KeyArn != keyARN(k.KeyId) {
			t.Errorf("list-keys: entry %+v", k)
		}
		delete(want, k.KeyId)
	}
	if n := strings.Count(e.logs.String(), "action=ListKeys"); n != 3 {
		t.Errorf("the CLI listed three keys in %d requests, want 3 pages of 1", n)
	}
}

// TestAWSCLIListsAliasesByMarker lists aliases a page at a time with the CLI,
// all of them and one key's, following NextMarker until Truncated is false.
func TestAWSCLIListsAliasesByMarker(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("the aws CLI is not installed (pip install awscli)")
	}
	e := newEnv(t)
	mine, other := e.createKey(), e.createKey()
	targets := map[string]string{}
	e.createAliases(t, "m", 3, mine, targets)
	e.createAliases(t, "o", 1, other, targets)
	for _, c := range []struct {
		args   []string
		action string
		want   int
	}{
		{nil, "ListAliases", 4},
		{[]string{"--key-id", keyARN(mine)}, "ListAliasesByKeyId", 3},
	} {
		var out struct {
			Aliases   []struct{ AliasName, AliasArn, TargetKeyId string }
			Truncated bool
		}
		got := e.awsCLI(t, append([]string{"list-aliases", "--page-size", "1"}, c.args...)...)
		if err := json.Unmarshal(got, &out); err != nil {
			t.Fatalf("%s: %v", got, err)
		}
		if len(out.Aliases) != c.want || out.Truncated {
			t.Fatalf("list-aliases %q: %s", c.args, got)
		}
		seen := map[string]bool{}
		for _, a := range out.Aliases {
			if seen[a.AliasName] || targets[a.AliasName] == "" || a.TargetKeyId != targets[a.AliasName] ||
				a.AliasArn != "arn:aws:kms:"+testRegion+":"+awsAccount+":"+a.AliasName {
				t.Errorf("list-aliases %q: entry %+v", c.args, a)
			}
			seen[a.AliasName] = true
		}
		requests := regexp.MustCompile(`action=` + c.action + `(\s|$)`)
		if n := len(requests.FindAllString(e.logs.String(), -1)); n != c.want {
			t.Errorf("the CLI listed %d aliases in %d requests of %s, want %d pages of 1", c.want, n, c.action, c.want)
		}
	}
}

// TestBotocoreRepeatsARequestWithinItsSecond: botocore, under boto3 and the
// AWS CLI, signs no invocation ID, so one call made twice within a second is
// one signed request twice.
//   - By default kmsless accepts a signature once and answers the repeat with
//     ThrottlingException. botocore's legacy retry mode, boto3's and the AWS
//     CLI v1's default, signs it again after pauses of up to 1, 2, 4 and 8 s,
//     and every call succeeds; so does its standard mode under
//     AWS_NEW_RETRIES_2026, which waits the x-amz-retry-after of 1000 ms. The
//     classic standard mode stops after two pauses of up to 1 and 2 s, which
//     can leave a repeat in the same second: the README gives the share, and
//     this test does not run it.
//   - With KMS_SIGV4_REPEATS=allow the repeat is accepted at once, as AWS
//     accepts it, in either mode: botocore retries nothing.
//
// The AWS SDKs for Go and JavaScript sign an invocation ID and never meet
// this.
func TestBotocoreRepeatsARequestWithinItsSecond(t *testing.T) {
	needPython(t, "botocore")
	_, cliErr := exec.LookPath("aws")
	type mode struct{ name, newRetries string }
	legacy, standard, newStandard := mode{"legacy", "false"}, mode{"standard", "false"}, mode{"standard", "true"}
	for _, c := range []struct {
		name    string
		modes   []mode
		times   int
		setup   []func(*setup)
		allowed bool
	}{
		// Each repeat refused costs a second or so: two calls of each.
		{"refused", []mode{legacy, newStandard}, 2, nil, false},
		{"allowed", []mode{legacy, standard}, 3, []func(*setup){allowingRepeats}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, c.setup...)
			id := e.createKey()
			for _, m := range c.modes {
				env := append(cliEnv(t), "AWS_RETRY_MODE="+m.name, "AWS_NEW_RETRIES_2026="+m.newRetries)
				what := m.name + " retries (AWS_NEW_RETRIES_2026=" + m.newRetries + ")"
				retries := botocoreRepeats(t, e, env, what, m.name, id, c.times)
				// A refused repeat shows as a retry. Two calls a few
				// milliseconds apart fall in one second but for the rare
				// pair astride a second's turn, so of two pairs one repeats.
				if c.allowed && retries != 0 || !c.allowed && retries == 0 {
					t.Errorf("%s: botocore retried %d times", what, retries)
				}
				if cliErr == nil {
					cliRepeats(t, e, env, what, c.times)
				}
			}
		})
	}
}

// botocoreRepeats makes each of two calls times times in a row through
// botocore in retry mode; every call must succeed. It returns how many
// retries botocore made.
func botocoreRepeats(t *testing.T, e *env, env []string, what, mode, keyID string, times int) int {
	cmd := exec.Command("python3", "testdata/botocore_repeats.py", e.srv.URL, testRegion, mode, keyID, strconv.Itoa(times))
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	raw, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v: %s", what, err, stderr.String())
	}
	var out struct {
		Distinct, Retries map[string]int
		Error             string
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s: %s: %v", what, raw, err)
	}
	retries := 0
	for _, op := range []string{"GenerateRandom", "GenerateDataKey"} {
		if out.Distinct[op] != times {
			t.Errorf("%s, %s %d times in a row: %d distinct answers; first error: %s", what, op, times, out.Distinct[op], out.Error)
		}
		retries += out.Retries[op]
	}
	return retries
}

// cliRepeats runs one AWS CLI command in n processes at once, as a shell
// script might; each must succeed.
func cliRepeats(t *testing.T, e *env, env []string, what string, n int) {
	errs := make(chan error, n)
	for range n {
		go func() {
			cmd := exec.Command("aws", "--endpoint-url", e.srv.URL, "--region", testRegion, "kms", "generate-random", "--number-of-bytes", "32")
			cmd.Env = env
			out, err := cmd.CombinedOutput()
			if err != nil {
				err = fmt.Errorf("%w: %s", err, out)
			}
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Errorf("%s, aws kms generate-random in %d processes at once: %v", what, n, err)
		}
	}
}

// TestAWSCLIPutsAKeyPolicyFromAFile: the CLI's put-key-policy reads the
// document from a file, as Terraform's and the CDK's do from templates, and
// get-key-policy hands back the very document.
func TestAWSCLIPutsAKeyPolicyFromAFile(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("the aws CLI is not installed (pip install awscli)")
	}
	e := newEnv(t)
	id := e.createKey()
	doc := `{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "Enable IAM User Permissions", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::` + awsAccount + `:root"}, "Action": "kms:*", "Resource": "*"}
  ]
}
`
	file := filepath.Join(t.TempDir(), "policy.json")
	if err := os.WriteFile(file, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	e.awsCLI(t, "put-key-policy", "--key-id", id, "--policy-name", "default", "--policy", "file://"+file)
	var out struct{ Policy, PolicyName string }
	got := e.awsCLI(t, "get-key-policy", "--key-id", keyARN(id), "--policy-name", "default")
	if err := json.Unmarshal(got, &out); err != nil {
		t.Fatalf("%s: %v", got, err)
	}
	if out.Policy != doc || out.PolicyName != "default" {
		t.Fatalf("get-key-policy = %q, %q; want the document put", out.Policy, out.PolicyName)
	}
}

// TestAWSCLIGetsAKeysLastUse runs the README's get-key-last-usage: the
// encrypt before it is the key's last use, by the request ID the CLI saw.
func TestAWSCLIGetsAKeysLastUse(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("the aws CLI is not installed (pip install awscli)")
	}
	e := newEnv(t)
	id := e.createKey()
	var unused struct{ KeyLastUsage *struct{} }
	if got := e.awsCLI(t, "get-key-last-usage", "--key-id", id); json.Unmarshal(got, &unused) != nil || unused.KeyLastUsage != nil {
		t.Fatalf("a key no one used: %s", got)
	}
	e.awsCLI(t, "encrypt", "--key-id", keyARN(id), "--plaintext", "aGk=")
	var out struct {
		KeyId        string
		KeyLastUsage struct {
			Operation, KmsRequestId string
			Timestamp               float64
		}
	}
	got := e.awsCLI(t, "get-key-last-usage", "--key-id", keyARN(id))
	if err := json.Unmarshal(got, &out); err != nil {
		t.Fatalf("%s: %v", got, err)
	}
	if out.KeyId != id || out.KeyLastUsage.Operation != "Encrypt" || out.KeyLastUsage.Timestamp == 0 ||
		!strings.Contains(e.logs.String(), "requestId="+out.KeyLastUsage.KmsRequestId+" action=Encrypt") {
		t.Fatalf("get-key-last-usage after encrypt: %s", got)
	}
}
