package awsjson_test

import (
	"bytes"
	"encoding/base64"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	alikms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/awsjson"
	"github.com/kmsless/kmsless/infra/rpc"
)

// One key space: what one protocol makes, the other reads.

func TestAlibabaBlobDecryptsThroughAWS(t *testing.T) {
	e := newEnv(t)
	k, err := e.ali.CreateKey(&alikms.CreateKeyRequest{})
	if err != nil {
		t.Fatal(err)
	}
	id := tea.StringValue(k.Body.KeyMetadata.KeyId)
	dk, err := e.ali.GenerateDataKey(&alikms.GenerateDataKeyRequest{KeyId: tea.String(id), EncryptionContext: map[string]any{"partition": "p-7"}})
	if err != nil {
		t.Fatal(err)
	}
	blob, _ := base64.StdEncoding.DecodeString(tea.StringValue(dk.Body.CiphertextBlob))
	want, _ := base64.StdEncoding.DecodeString(tea.StringValue(dk.Body.Plaintext))
	out, err := e.aws.Decrypt(bg, &kms.DecryptInput{CiphertextBlob: blob, EncryptionContext: map[string]string{"partition": "p-7"}})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Plaintext, want) || aws.ToString(out.KeyId) != keyARN(id) {
		t.Errorf("AWS Decrypt of an Alibaba blob: KeyId %q, same plaintext %v", aws.ToString(out.KeyId), bytes.Equal(out.Plaintext, want))
	}
}

