package rpc_test

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsless/kmsless/core"
)

// Every action of Alibaba's KMS SDK is answered: none is refused as an
// action this service does not support. The actions are the SDK client's
// own (each XxxWithOptions method calls action Xxx), so an action Alibaba
// adds shows here once the SDK is updated.
func TestEveryActionOfTheSDKIsAnswered(t *testing.T) {
	e := newEnv(t)
	n := 0
	for m := range reflect.TypeFor[*kms.Client]().Methods() {
		name, ok := strings.CutSuffix(m.Name, "WithOptions")
		if !ok {
			continue
		}
		n++
		r := e.postForm(action(name))
		if r.status == http.StatusOK {
			continue
		}
		if code, msg := r.errorBody(t); code == core.CodeInvalidParameter && strings.Contains(msg, "not supported by this service") {
			t.Errorf("%s: %s: %s", name, code, msg)
		}
	}
	if n < 92 {
		t.Fatalf("the SDK's client has %d actions; it had 92 when this test was written", n)
	}
}

// What this service does not have, Alibaba's SDK is told as Alibaba tells an
// account without it: no KMS instance, and no secret that RotateSecret
// rotates.
func TestSDKKmsInstancesAndSecretRotationAreAbsent(t *testing.T) {
	e := newEnv(t, withPrincipal("reader", "LTAI5tReader0000000001", "reader-secret", 1000,
		core.MustPolicy(core.Statement{Effect: "Allow", Action: []string{"kms:DescribeSecret"}, Resource: []string{"*"}})))
	c := e.client

	list, err := c.ListKmsInstances(&kms.ListKmsInstancesRequest{PageNumber: tea.Int32(1), PageSize: tea.Int32(20)})
	if err != nil {
		t.Fatal(err)
	}
	if b := list.Body; tea.Int64Value(b.TotalCount) != 0 || b.KmsInstances == nil || len(b.KmsInstances.KmsInstance) != 0 ||
		tea.Int64Value(b.PageNumber) != 1 || tea.Int64Value(b.PageSize) != 20 {
		t.Errorf("ListKmsInstances = %s", b)
	}
	instance := tea.String("kst-hzz65f176a0ogplgq****")
	_, err = c.GetKmsInstance(&kms.GetKmsInstanceRequest{KmsInstanceId: instance})
	sdkError(t, err, core.CodeResourceNotFound, 404)
	_, err = c.ConnectKmsInstance(&kms.ConnectKmsInstanceRequest{KmsInstanceId: instance, KMProvider: tea.String("Aliyun"),
		VpcId: tea.String("vpc-bp19z7cwmltad5dff****"), ZoneIds: tea.String("cn-hangzhou-k,cn-hangzhou-j"), VSwitchIds: tea.String("vsw-bp1i512amda6d10a0****")})
	sdkError(t, err, core.CodeResourceNotFound, 404)
	_, err = c.UpdateKmsInstanceBindVpc(&kms.UpdateKmsInstanceBindVpcRequest{KmsInstanceId: instance, BindVpcs: tea.String("[]")})
	sdkError(t, err, core.CodeResourceNotFound, 404)
	_, err = c.GetKmsInstance(&kms.GetKmsInstanceRequest{})
	sdkError(t, err, core.CodeMissingParameter, 400)

	// Nor is a key or secret made in one: none is made at all.
	_, err = c.CreateKey(&kms.CreateKeyRequest{DKMSInstanceId: instance})
	sdkError(t, err, core.CodeResourceNotFound, 404)
	key := e.createKey()
	_, err = c.CreateSecret(&kms.CreateSecretRequest{SecretName: tea.String("in-instance"), VersionId: tea.String("v1"),
		SecretData: tea.String("x"), EncryptionKeyId: tea.String(key), DKMSInstanceId: instance})
	sdkError(t, err, core.CodeResourceNotFound, 404)
	keys, err := c.ListKeys(&kms.ListKeysRequest{})
	if err != nil || tea.Int32Value(keys.Body.TotalCount) != 1 {
		t.Fatalf("after a refused CreateKey in an instance: ListKeys = %v, %v", keys, err)
	}
	_, err = c.DescribeSecret(&kms.DescribeSecretRequest{SecretName: tea.String("in-instance")})
	sdkError(t, err, core.CodeResourceNotFound, 404)
	if _, err := c.CreateSecret(&kms.CreateSecretRequest{SecretName: tea.String("db"), VersionId: tea.String("v1"),
		SecretData: tea.String("x"), EncryptionKeyId: tea.String(key)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.RotateSecret(&kms.RotateSecretRequest{SecretName: tea.String("db"), VersionId: tea.String("v2")})
	if se := sdkError(t, err, core.CodeUnsupportedOperation, 400); !strings.Contains(tea.StringValue(se.Message), "PutSecretValue") {
		t.Errorf("RotateSecret: %s", tea.StringValue(se.Message))
	}
	_, err = c.RotateSecret(&kms.RotateSecretRequest{SecretName: tea.String("nosuch"), VersionId: tea.String("v2")})
	sdkError(t, err, core.CodeResourceNotFound, 404)
	_, err = c.RotateSecret(&kms.RotateSecretRequest{SecretName: tea.String("db")})
	sdkError(t, err, core.CodeMissingParameter, 400)

	off, err := c.UpdateSecretRotationPolicy(&kms.UpdateSecretRotationPolicyRequest{SecretName: tea.String("db"), EnableAutomaticRotation: tea.Bool(false)})
	if err != nil {
		t.Fatal(err)
	}
	if tea.StringValue(off.Body.SecretName) != "db" {
		t.Errorf("UpdateSecretRotationPolicy = %s", off.Body)
	}
	_, err = c.UpdateSecretRotationPolicy(&kms.UpdateSecretRotationPolicyRequest{SecretName: tea.String("db"), EnableAutomaticRotation: tea.Bool(true),
		RotationInterval: tea.String("30d")})
	sdkError(t, err, core.CodeInvalidParameter, 400)
	_, err = c.UpdateSecretRotationPolicy(&kms.UpdateSecretRotationPolicyRequest{SecretName: tea.String("nosuch"), EnableAutomaticRotation: tea.Bool(false)})
	sdkError(t, err, core.CodeResourceNotFound, 404)

	// A caller refused the action is refused before it learns that the
	// instance or the secret is not there, or what the secret is.
	reader := e.sdk("LTAI5tReader0000000001", "reader-secret")
	_, err = reader.GetKmsInstance(&kms.GetKmsInstanceRequest{KmsInstanceId: instance})
	sdkError(t, err, core.CodeNoPermission, 403)
	_, err = reader.ListKmsInstances(&kms.ListKmsInstancesRequest{})
	sdkError(t, err, core.CodeNoPermission, 403)
	for _, name := range []string{"db", "nosuch"} {
		_, err = reader.RotateSecret(&kms.RotateSecretRequest{SecretName: tea.String(name), VersionId: tea.String("v2")})
		sdkError(t, err, core.CodeNoPermission, 403)
		_, err = reader.UpdateSecretRotationPolicy(&kms.UpdateSecretRotationPolicyRequest{SecretName: tea.String(name), EnableAutomaticRotation: tea.Bool(false)})
		sdkError(t, err, core.CodeNoPermission, 403)
	}
}
