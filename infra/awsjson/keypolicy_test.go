package awsjson_test

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"

	"github.com/kmsless/kmsless/core"
)

// Key policies as AWS's SDK for Go puts and reads them, and as they decide
// who may use a key.

const (
	bobID, bobSecret = "AKIABOB0000000000001", "bob-secret"
	opsID, opsSecret = "AKIAOPS0000000000001", "ops-secret"
)

// keyPolicy is a key policy in AWS's language of the given statements.
func keyPolicy(statements ...string) string {
	return `{"Version":"2012-10-17","Id":"kmsless-test","Statement":[` + strings.Join(statements, ",") + `]}`
}

// accountStatement gives the account every action, leaving callers to their
// own policies: the statement of AWS's default key policy.
var accountStatement = `{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + awsAccount + `:root"},"Action":"kms:*","Resource":"*"}`

// allowUser is a statement allowing the IAM user name the actions.
func allowUser(name string, actions ...string) string {
	return `{"Sid":"Allow ` + name + `","Effect":"Allow","Principal":{"AWS":"` + iamUser(name) + `"},"Action":["` + strings.Join(actions, `","`) + `"],"Resource":"*"}`
}

// putPolicy puts doc on key as the admin.
func (e *env) putPolicy(t *testing.T, key, doc string) {
	t.Helper()
	if _, err := e.aws.PutKeyPolicy(bg, &kms.PutKeyPolicyInput{KeyId: aws.String(key), Policy: aws.String(doc)}); err != nil {
		t.Fatalf("PutKeyPolicy: %v", err)
	}
}

// policyOf is key's policy as c reads it.
func policyOf(t *testing.T, c *kms.Client, key string) string {
	t.Helper()
	out, err := c.GetKeyPolicy(bg, &kms.GetKeyPolicyInput{KeyId: aws.String(key)})
	if err != nil {
		t.Fatalf("GetKeyPolicy: %v", err)
	}
	if aws.ToString(out.PolicyName) != "default" {
		t.Fatalf("GetKeyPolicy's PolicyName = %q, want default", aws.ToString(out.PolicyName))
	}
	return aws.ToString(out.Policy)
}

// accessDenied asserts that err is AccessDeniedException (which KMS's model,
// and so the SDK, has no type for) with HTTP 400, as AWS answers it.
func accessDenied(t *testing.T, what string, err error) {
	t.Helper()
	var ae smithy.APIError
	var re *awshttp.ResponseError
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDeniedException" || !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusBadRequest {
		t.Errorf("%s: want AccessDeniedException (HTTP 400), got %v", what, err)
	}
}

