// Package esdktest runs the AWS Encryption SDK for Go, with the Material
// Providers Library's AWS KMS keyring, against kmsless. It is a package of its
// own so that the SDK's large generated code is compiled only for this test.
package esdktest

import (
	"bytes"
	"context"
	"crypto/rand"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	mpl "github.com/aws/aws-cryptographic-material-providers-library/releases/go/mpl/awscryptographymaterialproviderssmithygenerated"
	mpltypes "github.com/aws/aws-cryptographic-material-providers-library/releases/go/mpl/awscryptographymaterialproviderssmithygeneratedtypes"
	esdk "github.com/aws/aws-encryption-sdk/releases/go/encryption-sdk/awscryptographyencryptionsdksmithygenerated"
	esdktypes "github.com/aws/aws-encryption-sdk/releases/go/encryption-sdk/awscryptographyencryptionsdksmithygeneratedtypes"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/awsjson"
	"github.com/kmsless/kmsless/infra/inproc"
	"github.com/kmsless/kmsless/infra/store/bolt"
)

const (
	region = "eu-west-1"
	id     = "AKIAESDKTEST00000001"
	secret = "esdk-test-secret"
)

// serve starts kmsless's AWS API on loopback and returns an SDK client for it.
func serve(t *testing.T) *kms.Client {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "kms.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	root, err := core.NewRootKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := core.New(core.Config{Store: st, Root: root, Region: region, AccountID: "123456789012",
		Cache: inproc.NewCache(time.Second, 100), Limiter: inproc.NewLimiter(), Nonces: inproc.NewNonces(nil)})
	if err != nil {
		t.Fatal(err)
	}
	dir, err := core.NewDirectory([]core.Principal{{Name: "app", AccessKeyID: id, Secret: core.NewSecret(secret), Policy: core.FullAccess()}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(awsjson.New(awsjson.Options{MaxBody: 1 << 20, KMS: svc, Principals: dir}))
	t.Cleanup(srv.Close)
	return kms.New(kms.Options{Region: region, BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider(id, secret, "")})
}

func TestKeyringRoundTripWithContextAndTamperRefused(t *testing.T) {
	ctx := context.Background()
	client := serve(t)
	k, err := client.CreateKey(ctx, &kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(k.KeyMetadata.Arn)
	mp, err := mpl.NewClient(mpltypes.MaterialProvidersConfig{})
	if err != nil {
		t.Fatal(err)
	}
	keyring, err := mp.CreateAwsKmsKeyring(ctx, mpltypes.CreateAwsKmsKeyringInput{KmsClient: client, KmsKeyId: arn})
	if err != nil {
		t.Fatalf("keyring for %s: %v", arn, err)
	}
	sdk, err := esdk.NewClient(esdktypes.AwsEncryptionSdkConfig{})
	if err != nil {
		t.Fatal(err)
	}
	plaintext := []byte("the partition's rows, encrypted client-side")
	encCtx := map[string]string{"tenant": "acme", "partition": "p-0001"}
	enc, err := sdk.Encrypt(ctx, esdktypes.EncryptInput{Plaintext: plaintext, EncryptionContext: encCtx, Keyring: keyring})
	if err != nil {
		t.Fatalf("Encrypt: %v", err)
	}
	dec, err := sdk.Decrypt(ctx, esdktypes.DecryptInput{Ciphertext: enc.Ciphertext, EncryptionContext: encCtx, Keyring: keyring})
	if err != nil {
		t.Fatalf("Decrypt: %v", err)
	}
	if !bytes.Equal(dec.Plaintext, plaintext) || dec.EncryptionContext["partition"] != "p-0001" {
		t.Fatalf("round trip gave %q with context %v", dec.Plaintext, dec.EncryptionContext)
	}
	_, err = sdk.Decrypt(ctx, esdktypes.DecryptInput{Ciphertext: enc.Ciphertext, EncryptionContext: map[string]string{"tenant": "other"}, Keyring: keyring})
	if err == nil {
		t.Error("Decrypt with another required context succeeded")
	}
	for _, at := range []int{len(enc.Ciphertext) / 2, len(enc.Ciphertext) - 1} {
		tampered := bytes.Clone(enc.Ciphertext)
		tampered[at] ^= 0x01
		if out, err := sdk.Decrypt(ctx, esdktypes.DecryptInput{Ciphertext: tampered, Keyring: keyring}); err == nil {
			t.Errorf("a message with byte %d flipped decrypted to %q", at, out.Plaintext)
		}
	}
}
