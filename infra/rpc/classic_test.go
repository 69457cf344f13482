package rpc_test

import (
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	classic "github.com/aliyun/alibaba-cloud-sdk-go/services/kms"

	"github.com/kmsless/kmsless/core"
)

// The classic Alibaba Cloud SDK for Go (github.com/aliyun/alibaba-cloud-sdk-go)
// signs with SignatureVersion 1.0 (HMAC-SHA1) and is what much deployed code
// still calls; it judges the 1.0 scheme as the v3 SDK judges ACS3.

// classicClient is the classic SDK's KMS client for principal id.
func (e *env) classicClient(id, secret string) *classic.Client {
	e.t.Helper()
	c, err := classic.NewClientWithAccessKey(testRegion, id, secret)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// classicRequest points a classic request at the test server, by the method
// given: the SDK sends every parameter in the query string of a POST by
// default, and in the query string of a GET when asked.
func (e *env) classicRequest(r *requests.RpcRequest, method string) {
	e.classicRequestIn(r, method, "JSON")
}

// classicRequestIn is classicRequest asking for responses in format, JSON or
// XML, which the SDK reads into the same structs.
func (e *env) classicRequestIn(r *requests.RpcRequest, method, format string) {
	r.Scheme, r.Domain, r.Method = "http", strings.TrimPrefix(e.srv.URL, "http://"), method
	r.AcceptFormat = format
}

// classicError asserts err is the classic SDK's server error with the code
// and HTTP status.
func classicError(t *testing.T, err error, code string, status int) {
	t.Helper()
	var se *sdkerrors.ServerError
	if !errors.As(err, &se) {
		t.Fatalf("want server error %s (%d), got %v", code, status, err)
	}
	if se.ErrorCode() != code || se.HttpStatus() != status {
		t.Fatalf("want %s (%d), got %s (%d): %s", code, status, se.ErrorCode(), se.HttpStatus(), se.Message())
	}
	if se.RequestId() == "" {
		t.Errorf("%s: no RequestId", code)
	}
}

// classicErrorIn is classicError for a response in format. The SDK reads an
// error's members from JSON only, so of an XML error, as Alibaba Cloud sends
// it, it keeps the status and the body.
func classicErrorIn(t *testing.T, err error, format, code string, status int) {
	t.Helper()
	if format != "XML" {
		classicError(t, err, code, status)
		return
	}
	var se *sdkerrors.ServerError
	if !errors.As(err, &se) || se.HttpStatus() != status || !strings.Contains(se.Message(), "<Code>"+code+"</Code>") {
		t.Fatalf("want an XML error %s (%d), got %v", code, status, err)
	}
}

func TestClassicSDKEnvelopeRoundTrip(t *testing.T) {
	for _, way := range []struct{ method, format string }{{requests.POST, "JSON"}, {requests.GET, "JSON"}, {requests.POST, "XML"}} {
		method := way.method
		t.Run(method+" "+way.format, func(t *testing.T) {
			e := newEnv(t)
			c := e.classicClient(adminID, adminSecret)

			ck := classic.CreateCreateKeyRequest()
			e.classicRequestIn(ck.RpcRequest, method, way.format)
			ck.Description = "orders & refunds / 订单"
			k, err := c.CreateKey(ck)
			if err != nil {
				t.Fatal(err)
			}
			id := k.KeyMetadata.KeyId
			if k.KeyMetadata.Description != ck.Description || k.KeyMetadata.KeyState != "Enabled" {
				t.Fatalf("CreateKey: %+v", k.KeyMetadata)
			}
			ca := classic.CreateCreateAliasRequest()
			e.classicRequestIn(ca.RpcRequest, method, way.format)
			ca.AliasName, ca.KeyId = "alias/partitions", id
			if _, err := c.CreateAlias(ca); err != nil {
				t.Fatal(err)
			}

			ctx := `{"partition":"p-0042","tenant":"a+b c"}`
			g := classic.CreateGenerateDataKeyWithoutPlaintextRequest()
			e.classicRequestIn(g.RpcRequest, method, way.format)
			g.KeyId, g.EncryptionContext, g.NumberOfBytes = "alias/partitions", ctx, requests.NewInteger(48)
			wrapped, err := c.GenerateDataKeyWithoutPlaintext(g)
			if err != nil {
				t.Fatal(err)
			}
			if wrapped.KeyId != id || wrapped.KeyVersionId == "" || wrapped.RequestId == "" {
				t.Fatalf("GenerateDataKeyWithoutPlaintext: key %q version %q request %q", wrapped.KeyId, wrapped.KeyVersionId, wrapped.RequestId)
			}

			d := classic.CreateDecryptRequest()
			e.classicRequestIn(d.RpcRequest, method, way.format)
			d.CiphertextBlob, d.EncryptionContext = wrapped.CiphertextBlob, `{"tenant":"a+b c","partition":"p-0042"}`
			opened, err := c.Decrypt(d)
			if err != nil {
				t.Fatal(err)
			}
			key, err := base64.StdEncoding.DecodeString(opened.Plaintext)
			if err != nil || len(key) != 48 || opened.KeyId != id || opened.KeyVersionId != wrapped.KeyVersionId {
				t.Fatalf("Decrypt: %d bytes (%v), key %q version %q", len(key), err, opened.KeyId, opened.KeyVersionId)
			}

			d.EncryptionContext = `{"partition":"p-0043","tenant":"a+b c"}`
			_, err = c.Decrypt(d)
			classicErrorIn(t, err, way.format, core.CodeInvalidCiphertext, http.StatusBadRequest)

			pt := base64.StdEncoding.EncodeToString([]byte("=&?/ not URL-safe ✓"))
			en := classic.CreateEncryptRequest()
			e.classicRequestIn(en.RpcRequest, method, way.format)
			en.KeyId, en.Plaintext = id, pt
			sealed, err := c.Encrypt(en)
			if err != nil {
				t.Fatal(err)
			}
			d = classic.CreateDecryptRequest()
			e.classicRequestIn(d.RpcRequest, method, way.format)
			d.CiphertextBlob = sealed.CiphertextBlob
			if opened, err := c.Decrypt(d); err != nil || opened.Plaintext != pt {
				t.Fatalf("Decrypt of Encrypt: %v", err)
			}
		})
	}
}

func TestClassicSDKListKeysWalksPages(t *testing.T) {
	e := newEnv(t)
	c := e.classicClient(adminID, adminSecret)
	made := map[string]bool{}
	for range 5 {
		made[e.createKey()] = true
	}
	for _, format := range []string{"JSON", "XML"} {
		seen := map[string]bool{}
		for page := 1; ; page++ {
			r := classic.CreateListKeysRequest()
			e.classicRequestIn(r.RpcRequest, requests.POST, format)
			r.PageNumber, r.PageSize = requests.NewInteger(page), requests.NewInteger(2)
			l, err := c.ListKeys(r)
			if err != nil {
				t.Fatal(err)
			}
			if l.TotalCount != len(made) || l.PageNumber != page || l.PageSize != 2 {
				t.Fatalf("%s page %d: TotalCount %d PageNumber %d PageSize %d", format, page, l.TotalCount, l.PageNumber, l.PageSize)
			}
			if len(l.Keys.Key) == 0 {
				break
			}
			for _, k := range l.Keys.Key {
				if seen[k.KeyId] || !made[k.KeyId] || k.KeyArn != keyARN(k.KeyId) {
					t.Fatalf("%s page %d: key %q (ARN %q) seen before or not made", format, page, k.KeyId, k.KeyArn)
				}
				seen[k.KeyId] = true
			}
		}
		if len(seen) != len(made) {
			t.Fatalf("%s: walked %d keys of %d", format, len(seen), len(made))
		}
	}
}

// TestClassicSDKErrorCodes checks that the classic SDK reads each refusal as
// the server error it is: code, status and RequestId.
func TestClassicSDKErrorCodes(t *testing.T) {
	e := newEnv(t, withPrincipal("provisioner", "LTAI5tProvisioner000001", "provisioner-secret", 1000,
		core.MustPolicy(core.Statement{Effect: "Allow", Action: []string{"kms:GenerateDataKeyWithoutPlaintext"}, Resource: []string{"acs:kms:*:*:key/*"}})))
	id := e.createKey()
	c := e.classicClient(adminID, adminSecret)

	dk := classic.CreateDescribeKeyRequest()
	e.classicRequest(dk.RpcRequest, requests.POST)
	dk.KeyId = "key-doesnotexist00000000000"
	_, err := c.DescribeKey(dk)
	classicError(t, err, core.CodeKeyNotFound, http.StatusNotFound)

	// The SDK keeps a request's parameters once sent: each call gets its own.
	mint := func(keyID, context, dryRun string) *classic.GenerateDataKeyWithoutPlaintextRequest {
		g := classic.CreateGenerateDataKeyWithoutPlaintextRequest()
		e.classicRequest(g.RpcRequest, requests.POST)
		g.KeyId, g.EncryptionContext, g.DryRun = keyID, context, dryRun
		return g
	}
	_, err = c.GenerateDataKeyWithoutPlaintext(mint("", "", ""))
	classicError(t, err, core.CodeMissingParameter, http.StatusBadRequest)
	_, err = c.GenerateDataKeyWithoutPlaintext(mint(id, "", "true"))
	classicError(t, err, core.CodeDryRunOperation, http.StatusBadRequest)
	_, err = c.GenerateDataKeyWithoutPlaintext(mint(id, `{"n":1}`, ""))
	classicError(t, err, core.CodeInvalidParameter, http.StatusBadRequest)
	_, err = c.GenerateDataKeyWithoutPlaintext(mint(id, `{"n":1}`, "true"))
	classicError(t, err, core.CodeValidation, http.StatusBadRequest)

	prov := e.classicClient("LTAI5tProvisioner000001", "provisioner-secret")
	minted, err := prov.GenerateDataKeyWithoutPlaintext(mint(id, "", ""))
	if err != nil {
		t.Fatalf("provisioner may mint data keys: %v", err)
	}
	d := classic.CreateDecryptRequest()
	e.classicRequest(d.RpcRequest, requests.POST)
	d.CiphertextBlob = minted.CiphertextBlob
	_, err = prov.Decrypt(d)
	classicError(t, err, core.CodeNoPermission, http.StatusForbidden)

	_, err = e.classicClient("LTAI5tProvisioner000001", "not-the-secret").GenerateDataKeyWithoutPlaintext(mint(id, "", ""))
	classicError(t, err, core.CodeSignatureDoesNotMatch, http.StatusBadRequest)
	_, err = e.classicClient("LTAI5tNobody0000000001", "whatever").DescribeKey(dk)
	classicError(t, err, core.CodeInvalidAccessKeyID, http.StatusNotFound)
}

// The classic SDK stores and reads a secret by 1.0 signatures, its nested
// stage lists read from JSON and from XML alike.
func TestClassicSDKSecrets(t *testing.T) {
	for _, way := range []struct{ method, format string }{{requests.POST, "JSON"}, {requests.GET, "XML"}} {
		t.Run(way.method+" "+way.format, func(t *testing.T) {
			e := newEnv(t)
			key := e.createKey()
			c := e.classicClient(adminID, adminSecret)
			value := `{"password":"=&?/ + 订单"}`

			cs := classic.CreateCreateSecretRequest()
			e.classicRequestIn(cs.RpcRequest, way.method, way.format)
			cs.SecretName, cs.VersionId, cs.SecretData, cs.EncryptionKeyId = "classic/s", "v1", value, key
			if r, err := c.CreateSecret(cs); err != nil || r.SecretName != "classic/s" || r.VersionId != "v1" {
				t.Fatalf("CreateSecret = %+v, %v", r, err)
			}
			ps := classic.CreatePutSecretValueRequest()
			e.classicRequestIn(ps.RpcRequest, way.method, way.format)
			ps.SecretName, ps.VersionId, ps.SecretData, ps.VersionStages = "classic/s", "v2", value+"2", `["ACSCurrent","green"]`
			put, err := c.PutSecretValue(ps)
			if err != nil || strings.Join(put.VersionStages.VersionStage, ",") != "ACSCurrent,green" {
				t.Fatalf("PutSecretValue = %+v, %v", put, err)
			}
			gs := classic.CreateGetSecretValueRequest()
			e.classicRequestIn(gs.RpcRequest, way.method, way.format)
			gs.SecretName, gs.VersionStage = "classic/s", "ACSPrevious"
			got, err := c.GetSecretValue(gs)
			if err != nil || got.SecretData != value || got.VersionId != "v1" || strings.Join(got.VersionStages.VersionStage, ",") != "ACSPrevious" {
				t.Fatalf("GetSecretValue = %+v, %v", got, err)
			}
			ls := classic.CreateListSecretVersionIdsRequest()
			e.classicRequestIn(ls.RpcRequest, way.method, way.format)
			ls.SecretName = "classic/s"
			ids, err := c.ListSecretVersionIds(ls)
			if err != nil || ids.TotalCount != 2 || len(ids.VersionIds.VersionId) != 2 || ids.VersionIds.VersionId[1].VersionStages.VersionStage[1] != "green" {
				t.Fatalf("ListSecretVersionIds = %+v, %v", ids, err)
			}
			gs.SecretName = "classic/none"
			_, err = c.GetSecretValue(gs)
			classicErrorIn(t, err, way.format, core.CodeResourceNotFound, http.StatusNotFound)
		})
	}
}

// The classic SDK makes, describes and reads back a certificate, in JSON
// and in XML, and verifies with it what it signed: its own structs read the
// certificates' responses.
func TestClassicSDKCertificates(t *testing.T) {
	e := newEnv(t)
	c := e.classicClient(adminID, adminSecret)
	create := classic.CreateCreateCertificateRequest()
	e.classicRequest(create.RpcRequest, "POST")
	create.KeySpec, create.Subject = "EC_P256", "CN=classic.example.com,OU=kms,O=kmsless,C=CN"
	create.SubjectAlternativeNames = map[string]interface{}{"a": "classic.example.com"}
	create.ProtectionLevel, create.ExportablePrivateKey = "SOFTWARE", requests.NewBoolean(false)
	made, err := c.CreateCertificate(create)
	if err != nil {
		t.Fatalf("CreateCertificate: %v", err)
	}
	if !strings.Contains(made.Csr, "BEGIN CERTIFICATE REQUEST") || made.CertificateId == "" {
		t.Fatalf("CreateCertificate answered %+v", made)
	}
	for _, format := range []string{"JSON", "XML"} {
		describe := classic.CreateDescribeCertificateRequest()
		e.classicRequestIn(describe.RpcRequest, "POST", format)
		describe.CertificateId = made.CertificateId
		d, err := c.DescribeCertificate(describe)
		if err != nil {
			t.Fatalf("DescribeCertificate in %s: %v", format, err)
		}
		if d.Status != core.CertificatePending || d.KeySpec != "EC_P256" || d.ProtectionLevel != "SOFTWARE" || d.ExportablePrivateKey ||
			!strings.Contains(d.SubjectPublicKey, "BEGIN PUBLIC KEY") || !slices.Equal(d.SubjectAlternativeNames, []string{"classic.example.com"}) {
			t.Errorf("DescribeCertificate in %s: %+v", format, d)
		}
		get := classic.CreateGetCertificateRequest()
		e.classicRequestIn(get.RpcRequest, "POST", format)
		get.CertificateId = made.CertificateId
		g, err := c.GetCertificate(get)
		if err != nil || g.Csr != made.Csr || g.Certificate != "" {
			t.Errorf("GetCertificate in %s = %+v, %v", format, g, err)
		}
	}
	create.ProtectionLevel = "HSM"
	_, err = c.CreateCertificate(create)
	classicError(t, err, "InvalidParameter", 400)
	sign := classic.CreateCertificatePrivateKeySignRequest()
	e.classicRequest(sign.RpcRequest, "POST")
	sign.CertificateId, sign.Algorithm, sign.Message = made.CertificateId, "ECDSA_SHA_256", base64.StdEncoding.EncodeToString([]byte("m"))
	_, err = c.CertificatePrivateKeySign(sign)
	classicError(t, err, core.CodePendingImport, 409)

	// The classic SDK's ClientToken makes a retried call idempotent.
	create.ProtectionLevel, create.ClientToken = "SOFTWARE", "retry-1"
	first, err := c.CreateCertificate(create)
	if err != nil {
		t.Fatal(err)
	}
	retried, err := c.CreateCertificate(create)
	if err != nil || retried.CertificateId != first.CertificateId || retried.Csr != first.Csr || first.CertificateId == made.CertificateId {
		t.Fatalf("CreateCertificate under one ClientToken: %s then %+v, %v", first.CertificateId, retried, err)
	}
}