// malformed asserts that err is the SDK's typed
// MalformedPolicyDocumentException, answered with HTTP 400.
func malformed(t *testing.T, what string, err error) {
	t.Helper()
	var m *types.MalformedPolicyDocumentException
	if !errors.As(err, &m) {
		t.Fatalf("%s: want *types.MalformedPolicyDocumentException, got %v", what, err)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusBadRequest {
		t.Fatalf("%s: want HTTP 400, got %v", what, err)
	}
}

// TestSDKPutKeyPolicyRoundTrip: GetKeyPolicy answers the very document
// PutKeyPolicy put, its spacing, order and Sids as written, whether the
// request names the policy or leaves it to the default; a key's one policy
// is "default", and another name is not found for either operation.
func TestSDKPutKeyPolicyRoundTrip(t *testing.T) {
	e := newEnv(t)
	key, other := e.createKey(), e.createKey()
	doc := "{\n  \"Version\": \"2012-10-17\",\n  \"Id\": \"key-consolepolicy-3\",\n  \"Statement\": [\n    " +
		strings.Replace(accountStatement, `"Sid":"Enable IAM User Permissions"`, `"Sid":"Für das Konto – ✓"`, 1) +
		",\n    " + allowUser("bob", "kms:Decrypt", "kms:GenerateDataKey*") + "\n  ]\n}\n"
	if _, err := e.aws.PutKeyPolicy(bg, &kms.PutKeyPolicyInput{KeyId: aws.String(keyARN(key)), Policy: aws.String(doc), PolicyName: aws.String("default")}); err != nil {
		t.Fatalf("PutKeyPolicy: %v", err)
	}
	if got := policyOf(t, e.aws, key); got != doc {
		t.Fatalf("GetKeyPolicy answered\n%s\nwant the document put\n%s", got, doc)
	}
	// The other key keeps the default policy.
	if got := policyOf(t, e.aws, other); got != `{"Version":"2012-10-17","Id":"key-default-1","Statement":[`+accountStatement+`]}` {
		t.Fatalf("GetKeyPolicy of another key = %s", got)
	}
	// Put again without a PolicyName (the SDK sends none) and read by ARN.
	again := keyPolicy(accountStatement)
	e.putPolicy(t, key, again)
	if out, err := e.aws.GetKeyPolicy(bg, &kms.GetKeyPolicyInput{KeyId: aws.String(keyARN(key)), PolicyName: aws.String("default")}); err != nil || aws.ToString(out.Policy) != again {
		t.Fatalf("GetKeyPolicy by ARN = %+v, %v", out, err)
	}
	l, err := e.aws.ListKeyPolicies(bg, &kms.ListKeyPoliciesInput{KeyId: aws.String(key)})
	if err != nil || len(l.PolicyNames) != 1 || l.PolicyNames[0] != "default" {
		t.Fatalf("ListKeyPolicies = %+v, %v", l, err)
	}

	var notFound *types.NotFoundException
	_, err = e.aws.PutKeyPolicy(bg, &kms.PutKeyPolicyInput{KeyId: aws.String(key), Policy: aws.String(keyPolicy(accountStatement, allowUser("bob", "kms:Decrypt"))), PolicyName: aws.String("other")})
	if !errors.As(err, &notFound) {
		t.Fatalf("PutKeyPolicy named other: want *types.NotFoundException, got %v", err)
	}
	_, err = e.aws.GetKeyPolicy(bg, &kms.GetKeyPolicyInput{KeyId: aws.String(key), PolicyName: aws.String("other")})
	if !errors.As(err, &notFound) {
		t.Fatalf("GetKeyPolicy named other: want *types.NotFoundException, got %v", err)
	}
	if got := policyOf(t, e.aws, key); got != again {
		t.Fatalf("a PutKeyPolicy of another name changed the policy to %s", got)
	}
	_, err = e.aws.PutKeyPolicy(bg, &kms.PutKeyPolicyInput{KeyId: aws.String("1234abcd-12ab-34cd-56ef-1234567890ab"), Policy: aws.String(again)})
	if !errors.As(err, &notFound) {
		t.Fatalf("PutKeyPolicy on a key that does not exist: want *types.NotFoundException, got %v", err)
	}
}

// TestSDKKeyPolicyAllowsPrincipalByName: a principal whose own policy
// allows nothing on keys uses, with its own SDK client, a key whose policy
// names it by ARN, for the actions named and no others; on another key, or
// one that does not exist, it is denied alike.
func TestSDKKeyPolicyAllowsPrincipalByName(t *testing.T) {
	e := newEnv(t, withPrincipal("bob", bobID, bobSecret, 1000, keyless))
	bob := e.client(bobID, bobSecret)
	key, other := e.createKey(), e.createKey()
	_, err := bob.GenerateDataKey(bg, &kms.GenerateDataKeyInput{KeyId: aws.String(key), KeySpec: types.DataKeySpecAes256})
	accessDenied(t, "GenerateDataKey before the key policy names bob", err)

	e.putPolicy(t, key, keyPolicy(accountStatement, allowUser("bob", "kms:GenerateDataKey", "kms:Decrypt")))
	ctx := map[string]string{"tenant": "acme"}
	dk, err := bob.GenerateDataKey(bg, &kms.GenerateDataKeyInput{KeyId: aws.String(key), KeySpec: types.DataKeySpecAes256, EncryptionContext: ctx})
	if err != nil {
		t.Fatalf("GenerateDataKey allowed by the key policy: %v", err)
	}
	if len(dk.Plaintext) != 32 || aws.ToString(dk.KeyId) != keyARN(key) {
		t.Fatalf("GenerateDataKey = %d bytes under %s", len(dk.Plaintext), aws.ToString(dk.KeyId))
	}
	opened, err := bob.Decrypt(bg, &kms.DecryptInput{CiphertextBlob: dk.CiphertextBlob, EncryptionContext: ctx})
	if err != nil {
		t.Fatalf("Decrypt allowed by the key policy: %v", err)
	}
	if string(opened.Plaintext) != string(dk.Plaintext) || aws.ToString(opened.KeyId) != keyARN(key) {
		t.Fatalf("Decrypt opened another data key under %s", aws.ToString(opened.KeyId))
	}
	// By the key's ARN too.
	if _, err := bob.GenerateDataKey(bg, &kms.GenerateDataKeyInput{KeyId: aws.String(keyARN(key)), NumberOfBytes: aws.Int32(16)}); err != nil {
		t.Fatalf("GenerateDataKey by ARN: %v", err)
	}

	// Only the actions named.
	_, err = bob.Encrypt(bg, &kms.EncryptInput{KeyId: aws.String(key), Plaintext: []byte("hi")})
	accessDenied(t, "Encrypt, which the key policy does not name", err)
	_, err = bob.DescribeKey(bg, &kms.DescribeKeyInput{KeyId: aws.String(key)})
	accessDenied(t, "DescribeKey, which the key policy does not name", err)
	_, err = bob.PutKeyPolicy(bg, &kms.PutKeyPolicyInput{KeyId: aws.String(key), Policy: aws.String(keyPolicy(accountStatement, allowUser("bob", "kms:*")))})
	accessDenied(t, "PutKeyPolicy, which the key policy does not name", err)
	// Only on that key; a key that does not exist is no different.
	_, err = bob.GenerateDataKey(bg, &kms.GenerateDataKeyInput{KeyId: aws.String(other), KeySpec: types.DataKeySpecAes256})
	accessDenied(t, "GenerateDataKey on another key", err)
	sealed, err := e.aws.Encrypt(bg, &kms.EncryptInput{KeyId: aws.String(other), Plaintext: []byte("hi")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = bob.Decrypt(bg, &kms.DecryptInput{CiphertextBlob: sealed.CiphertextBlob})
	accessDenied(t, "Decrypt under another key", err)
	for _, missing := range []string{"1234abcd-12ab-34cd-56ef-1234567890ab", keyARN("1234abcd-12ab-34cd-56ef-1234567890ab")} {
		_, err = bob.GenerateDataKey(bg, &kms.GenerateDataKeyInput{KeyId: aws.String(missing), KeySpec: types.DataKeySpecAes256})
		accessDenied(t, "GenerateDataKey on "+missing+", which does not exist", err)
	}
	// The admin, whose own policy allows everything, still uses the key
	// through the account's statement.
	if _, err := e.aws.Encrypt(bg, &kms.EncryptInput{KeyId: aws.String(key), Plaintext: []byte("hi")}); err != nil {
		t.Fatalf("the admin's Encrypt through the account's statement: %v", err)
	}
}

// TestSDKKeyPolicyWithoutTheAccountShutsOutOthers: a policy that gives the
// account nothing closes the key to every principal it does not name,
// whatever their own policies allow; one naming the account opens it again.
func TestSDKKeyPolicyWithoutTheAccountShutsOutOthers(t *testing.T) {
	e := newEnv(t, withPrincipal("ops", opsID, opsSecret, 1000, core.FullAccess()))
	ops := e.client(opsID, opsSecret)
	key := e.createKey()
	if _, err := ops.GenerateDataKey(bg, &kms.GenerateDataKeyInput{KeyId: aws.String(key), NumberOfBytes: aws.Int32(32)}); err != nil {
		t.Fatalf("ops's GenerateDataKey under the default policy: %v", err)
	}
	e.putPolicy(t, key, keyPolicy(allowUser("admin", "kms:*")))
	_, err := ops.GenerateDataKey(bg, &kms.GenerateDataKeyInput{KeyId: aws.String(key), NumberOfBytes: aws.Int32(32)})
	accessDenied(t, "ops's GenerateDataKey on a key whose policy names only the admin", err)
	_, err = ops.DescribeKey(bg, &kms.DescribeKeyInput{KeyId: aws.String(key)})
	accessDenied(t, "ops's DescribeKey", err)
	_, err = ops.GetKeyPolicy(bg, &kms.GetKeyPolicyInput{KeyId: aws.String(key)})
	accessDenied(t, "ops's GetKeyPolicy", err)
	_, err = ops.PutKeyPolicy(bg, &kms.PutKeyPolicyInput{KeyId: aws.String(key), Policy: aws.String(keyPolicy(accountStatement)), BypassPolicyLockoutSafetyCheck: true})
	accessDenied(t, "ops's PutKeyPolicy", err)
	if _, err := e.aws.GenerateDataKey(bg, &kms.GenerateDataKeyInput{KeyId: aws.String(key), NumberOfBytes: aws.Int32(32)}); err != nil {
		t.Fatalf("the admin, whom the policy names: %v", err)
	}
	e.putPolicy(t, key, keyPolicy(allowUser("admin", "kms:*"), `{"Effect":"Allow","Principal":{"AWS":"`+awsAccount+`"},"Action":"kms:*","Resource":"*"}`))
	if _, err := ops.GenerateDataKey(bg, &kms.GenerateDataKeyInput{KeyId: aws.String(key), NumberOfBytes: aws.Int32(32)}); err != nil {
		t.Fatalf("ops's GenerateDataKey with the account (bare) named again: %v", err)
	}
}

// TestSDKKeyPolicyDenyBeatsOwnFullAccess: a Deny in the key policy refuses
// what the caller's own policy and the account's statement allow, for the
// actions it names only.
func TestSDKKeyPolicyDenyBeatsOwnFullAccess(t *testing.T) {
	e := newEnv(t, withPrincipal("ops", opsID, opsSecret, 1000, core.FullAccess()))
	ops := e.client(opsID, opsSecret)
	key := e.createKey()
	e.putPolicy(t, key, keyPolicy(accountStatement,
		`{"Sid":"No decrypting for ops","Effect":"Deny","Principal":{"AWS":"`+iamUser("ops")+`"},"Action":"kms:Decrypt","Resource":"*"}`))
	sealed, err := ops.Encrypt(bg, &kms.EncryptInput{KeyId: aws.String(key), Plaintext: []byte("hi")})
	if err != nil {
		t.Fatalf("ops's Encrypt, which the Deny does not name: %v", err)
	}
	_, err = ops.Decrypt(bg, &kms.DecryptInput{CiphertextBlob: sealed.CiphertextBlob})
	accessDenied(t, "ops's Decrypt, which the key policy denies", err)
	if out, err := e.aws.Decrypt(bg, &kms.DecryptInput{CiphertextBlob: sealed.CiphertextBlob}); err != nil || string(out.Plaintext) != "hi" {
		t.Fatalf("the admin's Decrypt, which the Deny does not reach: %v", err)
	}
	// A Deny to everyone reaches the admin too, whose own policy and the
	// account's statement allow everything.
	e.putPolicy(t, key, keyPolicy(accountStatement, `{"Effect":"Deny","Principal":"*","Action":"kms:Decrypt","Resource":"*"}`))
	_, err = e.aws.Decrypt(bg, &kms.DecryptInput{CiphertextBlob: sealed.CiphertextBlob})
	accessDenied(t, "the admin's Decrypt, which the key policy denies to all", err)
	if _, err := e.aws.Encrypt(bg, &kms.EncryptInput{KeyId: aws.String(key), Plaintext: []byte("hi")}); err != nil {
		t.Fatalf("the admin's Encrypt: %v", err)
	}
}

// TestSDKPutKeyPolicyRefusals: a malformed document and one that would lock
// its caller out are each the SDK's typed MalformedPolicyDocumentException,
// and leave the key's policy as it was; the lockout check's bypass puts a
// lockout policy, after which only the principal it names manages the key.
func TestSDKPutKeyPolicyRefusals(t *testing.T) {
	e := newEnv(t, withPrincipal("bob", bobID, bobSecret, 1000, keyless))
	bob := e.client(bobID, bobSecret)
	key := e.createKey()
	kept := keyPolicy(accountStatement, allowUser("bob", "kms:Decrypt"))
	e.putPolicy(t, key, kept)
	onlyBob := keyPolicy(allowUser("bob", "kms:*"))
	for what, doc := range map[string]string{
		"not JSON":                 `{"Version":"2012-10-17","Statement":`,
		"an unknown version":       `{"Version":"2099-01-01","Statement":[` + accountStatement + `]}`,
		"a resource not the key":   keyPolicy(strings.Replace(accountStatement, `"Resource":"*"`, `"Resource":"arn:aws:kms:*"`, 1)),
		"another service's action": keyPolicy(accountStatement, `{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}`),
		"NotPrincipal":             keyPolicy(accountStatement, `{"Effect":"Deny","NotPrincipal":{"AWS":"`+iamUser("bob")+`"},"Action":"kms:*","Resource":"*"}`),
		"too long":                 keyPolicy(accountStatement) + strings.Repeat(" ", core.MaxKeyPolicySize),
		"lockout: no one named":    keyPolicy(),
		"lockout: only bob":        onlyBob,
		"lockout: PutKeyPolicy denied": keyPolicy(accountStatement,
			`{"Effect":"Deny","Principal":{"AWS":"`+iamUser("admin")+`"},"Action":"kms:PutKeyPolicy","Resource":"*"}`),
	} {
		_, err := e.aws.PutKeyPolicy(bg, &kms.PutKeyPolicyInput{KeyId: aws.String(key), Policy: aws.String(doc)})
		malformed(t, "PutKeyPolicy of "+what, err)
		if got := policyOf(t, e.aws, key); got != kept {
			t.Fatalf("after a refused PutKeyPolicy of %s the key's policy is %s", what, got)
		}
	}

	// Bypassing the check puts the policy that locks the admin out.
	if _, err := e.aws.PutKeyPolicy(bg, &kms.PutKeyPolicyInput{KeyId: aws.String(key), Policy: aws.String(onlyBob), BypassPolicyLockoutSafetyCheck: true}); err != nil {
		t.Fatalf("PutKeyPolicy bypassing the lockout check: %v", err)
	}
	_, err := e.aws.GetKeyPolicy(bg, &kms.GetKeyPolicyInput{KeyId: aws.String(key)})
	accessDenied(t, "the admin's GetKeyPolicy after locking itself out", err)
	_, err = e.aws.PutKeyPolicy(bg, &kms.PutKeyPolicyInput{KeyId: aws.String(key), Policy: aws.String(kept), BypassPolicyLockoutSafetyCheck: true})
	accessDenied(t, "the admin's PutKeyPolicy after locking itself out", err)
	if got := policyOf(t, bob, key); got != onlyBob {
		t.Fatalf("bob's GetKeyPolicy = %s, want the policy naming him", got)
	}
	// bob, whom it names, may put another, one that keeps him able to.
	if _, err := bob.PutKeyPolicy(bg, &kms.PutKeyPolicyInput{KeyId: aws.String(key), Policy: aws.String(keyPolicy(accountStatement, allowUser("bob", "kms:PutKeyPolicy")))}); err != nil {
		t.Fatalf("bob's PutKeyPolicy: %v", err)
	}
	if _, err := e.aws.DescribeKey(bg, &kms.DescribeKeyInput{KeyId: aws.String(key)}); err != nil {
		t.Fatalf("the admin's DescribeKey with the account named again: %v", err)
	}
}

// TestSDKCreateKeyWithPolicy: CreateKey's Policy is the new key's policy,
// read back as put and deciding at once; a lockout policy is refused and
// makes no key, unless the check is bypassed.
func TestSDKCreateKeyWithPolicy(t *testing.T) {
	e := newEnv(t, withPrincipal("bob", bobID, bobSecret, 1000, keyless))
	bob := e.client(bobID, bobSecret)
	doc := keyPolicy(accountStatement, allowUser("bob", "kms:Encrypt", "kms:DescribeKey"))
	made, err := e.aws.CreateKey(bg, &kms.CreateKeyInput{Policy: aws.String(doc), Description: aws.String("with a policy")})
	if err != nil {
		t.Fatalf("CreateKey with a Policy: %v", err)
	}
	key := aws.ToString(made.KeyMetadata.KeyId)
	if got := policyOf(t, e.aws, key); got != doc {
		t.Fatalf("GetKeyPolicy of a key made with a policy = %s", got)
	}
	if _, err := bob.Encrypt(bg, &kms.EncryptInput{KeyId: aws.String(key), Plaintext: []byte("hi")}); err != nil {
		t.Fatalf("bob's Encrypt, which the policy CreateKey put allows: %v", err)
	}
	if d, err := bob.DescribeKey(bg, &kms.DescribeKeyInput{KeyId: aws.String(keyARN(key))}); err != nil || aws.ToString(d.KeyMetadata.Description) != "with a policy" {
		t.Fatalf("bob's DescribeKey: %+v, %v", d, err)
	}
	_, err = bob.CreateKey(bg, &kms.CreateKeyInput{Policy: aws.String(doc)})
	accessDenied(t, "bob's CreateKey, which no key policy can allow", err)

	before := keyCount(t, e)
	onlyBob := keyPolicy(allowUser("bob", "kms:*"))
	_, err = e.aws.CreateKey(bg, &kms.CreateKeyInput{Policy: aws.String(onlyBob)})
	malformed(t, "CreateKey with a lockout policy", err)
	_, err = e.aws.CreateKey(bg, &kms.CreateKeyInput{Policy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow"}]}`)})
	malformed(t, "CreateKey with a malformed policy", err)
	if n := keyCount(t, e); n != before {
		t.Fatalf("refused CreateKeys left %d keys, want %d", n, before)
	}
	locked, err := e.aws.CreateKey(bg, &kms.CreateKeyInput{Policy: aws.String(onlyBob), BypassPolicyLockoutSafetyCheck: true})
	if err != nil {
		t.Fatalf("CreateKey with a lockout policy, bypassing the check: %v", err)
	}
	_, err = e.aws.DescribeKey(bg, &kms.DescribeKeyInput{KeyId: locked.KeyMetadata.KeyId})
	accessDenied(t, "the admin's DescribeKey of a key it locked itself out of", err)
	if got := policyOf(t, bob, aws.ToString(locked.KeyMetadata.KeyId)); got != onlyBob {
		t.Fatalf("bob's GetKeyPolicy = %s", got)
	}
}

// keyCount is how many keys ListKeys walks.
func keyCount(t *testing.T, e *env) int {
	t.Helper()
	n := 0
	pages := kms.NewListKeysPaginator(e.aws, &kms.ListKeysInput{})
	for pages.HasMorePages() {
		page, err := pages.NextPage(bg)
		if err != nil {
			t.Fatal(err)
		}
		n += len(page.Keys)
	}
	return n
}

// TestSDKKeyPolicySignByName: kms:Sign, AWS's name, allows a principal
// whose own policy allows nothing on keys to Sign with an ECC_NIST_P256
// key, and nothing else; the signature verifies with the key's public key.
func TestSDKKeyPolicySignByName(t *testing.T) {
	e := newEnv(t, withPrincipal("bob", bobID, bobSecret, 1000, keyless))
	bob := e.client(bobID, bobSecret)
	made, err := e.aws.CreateKey(bg, &kms.CreateKeyInput{KeySpec: types.KeySpecEccNistP256, KeyUsage: types.KeyUsageTypeSignVerify})
	if err != nil {
		t.Fatal(err)
	}
	key := aws.ToString(made.KeyMetadata.KeyId)
	msg := []byte("release 1.2.3")
	sign := func(c *kms.Client) (*kms.SignOutput, error) {
		return c.Sign(bg, &kms.SignInput{KeyId: aws.String(key), Message: msg, SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256})
	}
	_, err = sign(bob)
	accessDenied(t, "bob's Sign before the key policy names him", err)
	e.putPolicy(t, key, keyPolicy(accountStatement, allowUser("bob", "kms:Sign")))
	signed, err := sign(bob)
	if err != nil {
		t.Fatalf("bob's Sign, allowed as kms:Sign: %v", err)
	}
	pk, err := e.aws.GetPublicKey(bg, &kms.GetPublicKeyInput{KeyId: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.ParsePKIXPublicKey(pk.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256(msg)
	if p, ok := pub.(*ecdsa.PublicKey); !ok || !ecdsa.VerifyASN1(p, digest[:], signed.Signature) {
		t.Fatalf("bob's signature does not verify with the key's public key (%T)", pub)
	}
	_, err = bob.Verify(bg, &kms.VerifyInput{KeyId: aws.String(key), Message: msg, Signature: signed.Signature, SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256})
	accessDenied(t, "bob's Verify, which kms:Sign does not allow", err)
	_, err = bob.GetPublicKey(bg, &kms.GetPublicKeyInput{KeyId: aws.String(key)})
	accessDenied(t, "bob's GetPublicKey, which kms:Sign does not allow", err)
	// Named in RAM's spelling in AWS's language, it allows nothing.
	e.putPolicy(t, key, keyPolicy(accountStatement, allowUser("bob", "kms:AsymmetricSign")))
	_, err = sign(bob)
	accessDenied(t, "bob's Sign allowed as kms:AsymmetricSign in AWS's language", err)
}

// A key policy's kms:RequestAlias holds a principal to the alias it names
// the key by: bob, allowed GenerateDataKey through alias/bob-data only, uses
// the key that way and is refused by the key's ID, its ARN or another alias.
func TestSDKKeyPolicyRequestAlias(t *testing.T) {
	e := newEnv(t, withPrincipal("bob", bobID, bobSecret, 1000, keyless))
	bob := e.client(bobID, bobSecret)
	key := e.createKey()
	for _, alias := range []string{"alias/bob-data", "alias/shared"} {
		if _, err := e.aws.CreateAlias(bg, &kms.CreateAliasInput{AliasName: aws.String(alias), TargetKeyId: aws.String(key)}); err != nil {
			t.Fatal(err)
		}
	}
	e.putPolicy(t, key, keyPolicy(accountStatement, `{"Effect":"Allow","Principal":{"AWS":"`+iamUser("bob")+`"},"Action":"kms:GenerateDataKey","Resource":"*",`+
		`"Condition":{"StringEquals":{"kms:RequestAlias":"alias/bob-data"}}}`))
	if _, err := bob.GenerateDataKey(bg, &kms.GenerateDataKeyInput{KeyId: aws.String("alias/bob-data"), NumberOfBytes: aws.Int32(16)}); err != nil {
		t.Fatalf("GenerateDataKey through the alias the key policy names: %v", err)
	}
	for _, ref := range []string{key, keyARN(key), "alias/shared"} {
		_, err := bob.GenerateDataKey(bg, &kms.GenerateDataKeyInput{KeyId: aws.String(ref), NumberOfBytes: aws.Int32(16)})
		accessDenied(t, "GenerateDataKey by "+ref, err)
	}
}

// A key policy's kms:ResourceAliases allows bob the key while it has an
// alias of his project, by any name, and no longer once that alias goes.
func TestSDKKeyPolicyResourceAliases(t *testing.T) {
	e := newEnv(t, withPrincipal("bob", bobID, bobSecret, 1000, keyless))
	bob := e.client(bobID, bobSecret)
	key := e.createKey()
	if _, err := e.aws.CreateAlias(bg, &kms.CreateAliasInput{AliasName: aws.String("alias/project-bob/data"), TargetKeyId: aws.String(key)}); err != nil {
		t.Fatal(err)
	}
	e.putPolicy(t, key, keyPolicy(accountStatement, `{"Effect":"Allow","Principal":{"AWS":"`+iamUser("bob")+`"},"Action":"kms:GenerateDataKey","Resource":"*",`+
		`"Condition":{"ForAnyValue:StringLike":{"kms:ResourceAliases":"alias/project-bob/*"}}}`))
	if _, err := bob.GenerateDataKey(bg, &kms.GenerateDataKeyInput{KeyId: aws.String(key), NumberOfBytes: aws.Int32(16)}); err != nil {
		t.Fatalf("GenerateDataKey on a key with bob's project's alias: %v", err)
	}
	if _, err := e.aws.DeleteAlias(bg, &kms.DeleteAliasInput{AliasName: aws.String("alias/project-bob/data")}); err != nil {
		t.Fatal(err)
	}
	_, err := bob.GenerateDataKey(bg, &kms.GenerateDataKeyInput{KeyId: aws.String(key), NumberOfBytes: aws.Int32(16)})
	accessDenied(t, "GenerateDataKey once the key lost the alias", err)
}
