// Package rootkeytest starts the cloud KMSes the root key sources talk to, for
// tests and benchmarks: local-kms, a real implementation of the AWS KMS API, and
// an in-process kmsless, which speaks Alibaba Cloud KMS's API.
package rootkeytest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// AWSRegion is the region local-kms runs in and the SDK is pointed at.
const AWSRegion = "eu-west-2"

const localKMSModule = "github.com/nsmithuk/local-kms@latest"

// LocalKMS is a running local-kms process with its own data directory.
type LocalKMS struct {
	// Endpoint is its URL, for AWS_ENDPOINT_URL_KMS.
	Endpoint string
	client   *awskms.Client
}

var installMu sync.Mutex

// localKMSBinary finds local-kms on PATH or in the tools cache, installing it
// there with go install when absent, or skips tb when that cannot be done.
func localKMSBinary(tb testing.TB) string {
	tb.Helper()
	if p, err := exec.LookPath("local-kms"); err == nil {
		return p
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = filepath.Join(os.Getenv("HOME"), ".cache")
	}
	dir = filepath.Join(dir, "kmsless-tools")
	bin := filepath.Join(dir, "local-kms")
	installMu.Lock()
	defer installMu.Unlock()
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	cmd := exec.Command("go", "install", localKMSModule)
	cmd.Dir = tb.TempDir() // outside any module, so go.mod is neither read nor changed
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Skipf("local-kms is absent and could not be installed (%v: %s); install it with: GOBIN=%s go install %s", err, bytes.TrimSpace(out), dir, localKMSModule)
	}
	return bin
}

var started = regexp.MustCompile(`Local KMS started on [^:]*:(\d+)`)

// StartLocalKMS starts local-kms on a free loopback port with a data directory
// of its own; it stops when tb ends.
func StartLocalKMS(tb testing.TB) *LocalKMS {
	tb.Helper()
	cmd := exec.Command(localKMSBinary(tb))
	cmd.Env = append(os.Environ(), "PORT=0", "KMS_DATA_PATH="+tb.TempDir(), "KMS_REGION="+AWSRegion, "KMS_ACCOUNT_ID=111122223333")
	logs, err := cmd.StderrPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	port := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(logs)
		for sc.Scan() {
			if m := started.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case port <- m[1]:
				default:
				}
			}
		}
		close(port)
	}()
	var p string
	select {
	case p = <-port:
	case <-time.After(30 * time.Second):
	}
	if p == "" {
		tb.Fatal("local-kms did not report its port")
	}
	endpoint := "http://127.0.0.1:" + p
	return &LocalKMS{Endpoint: endpoint, client: awskms.New(awskms.Options{
		Region: AWSRegion, BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDLOCALKMS", "local-kms-secret", ""),
	})}
}

// UseAWS points the AWS SDK's default chain of the current process at
// endpoint with dummy credentials, reading no file from the home directory or
// the machine's CA bundle (local-kms speaks plain HTTP, and parsing a large
// bundle would dominate the start-up figure) and asking no instance metadata
// service; the variables revert when tb ends.
func UseAWS(tb testing.TB, endpoint string) {
	tb.Helper()
	tb.Setenv("AWS_ENDPOINT_URL_KMS", endpoint)
	tb.Setenv("AWS_REGION", AWSRegion)
	tb.Setenv("AWS_ACCESS_KEY_ID", "AKIDLOCALKMS")
	tb.Setenv("AWS_SECRET_ACCESS_KEY", "local-kms-secret")
	tb.Setenv("AWS_SESSION_TOKEN", "")
	tb.Setenv("AWS_PROFILE", "")
	none := filepath.Join(tb.TempDir(), "none")
	tb.Setenv("AWS_CONFIG_FILE", none)
	tb.Setenv("AWS_SHARED_CREDENTIALS_FILE", none)
	tb.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	tb.Setenv("AWS_CA_BUNDLE", "")
}

// CreateKey makes a symmetric key and returns its ARN.
func (l *LocalKMS) CreateKey(tb testing.TB) string {
	tb.Helper()
	out, err := l.client.CreateKey(context.Background(), &awskms.CreateKeyInput{})
	if err != nil {
		tb.Fatalf("local-kms CreateKey: %v", err)
	}
	return aws.ToString(out.KeyMetadata.Arn)
}

// Encrypt encrypts plaintext under keyID with the encryption context and
// returns the CiphertextBlob, base64.
func (l *LocalKMS) Encrypt(tb testing.TB, keyID string, plaintext []byte, encCtx map[string]string) string {
	tb.Helper()
	out, err := l.client.Encrypt(context.Background(), &awskms.EncryptInput{KeyId: &keyID, Plaintext: plaintext, EncryptionContext: encCtx})
	if err != nil {
		tb.Fatalf("local-kms Encrypt: %v", err)
	}
	if len(out.CiphertextBlob) == 0 {
		tb.Fatal(errors.New("local-kms Encrypt returned no CiphertextBlob"))
	}
	return base64.StdEncoding.EncodeToString(out.CiphertextBlob)
}

// GenerateDataKeyWithoutPlaintext makes a 32-byte data key under keyID that
// nobody sees and returns its CiphertextBlob, base64.
func (l *LocalKMS) GenerateDataKeyWithoutPlaintext(tb testing.TB, keyID string, encCtx map[string]string) string {
	tb.Helper()
	out, err := l.client.GenerateDataKeyWithoutPlaintext(context.Background(), &awskms.GenerateDataKeyWithoutPlaintextInput{
		KeyId: &keyID, KeySpec: types.DataKeySpecAes256, EncryptionContext: encCtx,
	})
	if err != nil {
		tb.Fatalf("local-kms GenerateDataKeyWithoutPlaintext: %v", err)
	}
	return base64.StdEncoding.EncodeToString(out.CiphertextBlob)
}
