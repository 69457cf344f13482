package instance_test

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"
	dkmsopenapi "github.com/aliyun/alibabacloud-dkms-gcs-go-sdk/openapi"
	dkms "github.com/aliyun/alibabacloud-dkms-gcs-go-sdk/sdk"
	"golang.org/x/crypto/pkcs12"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/rpc"
)

// management is Alibaba's KMS SDK (kms-20160120) for the service's RPC
// API, signing as the admin principal, over the env's service.
func (e *env) management() *kms.Client {
	e.t.Helper()
	srv := httptest.NewServer(rpc.New(rpc.Options{KMS: e.kms, Principals: e.dir, ClockSkew: 15 * time.Minute, MaxBody: 1 << 20, Clock: e.clock}))
	e.t.Cleanup(srv.Close)
	c, err := kms.NewClient(&openapi.Config{
		AccessKeyId: tea.String(admin.AccessKeyID), AccessKeySecret: tea.String("admin-secret"),
		Endpoint: tea.String(strings.TrimPrefix(srv.URL, "http://")), Protocol: tea.String("http"), RegionId: tea.String(testRegion),
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// clientKeySDK is the instance SDK configured as Alibaba's documents
// configure it with a client key CreateClientKey answered: the key file's
// text (KeyId and PrivateKeyData) and its password.
func (e *env) clientKeySDK(id, privateKeyData, password string) *dkms.Client {
	e.t.Helper()
	content, _ := json.Marshal(map[string]string{"KeyId": id, "PrivateKeyData": privateKeyData})
	c, err := dkms.NewClient(&dkmsopenapi.Config{
		Protocol: tea.String("http"), Endpoint: tea.String(strings.TrimPrefix(e.srv.URL, "http://")), RegionId: tea.String(testRegion),
		ClientKeyContent: tea.String(string(content)), Password: tea.String(password),
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// mgmtCode is the code of the management SDK's error, or "".
func mgmtCode(err error) string {
	var se *tea.SDKError
	if errors.As(err, &se) {
		return tea.StringValue(se.Code)
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

// The way Alibaba documents to a client key, through its management SDK:
// a network rule, a policy on one key from the rule's addresses, an
// application access point, and a client key made for it, whose private
// key comes back once as PKCS #12 under the caller's password. The
// instance SDK configured with that key and password is answered under
// the policy: the key it names seals, another key and secrets are
// refused, and so is every request once the rule no longer takes the
// caller's address, or once the client key is deleted. What is in use is
// not deleted, and the describe and list actions answer what was made.
func TestSDKClientKeyMadeThroughTheManagementAPI(t *testing.T) {
	e := newEnv(t)
	m := e.management()
	key, other := e.createKey("", ""), e.createKey("", "")

	rule, err := m.CreateNetworkRule(&kms.CreateNetworkRuleRequest{Name: tea.String("loopback"), Type: tea.String("Private"),
		SourcePrivateIp: tea.String(`["127.0.0.1/32","::1"]`), Description: tea.String("this host")})
	if err != nil {
		t.Fatal(err)
	}
	if got := tea.StringValue(rule.Body.Arn); got != "acs:kms:"+testRegion+":"+testAccount+":networkrule/loopback" {
		t.Errorf("CreateNetworkRule: Arn %q", got)
	}
	pol, err := m.CreatePolicy(&kms.CreatePolicyRequest{Name: tea.String("orders"), KmsInstance: tea.String("kst-local"),
		Permissions: tea.String(`["RbacPermission/Template/CryptoServiceKeyUser"]`), Resources: tea.String(`["key/` + key + `"]`),
		AccessControlRules: tea.String(`{"NetworkRules":["loopback"]}`)})
	if err != nil {
		t.Fatal(err)
	}
	if tea.StringValue(pol.Body.Permissions) != `["RbacPermission/Template/CryptoServiceKeyUser"]` {
		t.Errorf("CreatePolicy: Permissions %q", tea.StringValue(pol.Body.Permissions))
	}
	if _, err := m.CreateApplicationAccessPoint(&kms.CreateApplicationAccessPointRequest{Name: tea.String("orders-app"),
		AuthenticationMethod: tea.String("ClientKey"), Policies: tea.String(`["orders"]`)}); err != nil {
		t.Fatal(err)
	}
	const password = "Orders-2026"
	made, err := m.CreateClientKey(&kms.CreateClientKeyRequest{AapName: tea.String("orders-app"), Password: tea.String(password)})
	if err != nil {
		t.Fatal(err)
	}
	id := tea.StringValue(made.Body.ClientKeyId)
	if !strings.HasPrefix(id, "KAAP.") || tea.StringValue(made.Body.KeyAlgorithm) != "RSA_2048" {
		t.Fatalf("CreateClientKey: ClientKeyId %q, KeyAlgorithm %q", id, tea.StringValue(made.Body.KeyAlgorithm))
	}
	// The private key opens with the password by the reader the SDK uses,
	// and is the key GetClientKey answers the public half of.
	p12, err := base64.StdEncoding.DecodeString(tea.StringValue(made.Body.PrivateKeyData))
	if err != nil {
		t.Fatal(err)
	}
	priv, cert, err := pkcs12.Decode(p12, password)
	if err != nil {
		t.Fatalf("the PKCS #12 does not open with the password: %v", err)
	}
	got, err := m.GetClientKey(&kms.GetClientKeyRequest{ClientKeyId: tea.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	der, _ := base64.StdEncoding.DecodeString(tea.StringValue(got.Body.PublicKeyData))
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil || !priv.(*rsa.PrivateKey).PublicKey.Equal(pub) || cert.Subject.CommonName != id || tea.StringValue(got.Body.AapName) != "orders-app" {
		t.Fatalf("GetClientKey: %+v, %v", got.Body, err)
	}
	if nb, na := tea.StringValue(got.Body.NotBefore), tea.StringValue(got.Body.NotAfter); nb == "" || na <= nb {
		t.Errorf("GetClientKey: valid from %q to %q", nb, na)
	}

	app := e.clientKeySDK(id, tea.StringValue(made.Body.PrivateKeyData), password)
	enc, err := app.EncryptWithOptions(&dkms.EncryptRequest{KeyId: tea.String(key), Plaintext: []byte("order 7")}, noRetry)
	if err != nil {
		t.Fatalf("Encrypt under the policy's key: %v", err)
	}
	dec, err := app.DecryptWithOptions(&dkms.DecryptRequest{CiphertextBlob: enc.CiphertextBlob, Iv: enc.Iv}, noRetry)
	if err != nil || string(dec.Plaintext) != "order 7" {
		t.Fatalf("Decrypt: %v", err)
	}
	if _, err := app.GenerateRandomWithOptions(&dkms.GenerateRandomRequest{Length: tea.Int32(16)}, noRetry); err != nil {
		t.Errorf("GenerateRandom for a key user: %v", err)
	}
	if _, err := app.EncryptWithOptions(&dkms.EncryptRequest{KeyId: tea.String(other), Plaintext: []byte("x")}, noRetry); sdkCode(t, err) != core.CodeNoPermission {
		t.Errorf("Encrypt under a key the policy does not name: %v", err)
	}
	if _, err := app.GetSecretValueWithOptions(&dkms.GetSecretValueRequest{SecretName: tea.String("any")}, noRetry); sdkCode(t, err) != core.CodeNoPermission {
		t.Errorf("GetSecretValue for a key user: %v", err)
	}

	// What is in use stays.
	for name, err := range map[string]error{
		"DeleteNetworkRule": func() error {
			_, err := m.DeleteNetworkRule(&kms.DeleteNetworkRuleRequest{Name: tea.String("loopback")})
			return err
		}(),
		"DeletePolicy": func() error {
			_, err := m.DeletePolicy(&kms.DeletePolicyRequest{Name: tea.String("orders")})
			return err
		}(),
		"DeleteApplicationAccessPoint": func() error {
			_, err := m.DeleteApplicationAccessPoint(&kms.DeleteApplicationAccessPointRequest{Name: tea.String("orders-app")})
			return err
		}(),
	} {
		if mgmtCode(err) != core.CodeInvalidParameter {
			t.Errorf("%s of a record in use: %v", name, err)
		}
	}
	// Describe and List answer what was made.
	d, err := m.DescribePolicy(&kms.DescribePolicyRequest{Name: tea.String("orders")})
	if err != nil || len(d.Body.Resources) != 1 || tea.StringValue(d.Body.Resources[0]) != "key/"+key || tea.StringValue(d.Body.AccessControlRules) != `{"NetworkRules":["loopback"]}` {
		t.Errorf("DescribePolicy: %+v, %v", d, err)
	}
	a, err := m.DescribeApplicationAccessPoint(&kms.DescribeApplicationAccessPointRequest{Name: tea.String("orders-app")})
	if err != nil || tea.StringValue(a.Body.Policies) != `["orders"]` || tea.StringValue(a.Body.AuthenticationMethod) != "ClientKey" {
		t.Errorf("DescribeApplicationAccessPoint: %+v, %v", a, err)
	}
	r, err := m.DescribeNetworkRule(&kms.DescribeNetworkRuleRequest{Name: tea.String("loopback")})
	if err != nil || tea.StringValue(r.Body.SourcePrivateIp) != `["127.0.0.1/32","::1"]` || tea.StringValue(r.Body.Description) != "this host" {
		t.Errorf("DescribeNetworkRule: %+v, %v", r, err)
	}
	rules, err := m.ListNetworkRules(&kms.ListNetworkRulesRequest{})
	if err != nil || tea.Int32Value(rules.Body.TotalCount) != 1 || tea.StringValue(rules.Body.NetworkRules.NetworkRule[0].Name) != "loopback" {
		t.Errorf("ListNetworkRules: %+v, %v", rules, err)
	}
	pols, err := m.ListPolicies(&kms.ListPoliciesRequest{})
	if err != nil || tea.Int32Value(pols.Body.TotalCount) != 1 || tea.StringValue(pols.Body.Policies.Policy[0].Name) != "orders" {
		t.Errorf("ListPolicies: %+v, %v", pols, err)
	}
	aaps, err := m.ListApplicationAccessPoints(&kms.ListApplicationAccessPointsRequest{})
	if err != nil || tea.Int32Value(aaps.Body.TotalCount) != 1 || tea.StringValue(aaps.Body.ApplicationAccessPoints.ApplicationAccessPoint[0].Name) != "orders-app" {
		t.Errorf("ListApplicationAccessPoints: %+v, %v", aaps, err)
	}
	keys, err := m.ListClientKeys(&kms.ListClientKeysRequest{AapName: tea.String("orders-app")})
	if err != nil || len(keys.Body.ClientKeys) != 1 || tea.StringValue(keys.Body.ClientKeys[0].ClientKeyId) != id {
		t.Errorf("ListClientKeys: %+v, %v", keys, err)
	}

	// The rule no longer takes this host's address: the same key is refused.
	if _, err := m.UpdateNetworkRule(&kms.UpdateNetworkRuleRequest{Name: tea.String("loopback"), SourcePrivateIp: tea.String(`["10.0.0.0/8"]`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := app.EncryptWithOptions(&dkms.EncryptRequest{KeyId: tea.String(key), Plaintext: []byte("x")}, noRetry); sdkCode(t, err) != core.CodeNoPermission {
		t.Errorf("Encrypt from an address the rule no longer takes: %v", err)
	}
	if _, err := m.UpdateNetworkRule(&kms.UpdateNetworkRuleRequest{Name: tea.String("loopback"), SourcePrivateIp: tea.String(`["127.0.0.0/8"]`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := app.EncryptWithOptions(&dkms.EncryptRequest{KeyId: tea.String(key), Plaintext: []byte("x")}, noRetry); err != nil {
		t.Errorf("Encrypt once the rule takes it again: %v", err)
	}

	// Deleted, the client key signs for no one, and the AAP may go.
	if _, err := m.DeleteClientKey(&kms.DeleteClientKeyRequest{ClientKeyId: tea.String(id)}); err != nil {
		t.Fatal(err)
	}
	if _, err := app.EncryptWithOptions(&dkms.EncryptRequest{KeyId: tea.String(key), Plaintext: []byte("x")}, noRetry); sdkCode(t, err) != core.CodeInvalidAccessKeyID {
		t.Errorf("Encrypt with a deleted client key: %v", err)
	}
	if _, err := m.DeleteApplicationAccessPoint(&kms.DeleteApplicationAccessPointRequest{Name: tea.String("orders-app")}); err != nil {
		t.Errorf("DeleteApplicationAccessPoint without client keys: %v", err)
	}
	if _, err := m.DescribeApplicationAccessPoint(&kms.DescribeApplicationAccessPointRequest{Name: tea.String("orders-app")}); mgmtCode(err) != core.CodeResourceNotFound {
		t.Errorf("DescribeApplicationAccessPoint once deleted: %v", err)
	}
}

// What the management API refuses, each with the parameter named: a
// password too weak for the PKCS #12 it encrypts, validity given by half,
// an AAP, policy or rule that does not exist, an unknown template or
// resource, more than three policies, a name taken.
func TestManagementAPIRefusals(t *testing.T) {
	e := newEnv(t)
	m := e.management()
	if _, err := m.CreateNetworkRule(&kms.CreateNetworkRuleRequest{Name: tea.String("r"), SourcePrivateIp: tea.String(`["10.0.0.1"]`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.CreatePolicy(&kms.CreatePolicyRequest{Name: tea.String("p"), KmsInstance: tea.String("kst-local"),
		Permissions: tea.String(`["RbacPermission/Template/CryptoServiceSecretUser"]`), Resources: tea.String(`["secret/*"]`),
		AccessControlRules: tea.String(`{"NetworkRules":["r"]}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.CreateApplicationAccessPoint(&kms.CreateApplicationAccessPointRequest{Name: tea.String("a"), Policies: tea.String(`["p"]`)}); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		err        error
		code, word string
	}{
		"a password of one kind": {func() error {
			_, err := m.CreateClientKey(&kms.CreateClientKeyRequest{AapName: tea.String("a"), Password: tea.String("abcdefghij")})
			return err
		}(), core.CodeInvalidParameter, "Password"},
		"a short password": {func() error {
			_, err := m.CreateClientKey(&kms.CreateClientKeyRequest{AapName: tea.String("a"), Password: tea.String("ab1-")})
			return err
		}(), core.CodeInvalidParameter, "Password"},
		"NotBefore alone": {func() error {
			_, err := m.CreateClientKey(&kms.CreateClientKeyRequest{AapName: tea.String("a"), Password: tea.String("Passw0rd-1"), NotBefore: tea.String("2026-01-01T00:00:00Z")})
			return err
		}(), core.CodeInvalidParameter, "NotAfter"},
		"a client key for no AAP": {func() error {
			_, err := m.CreateClientKey(&kms.CreateClientKeyRequest{AapName: tea.String("none"), Password: tea.String("Passw0rd-1")})
			return err
		}(), core.CodeResourceNotFound, "none"},
		"an AAP with a missing policy": {func() error {
			_, err := m.CreateApplicationAccessPoint(&kms.CreateApplicationAccessPointRequest{Name: tea.String("b"), Policies: tea.String(`["missing"]`)})
			return err
		}(), core.CodeInvalidParameter, "Policies"},
		"an AAP with four policies": {func() error {
			_, err := m.CreateApplicationAccessPoint(&kms.CreateApplicationAccessPointRequest{Name: tea.String("b"), Policies: tea.String(`["p","q","r","s"]`)})
			return err
		}(), core.CodeInvalidParameter, "Policies"},
		"a policy with a missing rule": {func() error {
			_, err := m.CreatePolicy(&kms.CreatePolicyRequest{Name: tea.String("q"), KmsInstance: tea.String("k"), Permissions: tea.String(`["RbacPermission/Template/CryptoServiceKeyUser"]`),
				Resources: tea.String(`["key/*"]`), AccessControlRules: tea.String(`{"NetworkRules":["missing"]}`)})
			return err
		}(), core.CodeInvalidParameter, "AccessControlRules"},
		"an unknown template": {func() error {
			_, err := m.CreatePolicy(&kms.CreatePolicyRequest{Name: tea.String("q"), KmsInstance: tea.String("k"), Permissions: tea.String(`["RbacPermission/Template/Admin"]`),
				Resources: tea.String(`["key/*"]`), AccessControlRules: tea.String(`{"NetworkRules":[]}`)})
			return err
		}(), core.CodeInvalidParameter, "Permissions"},
		"a resource of another kind": {func() error {
			_, err := m.CreatePolicy(&kms.CreatePolicyRequest{Name: tea.String("q"), KmsInstance: tea.String("k"), Permissions: tea.String(`["RbacPermission/Template/CryptoServiceKeyUser"]`),
				Resources: tea.String(`["alias/*"]`), AccessControlRules: tea.String(`{"NetworkRules":[]}`)})
			return err
		}(), core.CodeInvalidParameter, "Resources"},
		"an address that is none": {func() error {
			_, err := m.CreateNetworkRule(&kms.CreateNetworkRuleRequest{Name: tea.String("s"), SourcePrivateIp: tea.String(`["10.0.0.300"]`)})
			return err
		}(), core.CodeInvalidParameter, "SourcePrivateIp"},
		"a rule of another type": {func() error {
			_, err := m.CreateNetworkRule(&kms.CreateNetworkRuleRequest{Name: tea.String("s"), Type: tea.String("Public"), SourcePrivateIp: tea.String(`["10.0.0.3"]`)})
			return err
		}(), core.CodeInvalidParameter, "Type"},
		"a name taken": {func() error {
			_, err := m.CreateNetworkRule(&kms.CreateNetworkRuleRequest{Name: tea.String("r"), SourcePrivateIp: tea.String(`["10.0.0.3"]`)})
			return err
		}(), core.CodeResourceExist, "r"},
		"a name of another alphabet": {func() error {
			_, err := m.CreateNetworkRule(&kms.CreateNetworkRuleRequest{Name: tea.String("r/1"), SourcePrivateIp: tea.String(`["10.0.0.3"]`)})
			return err
		}(), core.CodeInvalidParameter, "Name"},
	} {
		var se *tea.SDKError
		if !errors.As(c.err, &se) || tea.StringValue(se.Code) != c.code || !strings.Contains(tea.StringValue(se.Message), c.word) {
			t.Errorf("%s: want %s naming %s, got %v", name, c.code, c.word, c.err)
		}
	}
}