func TestAWSBlobDecryptsThroughAlibaba(t *testing.T) {
	e := newEnv(t)
	id := e.createKey()
	dk, err := e.aws.GenerateDataKey(bg, &kms.GenerateDataKeyInput{KeyId: aws.String(keyARN(id)), KeySpec: types.DataKeySpecAes256,
		EncryptionContext: map[string]string{"partition": "p-7"}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := e.ali.Decrypt(&alikms.DecryptRequest{CiphertextBlob: tea.String(base64.StdEncoding.EncodeToString(dk.CiphertextBlob)),
		EncryptionContext: map[string]any{"partition": "p-7"}})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := base64.StdEncoding.DecodeString(tea.StringValue(out.Body.Plaintext))
	if !bytes.Equal(got, dk.Plaintext) || tea.StringValue(out.Body.KeyId) != id {
		t.Errorf("Alibaba Decrypt of an AWS blob: KeyId %q, same plaintext %v", tea.StringValue(out.Body.KeyId), bytes.Equal(got, dk.Plaintext))
	}
}

func TestAliasesAndDisablesCrossProtocols(t *testing.T) {
	e := newEnv(t)
	id := e.createKey()
	if _, err := e.ali.CreateAlias(&alikms.CreateAliasRequest{AliasName: tea.String("alias/shared"), KeyId: tea.String(id)}); err != nil {
		t.Fatal(err)
	}
	d, err := e.aws.DescribeKey(bg, &kms.DescribeKeyInput{KeyId: aws.String("alias/shared")})
	if err != nil || aws.ToString(d.KeyMetadata.KeyId) != id {
		t.Fatalf("AWS DescribeKey of an Alibaba alias: %v", err)
	}
	if _, err := e.aws.CreateAlias(bg, &kms.CreateAliasInput{AliasName: aws.String("alias/from-aws"), TargetKeyId: aws.String(keyARN(id))}); err != nil {
		t.Fatal(err)
	}
	ad, err := e.ali.DescribeKey(&alikms.DescribeKeyRequest{KeyId: tea.String("alias/from-aws")})
	if err != nil || tea.StringValue(ad.Body.KeyMetadata.KeyId) != id {
		t.Fatalf("Alibaba DescribeKey of an AWS alias: %v", err)
	}

	if _, err := e.aws.DisableKey(bg, &kms.DisableKeyInput{KeyId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	_, err = e.ali.Encrypt(&alikms.EncryptRequest{KeyId: tea.String("alias/shared"), Plaintext: tea.String("eA==")})
	if se, ok := err.(*tea.SDKError); !ok || tea.StringValue(se.Code) != "Rejected.Disabled" {
		t.Fatalf("Alibaba Encrypt under a key disabled through AWS: %v", err)
	}
	if _, err := e.ali.EnableKey(&alikms.EnableKeyRequest{KeyId: tea.String(id)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ali.DisableKey(&alikms.DisableKeyRequest{KeyId: tea.String(id)}); err != nil {
		t.Fatal(err)
	}
	_, err = e.aws.Encrypt(bg, &kms.EncryptInput{KeyId: aws.String("alias/from-aws"), Plaintext: []byte("x")})
	var disabled *types.DisabledException
	if !asType(err, &disabled) {
		t.Fatalf("AWS Encrypt under a key disabled through Alibaba: %v", err)
	}
}

func TestOnePolicyDecidesForBothProtocols(t *testing.T) {
	e := newEnv(t)
	keyA, keyB := e.createKey(), e.createKey()
	policy := core.MustPolicy(core.Statement{Effect: "Allow", Action: []string{"kms:Decrypt"}, Resource: []string{"acs:kms:*:*:key/" + keyA}})
	dir, err := core.NewDirectory([]core.Principal{{Name: "reader", AccessKeyID: "AKIAREADER0000000001", Secret: core.NewSecret("reader-secret"), Policy: policy}})
	if err != nil {
		t.Fatal(err)
	}
	// The reader is served by handlers over the same core as the admin's.
	awsH := awsjson.New(awsjson.Options{MaxBody: 1 << 20, KMS: e.kms, Principals: dir})
	aliH := rpc.New(rpc.Options{ClockSkew: 15 * time.Minute, MaxBody: 1 << 20, KMS: e.kms, Principals: dir})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if awsjson.IsAWS(r) {
			awsH.ServeHTTP(w, r)
			return
		}
		aliH.ServeHTTP(w, r)
	}))
	defer srv.Close()
	awsReader := kms.New(kms.Options{Region: testRegion, BaseEndpoint: aws.String(srv.URL), Retryer: aws.NopRetryer{},
		Credentials: credentials.NewStaticCredentialsProvider("AKIAREADER0000000001", "reader-secret", "")})
	aliReader, err := alikms.NewClient(&openapi.Config{AccessKeyId: tea.String("AKIAREADER0000000001"), AccessKeySecret: tea.String("reader-secret"),
		Endpoint: tea.String(strings.TrimPrefix(srv.URL, "http://")), Protocol: tea.String("http"), RegionId: tea.String(testRegion)})
	if err != nil {
		t.Fatal(err)
	}
	for key, allowed := range map[string]bool{keyA: true, keyB: false} {
		enc, err := e.aws.Encrypt(bg, &kms.EncryptInput{KeyId: aws.String(key), Plaintext: []byte("x")})
		if err != nil {
			t.Fatal(err)
		}
		_, awsErr := awsReader.Decrypt(bg, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob})
		_, aliErr := aliReader.Decrypt(&alikms.DecryptRequest{CiphertextBlob: tea.String(base64.StdEncoding.EncodeToString(enc.CiphertextBlob))})
		if allowed {
			if awsErr != nil || aliErr != nil {
				t.Errorf("Decrypt under the allowed key: AWS %v, Alibaba %v", awsErr, aliErr)
			}
			continue
		}
		apiError(t, awsErr, "AccessDeniedException")
		if se, ok := aliErr.(*tea.SDKError); !ok || tea.StringValue(se.Code) != core.CodeNoPermission {
			t.Errorf("Alibaba Decrypt under the other key: %v", aliErr)
		}
	}
	_, err = awsReader.Encrypt(bg, &kms.EncryptInput{KeyId: aws.String(keyA), Plaintext: []byte("x")})
	apiError(t, err, "AccessDeniedException")
}

// TestTagsCrossProtocols: a tag set through one protocol is the key's tag
// through the other.
func TestTagsCrossProtocols(t *testing.T) {
	e := newEnv(t)
	id := e.createKey()
	if _, err := e.aws.TagResource(bg, &kms.TagResourceInput{KeyId: aws.String(id), Tags: []types.Tag{{TagKey: aws.String("team"), TagValue: aws.String("aws")}}}); err != nil {
		t.Fatal(err)
	}
	r, err := e.ali.ListResourceTags(&alikms.ListResourceTagsRequest{KeyId: tea.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	if tags := r.Body.Tags.Tag; len(tags) != 1 || tea.StringValue(tags[0].TagKey) != "team" || tea.StringValue(tags[0].TagValue) != "aws" {
		t.Fatalf("Alibaba lists %v", tags)
	}
	if _, err := e.ali.TagResource(&alikms.TagResourceRequest{KeyId: tea.String(id), Tags: tea.String(`[{"TagKey":"env","TagValue":"alibaba"}]`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ali.UntagResource(&alikms.UntagResourceRequest{KeyId: tea.String(id), TagKeys: tea.String(`["team"]`)}); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.awsTags(t, id, 50); !maps.Equal(got, map[string]string{"env": "alibaba"}) {
		t.Fatalf("AWS lists %v", got)
	}
}
