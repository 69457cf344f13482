package rpc_test

import (
	"encoding/base64"
	"net/http"
	"regexp"
	"strings"
	"testing"

	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsless/kmsless/core"
)

var (
	dateFormat = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)
	uuidFormat = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
)

func keyARN(id string) string { return "acs:kms:" + testRegion + ":" + testAccount + ":key/" + id }

func TestSDKCreateKeyReturnsFullMetadata(t *testing.T) {
	e := newEnv(t)
	r, err := e.client.CreateKey(&kms.CreateKeyRequest{Description: tea.String("orders <partition> keys")})
	if err != nil {
		t.Fatal(err)
	}
	m := r.Body.KeyMetadata
	id := tea.StringValue(m.KeyId)
	if !strings.HasPrefix(id, "key-") {
		t.Errorf("KeyId %q", id)
	}
	checks := map[string][2]string{
		"Arn":               {tea.StringValue(m.Arn), keyARN(id)},
		"KeyState":          {tea.StringValue(m.KeyState), "Enabled"},
		"KeySpec":           {tea.StringValue(m.KeySpec), "Aliyun_AES_256"},
		"KeyUsage":          {tea.StringValue(m.KeyUsage), "ENCRYPT/DECRYPT"},
		"Origin":            {tea.StringValue(m.Origin), "Aliyun_KMS"},
		"ProtectionLevel":   {tea.StringValue(m.ProtectionLevel), "SOFTWARE"},
		"Creator":           {tea.StringValue(m.Creator), testAccount},
		"Description":       {tea.StringValue(m.Description), "orders <partition> keys"},
		"AutomaticRotation": {tea.StringValue(m.AutomaticRotation), "Disabled"},
	}
	for field, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s = %q, want %q", field, c[0], c[1])
		}
	}
	if !dateFormat.MatchString(tea.StringValue(m.CreationDate)) {
		t.Errorf("CreationDate %q is not yyyy-mm-ddThh:mm:ssZ", tea.StringValue(m.CreationDate))
	}
	if !uuidFormat.MatchString(tea.StringValue(m.PrimaryKeyVersion)) {
		t.Errorf("PrimaryKeyVersion %q is not a UUID", tea.StringValue(m.PrimaryKeyVersion))
	}
	if !uuidFormat.MatchString(strings.ToLower(tea.StringValue(r.Body.RequestId))) {
		t.Errorf("RequestId %q is not a UUID", tea.StringValue(r.Body.RequestId))
	}

	d, err := e.client.DescribeKey(&kms.DescribeKeyRequest{KeyId: tea.String(keyARN(id))})
	if err != nil {
		t.Fatal(err)
	}
	if got := tea.StringValue(d.Body.KeyMetadata.PrimaryKeyVersion); got != tea.StringValue(m.PrimaryKeyVersion) {
		t.Errorf("DescribeKey by ARN: PrimaryKeyVersion %q, want %q", got, tea.StringValue(m.PrimaryKeyVersion))
	}
}

func TestSDKListKeysWalksPages(t *testing.T) {
	e := newEnv(t)
	want := map[string]bool{}
	for range 25 {
		want[e.createKey()] = true
	}
	got := map[string]bool{}
	for page, size := range []int{10, 10, 5} {
		r, err := e.client.ListKeys(&kms.ListKeysRequest{PageNumber: tea.Int32(int32(page + 1)), PageSize: tea.Int32(10)})
		if err != nil {
			t.Fatal(err)
		}
		b := r.Body
		if tea.Int32Value(b.TotalCount) != 25 || tea.Int32Value(b.PageNumber) != int32(page+1) || tea.Int32Value(b.PageSize) != 10 {
			t.Fatalf("page %d: TotalCount %d PageNumber %d PageSize %d", page+1, tea.Int32Value(b.TotalCount), tea.Int32Value(b.PageNumber), tea.Int32Value(b.PageSize))
		}
		if len(b.Keys.Key) != size {
			t.Fatalf("page %d has %d keys, want %d", page+1, len(b.Keys.Key), size)
		}
		for _, k := range b.Keys.Key {
			id := tea.StringValue(k.KeyId)
			if got[id] {
				t.Errorf("key %s listed twice", id)
			}
			got[id] = true
			if tea.StringValue(k.KeyArn) != keyARN(id) {
				t.Errorf("KeyArn %q for %s", tea.StringValue(k.KeyArn), id)
			}
		}
	}
	for id := range want {
		if !got[id] {
			t.Errorf("key %s never listed", id)
		}
	}
	r, err := e.client.ListKeys(&kms.ListKeysRequest{PageNumber: tea.Int32(4), PageSize: tea.Int32(10)})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Body.Keys.Key) != 0 || tea.Int32Value(r.Body.TotalCount) != 25 {
		t.Errorf("page past the end: %d keys, TotalCount %d", len(r.Body.Keys.Key), tea.Int32Value(r.Body.TotalCount))
	}
}

func TestSDKAliasesLifecycle(t *testing.T) {
	e := newEnv(t)
	k1, k2 := e.createKey(), e.createKey()
	if _, err := e.client.CreateAlias(&kms.CreateAliasRequest{AliasName: tea.String("alias/orders"), KeyId: tea.String(k1)}); err != nil {
		t.Fatal(err)
	}
	_, err := e.client.CreateAlias(&kms.CreateAliasRequest{AliasName: tea.String("alias/orders"), KeyId: tea.String(k2)})
	sdkError(t, err, core.CodeAliasAlreadyExists, http.StatusBadRequest)
	if _, err := e.client.CreateAlias(&kms.CreateAliasRequest{AliasName: tea.String("alias/billing"), KeyId: tea.String(k1)}); err != nil {
		t.Fatal(err)
	}

	d, err := e.client.DescribeKey(&kms.DescribeKeyRequest{KeyId: tea.String("alias/orders")})
	if err != nil {
		t.Fatal(err)
	}
	if got := tea.StringValue(d.Body.KeyMetadata.KeyId); got != k1 {
		t.Fatalf("DescribeKey by alias gave %s, want the real ID %s", got, k1)
	}

	all, err := e.client.ListAliases(&kms.ListAliasesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if tea.Int32Value(all.Body.TotalCount) != 2 || len(all.Body.Aliases.Alias) != 2 {
		t.Fatalf("ListAliases: TotalCount %d, %d entries", tea.Int32Value(all.Body.TotalCount), len(all.Body.Aliases.Alias))
	}
	first := all.Body.Aliases.Alias[0]
	if tea.StringValue(first.AliasName) != "alias/billing" || tea.StringValue(first.KeyId) != k1 ||
		tea.StringValue(first.AliasArn) != "acs:kms:"+testRegion+":"+testAccount+":alias/billing" {
		t.Errorf("first alias: %s", first)
	}

	if _, err := e.client.UpdateAlias(&kms.UpdateAliasRequest{AliasName: tea.String("alias/orders"), KeyId: tea.String(k2)}); err != nil {
		t.Fatal(err)
	}
	byKey, err := e.client.ListAliasesByKeyId(&kms.ListAliasesByKeyIdRequest{KeyId: tea.String(k2)})
	if err != nil {
		t.Fatal(err)
	}
	if tea.Int32Value(byKey.Body.TotalCount) != 1 || tea.StringValue(byKey.Body.Aliases.Alias[0].AliasName) != "alias/orders" {
		t.Fatalf("ListAliasesByKeyId after UpdateAlias: %s", byKey.Body)
	}
	g, err := e.client.GenerateDataKeyWithoutPlaintext(&kms.GenerateDataKeyWithoutPlaintextRequest{KeyId: tea.String("alias/orders")})
	if err != nil {
		t.Fatal(err)
	}
	if got := tea.StringValue(g.Body.KeyId); got != k2 {
		t.Errorf("alias now names %s, want %s", got, k2)
	}

	if _, err := e.client.DeleteAlias(&kms.DeleteAliasRequest{AliasName: tea.String("alias/orders")}); err != nil {
		t.Fatal(err)
	}
	_, err = e.client.DescribeKey(&kms.DescribeKeyRequest{KeyId: tea.String("alias/orders")})
	sdkError(t, err, core.CodeAliasNotFound, http.StatusNotFound)
	_, err = e.client.DeleteAlias(&kms.DeleteAliasRequest{AliasName: tea.String("alias/orders")})
	sdkError(t, err, core.CodeAliasNotFound, http.StatusNotFound)
	_, err = e.client.UpdateAlias(&kms.UpdateAliasRequest{AliasName: tea.String("alias/none"), KeyId: tea.String(k1)})
	sdkError(t, err, core.CodeAliasNotFound, http.StatusNotFound)
}

func TestSDKKeyStateMachine(t *testing.T) {
	e := newEnv(t)
	id := e.createKey()
	gen := func() error {
		_, err := e.client.GenerateDataKeyWithoutPlaintext(&kms.GenerateDataKeyWithoutPlaintextRequest{KeyId: tea.String(id)})
		return err
	}
	state := func() string {
		d, err := e.client.DescribeKey(&kms.DescribeKeyRequest{KeyId: tea.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		return tea.StringValue(d.Body.KeyMetadata.KeyState)
	}
	enc, err := e.client.Encrypt(&kms.EncryptRequest{KeyId: tea.String(id), Plaintext: tea.String("aGVsbG8=")})
	if err != nil {
		t.Fatal(err)
	}

	if _, err := e.client.DisableKey(&kms.DisableKeyRequest{KeyId: tea.String(id)}); err != nil {
		t.Fatal(err)
	}
	if s := state(); s != "Disabled" {
		t.Fatalf("after DisableKey: %s", s)
	}
	sdkError(t, gen(), core.CodeDisabled, http.StatusConflict)
	_, err = e.client.Decrypt(&kms.DecryptRequest{CiphertextBlob: enc.Body.CiphertextBlob})
	sdkError(t, err, core.CodeDisabled, http.StatusConflict)
	if _, err := e.client.EnableKey(&kms.EnableKeyRequest{KeyId: tea.String(id)}); err != nil {
		t.Fatal(err)
	}
	if err := gen(); err != nil {
		t.Fatalf("after EnableKey: %v", err)
	}

	if _, err := e.client.ScheduleKeyDeletion(&kms.ScheduleKeyDeletionRequest{KeyId: tea.String(id), PendingWindowInDays: tea.Int32(7)}); err != nil {
		t.Fatal(err)
	}
	d, err := e.client.DescribeKey(&kms.DescribeKeyRequest{KeyId: tea.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	if s := tea.StringValue(d.Body.KeyMetadata.KeyState); s != "PendingDeletion" || !dateFormat.MatchString(tea.StringValue(d.Body.KeyMetadata.DeleteDate)) {
		t.Fatalf("after ScheduleKeyDeletion: state %s, DeleteDate %q", s, tea.StringValue(d.Body.KeyMetadata.DeleteDate))
	}
	sdkError(t, gen(), core.CodePendingDeletion, http.StatusConflict)
	_, err = e.client.EnableKey(&kms.EnableKeyRequest{KeyId: tea.String(id)})
	sdkError(t, err, core.CodeStateModifiedFailed, http.StatusConflict)
	_, err = e.client.DisableKey(&kms.DisableKeyRequest{KeyId: tea.String(id)})
	sdkError(t, err, core.CodeStateModifiedFailed, http.StatusConflict)
	_, err = e.client.ScheduleKeyDeletion(&kms.ScheduleKeyDeletionRequest{KeyId: tea.String(id), PendingWindowInDays: tea.Int32(7)})
	sdkError(t, err, core.CodeStateModifiedFailed, http.StatusConflict)

	if _, err := e.client.CancelKeyDeletion(&kms.CancelKeyDeletionRequest{KeyId: tea.String(id)}); err != nil {
		t.Fatal(err)
	}
	if s := state(); s != "Enabled" {
		t.Fatalf("after CancelKeyDeletion: %s", s)
	}
	_, err = e.client.CancelKeyDeletion(&kms.CancelKeyDeletionRequest{KeyId: tea.String(id)})
	sdkError(t, err, core.CodeStateModifiedFailed, http.StatusConflict)
	_, err = e.client.ScheduleKeyDeletion(&kms.ScheduleKeyDeletionRequest{KeyId: tea.String(id), PendingWindowInDays: tea.Int32(6)})
	se := sdkError(t, err, core.CodeInvalidParameter, http.StatusBadRequest)
	if !strings.Contains(tea.StringValue(se.Message), "PendingWindowInDays") {
		t.Errorf("message does not name PendingWindowInDays: %s", tea.StringValue(se.Message))
	}
}

func TestSDKKeyVersionsAndRotationPolicy(t *testing.T) {
	e := newEnv(t)
	id := e.createKey()
	d0, err := e.client.DescribeKey(&kms.DescribeKeyRequest{KeyId: tea.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	v1 := tea.StringValue(d0.Body.KeyMetadata.PrimaryKeyVersion)
	old, err := e.client.GenerateDataKey(&kms.GenerateDataKeyRequest{KeyId: tea.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	if tea.StringValue(old.Body.KeyVersionId) != v1 {
		t.Fatalf("data key made under %s, primary is %s", tea.StringValue(old.Body.KeyVersionId), v1)
	}

	cv, err := e.client.CreateKeyVersion(&kms.CreateKeyVersionRequest{KeyId: tea.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	v2 := tea.StringValue(cv.Body.KeyVersion.KeyVersionId)
	if v2 == v1 || !uuidFormat.MatchString(v2) || tea.StringValue(cv.Body.KeyVersion.KeyId) != id ||
		!dateFormat.MatchString(tea.StringValue(cv.Body.KeyVersion.CreationDate)) {
		t.Fatalf("CreateKeyVersion: %s", cv.Body)
	}
	d1, err := e.client.DescribeKey(&kms.DescribeKeyRequest{KeyId: tea.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	if got := tea.StringValue(d1.Body.KeyMetadata.PrimaryKeyVersion); got != v2 {
		t.Fatalf("PrimaryKeyVersion %s after rotation, want %s", got, v2)
	}

	lv, err := e.client.ListKeyVersions(&kms.ListKeyVersionsRequest{KeyId: tea.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	if tea.Int32Value(lv.Body.TotalCount) != 2 || len(lv.Body.KeyVersions.KeyVersion) != 2 ||
		tea.StringValue(lv.Body.KeyVersions.KeyVersion[0].KeyVersionId) != v1 ||
		tea.StringValue(lv.Body.KeyVersions.KeyVersion[1].KeyVersionId) != v2 {
		t.Fatalf("ListKeyVersions: %s", lv.Body)
	}
	dv, err := e.client.DescribeKeyVersion(&kms.DescribeKeyVersionRequest{KeyId: tea.String(id), KeyVersionId: tea.String(v1)})
	if err != nil {
		t.Fatal(err)
	}
	if tea.StringValue(dv.Body.KeyVersion.KeyVersionId) != v1 || !dateFormat.MatchString(tea.StringValue(dv.Body.KeyVersion.CreationDate)) {
		t.Fatalf("DescribeKeyVersion: %s", dv.Body)
	}
	_, err = e.client.DescribeKeyVersion(&kms.DescribeKeyVersionRequest{KeyId: tea.String(id), KeyVersionId: tea.String("00000000-0000-4000-8000-000000000000")})
	sdkError(t, err, core.CodeKeyNotFound, http.StatusNotFound)

	// A data key made under the old version still decrypts.
	dec, err := e.client.Decrypt(&kms.DecryptRequest{CiphertextBlob: old.Body.CiphertextBlob})
	if err != nil {
		t.Fatal(err)
	}
	if tea.StringValue(dec.Body.Plaintext) != tea.StringValue(old.Body.Plaintext) || tea.StringValue(dec.Body.KeyVersionId) != v1 {
		t.Fatalf("Decrypt of a version-1 blob: version %s", tea.StringValue(dec.Body.KeyVersionId))
	}

	if _, err := e.client.UpdateRotationPolicy(&kms.UpdateRotationPolicyRequest{KeyId: tea.String(id), EnableAutomaticRotation: tea.Bool(true), RotationInterval: tea.String("30d")}); err != nil {
		t.Fatal(err)
	}
	d2, err := e.client.DescribeKey(&kms.DescribeKeyRequest{KeyId: tea.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	m := d2.Body.KeyMetadata
	if tea.StringValue(m.AutomaticRotation) != "Enabled" || tea.StringValue(m.RotationInterval) != "2592000s" || !dateFormat.MatchString(tea.StringValue(m.NextRotationDate)) {
		t.Fatalf("rotation policy: %s %s %s", tea.StringValue(m.AutomaticRotation), tea.StringValue(m.RotationInterval), tea.StringValue(m.NextRotationDate))
	}
	_, err = e.client.UpdateRotationPolicy(&kms.UpdateRotationPolicyRequest{KeyId: tea.String(id), EnableAutomaticRotation: tea.Bool(true), RotationInterval: tea.String("1d")})
	sdkError(t, err, core.CodeInvalidParameter, http.StatusBadRequest)
	if _, err := e.client.UpdateRotationPolicy(&kms.UpdateRotationPolicyRequest{KeyId: tea.String(id), EnableAutomaticRotation: tea.Bool(false)}); err != nil {
		t.Fatal(err)
	}
	d3, err := e.client.DescribeKey(&kms.DescribeKeyRequest{KeyId: tea.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	if tea.StringValue(d3.Body.KeyMetadata.AutomaticRotation) != "Disabled" {
		t.Errorf("rotation still %s after disabling", tea.StringValue(d3.Body.KeyMetadata.AutomaticRotation))
	}
}

func TestSDKDataKeySizes(t *testing.T) {
	e := newEnv(t)
	id := e.createKey()
	cases := []struct {
		name    string
		spec    *string
		nBytes  *int32
		wantLen int
	}{
		{"default", nil, nil, 32},
		{"AES_256", tea.String("AES_256"), nil, 32},
		{"AES_128", tea.String("AES_128"), nil, 16},
		{"1 byte", nil, tea.Int32(1), 1},
		{"1024 bytes", nil, tea.Int32(1024), 1024},
		{"NumberOfBytes wins over KeySpec", tea.String("AES_128"), tea.Int32(48), 48},
		{"NumberOfBytes wins over a KeySpec it ignores", tea.String("AES_512"), tea.Int32(24), 24},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g, err := e.client.GenerateDataKey(&kms.GenerateDataKeyRequest{KeyId: tea.String(id), KeySpec: c.spec, NumberOfBytes: c.nBytes})
			if err != nil {
				t.Fatal(err)
			}
			pt, err := base64.StdEncoding.DecodeString(tea.StringValue(g.Body.Plaintext))
			if err != nil || len(pt) != c.wantLen {
				t.Fatalf("GenerateDataKey plaintext: %d bytes (%v), want %d", len(pt), err, c.wantLen)
			}
			w, err := e.client.GenerateDataKeyWithoutPlaintext(&kms.GenerateDataKeyWithoutPlaintextRequest{KeyId: tea.String(id), KeySpec: c.spec, NumberOfBytes: c.nBytes})
			if err != nil {
				t.Fatal(err)
			}
			dec, err := e.client.Decrypt(&kms.DecryptRequest{CiphertextBlob: w.Body.CiphertextBlob})
			if err != nil {
				t.Fatal(err)
			}
			pt, err = base64.StdEncoding.DecodeString(tea.StringValue(dec.Body.Plaintext))
			if err != nil || len(pt) != c.wantLen {
				t.Fatalf("GenerateDataKeyWithoutPlaintext key: %d bytes (%v), want %d", len(pt), err, c.wantLen)
			}
		})
	}
	for _, bad := range []int32{0, 1025, -1} {
		_, err := e.client.GenerateDataKeyWithoutPlaintext(&kms.GenerateDataKeyWithoutPlaintextRequest{KeyId: tea.String(id), NumberOfBytes: tea.Int32(bad)})
		se := sdkError(t, err, core.CodeInvalidParameter, http.StatusBadRequest)
		if !strings.Contains(tea.StringValue(se.Message), "NumberOfBytes") {
			t.Errorf("NumberOfBytes %d: message does not name the parameter: %s", bad, tea.StringValue(se.Message))
		}
	}
	_, err := e.client.GenerateDataKeyWithoutPlaintext(&kms.GenerateDataKeyWithoutPlaintextRequest{KeyId: tea.String(id), KeySpec: tea.String("AES_512")})
	sdkError(t, err, core.CodeInvalidParameter, http.StatusBadRequest)
}

func TestSDKGenerateDataKeyWithoutPlaintextByAliasWithContext(t *testing.T) {
	e := newEnv(t)
	id := e.createKey()
	if _, err := e.client.CreateAlias(&kms.CreateAliasRequest{AliasName: tea.String("alias/partitions"), KeyId: tea.String(id)}); err != nil {
		t.Fatal(err)
	}
	d, err := e.client.DescribeKey(&kms.DescribeKeyRequest{KeyId: tea.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := map[string]interface{}{"partition": "p-0042", "tenant": "acme"}
	g, err := e.client.GenerateDataKeyWithoutPlaintext(&kms.GenerateDataKeyWithoutPlaintextRequest{KeyId: tea.String("alias/partitions"), EncryptionContext: ctx})
	if err != nil {
		t.Fatal(err)
	}
	if tea.StringValue(g.Body.KeyId) != id {
		t.Fatalf("KeyId %q, want the real ID %q", tea.StringValue(g.Body.KeyId), id)
	}
	if tea.StringValue(g.Body.KeyVersionId) != tea.StringValue(d.Body.KeyMetadata.PrimaryKeyVersion) {
		t.Fatalf("KeyVersionId %q is not the primary version", tea.StringValue(g.Body.KeyVersionId))
	}
	if _, err := base64.StdEncoding.DecodeString(tea.StringValue(g.Body.CiphertextBlob)); err != nil {
		t.Fatalf("CiphertextBlob is not base64: %v", err)
	}
	_, err = e.client.Decrypt(&kms.DecryptRequest{CiphertextBlob: g.Body.CiphertextBlob})
	sdkError(t, err, core.CodeInvalidCiphertext, http.StatusBadRequest)
	_, err = e.client.Decrypt(&kms.DecryptRequest{CiphertextBlob: g.Body.CiphertextBlob, EncryptionContext: map[string]interface{}{"partition": "p-0043", "tenant": "acme"}})
	sdkError(t, err, core.CodeInvalidCiphertext, http.StatusBadRequest)
	dec, err := e.client.Decrypt(&kms.DecryptRequest{CiphertextBlob: g.Body.CiphertextBlob, EncryptionContext: map[string]interface{}{"tenant": "acme", "partition": "p-0042"}})
	if err != nil {
		t.Fatal(err)
	}
	if tea.StringValue(dec.Body.KeyId) != id {
		t.Errorf("Decrypt KeyId %q", tea.StringValue(dec.Body.KeyId))
	}
}

// TestSDKEncryptionContextArrivesAsJSONText checks what the SDK makes of a map
// parameter: a blob sealed by the SDK with a map opens with the same context
// given by hand as JSON text in another key order.
func TestSDKEncryptionContextArrivesAsJSONText(t *testing.T) {
	e := newEnv(t)
	id := e.createKey()
	enc, err := e.client.Encrypt(&kms.EncryptRequest{KeyId: tea.String(id), Plaintext: tea.String("c2VjcmV0"), EncryptionContext: map[string]interface{}{"a": "1", "b": "<&>"}})
	if err != nil {
		t.Fatal(err)
	}
	r := e.get(action("Decrypt", "CiphertextBlob", tea.StringValue(enc.Body.CiphertextBlob), "EncryptionContext", `{"b":"<&>","a":"1"}`))
	if r.status != http.StatusOK || !strings.Contains(string(r.body), `"Plaintext":"c2VjcmV0"`) {
		t.Fatalf("Decrypt with the context as JSON text: %d %s", r.status, r.body)
	}
}

func TestSDKEncryptDecryptReEncrypt(t *testing.T) {
	e := newEnv(t)
	src, dst := e.createKey(), e.createKey()
	pt := base64.StdEncoding.EncodeToString([]byte("the partition's data key"))
	srcCtx := map[string]interface{}{"purpose": "test"}
	enc, err := e.client.Encrypt(&kms.EncryptRequest{KeyId: tea.String(src), Plaintext: tea.String(pt), EncryptionContext: srcCtx})
	if err != nil {
		t.Fatal(err)
	}
	if tea.StringValue(enc.Body.KeyId) != src {
		t.Fatalf("Encrypt KeyId %q", tea.StringValue(enc.Body.KeyId))
	}
	dstCtx := map[string]interface{}{"purpose": "moved"}
	re, err := e.client.ReEncrypt(&kms.ReEncryptRequest{
		CiphertextBlob: enc.Body.CiphertextBlob, SourceEncryptionContext: srcCtx,
		DestinationKeyId: tea.String(dst), DestinationEncryptionContext: dstCtx,
	})
	if err != nil {
		t.Fatal(err)
	}
	if tea.StringValue(re.Body.KeyId) != dst {
		t.Fatalf("ReEncrypt KeyId %q, want %q", tea.StringValue(re.Body.KeyId), dst)
	}
	_, err = e.client.Decrypt(&kms.DecryptRequest{CiphertextBlob: re.Body.CiphertextBlob, EncryptionContext: srcCtx})
	sdkError(t, err, core.CodeInvalidCiphertext, http.StatusBadRequest)
	dec, err := e.client.Decrypt(&kms.DecryptRequest{CiphertextBlob: re.Body.CiphertextBlob, EncryptionContext: dstCtx})
	if err != nil {
		t.Fatal(err)
	}
	if tea.StringValue(dec.Body.Plaintext) != pt || tea.StringValue(dec.Body.KeyId) != dst {
		t.Fatalf("Decrypt after ReEncrypt: key %s", tea.StringValue(dec.Body.KeyId))
	}
	_, err = e.client.ReEncrypt(&kms.ReEncryptRequest{CiphertextBlob: enc.Body.CiphertextBlob, DestinationKeyId: tea.String(dst)})
	sdkError(t, err, core.CodeInvalidCiphertext, http.StatusBadRequest)
}

func TestSDKEncryptSizeLimit(t *testing.T) {
	e := newEnv(t)
	id := e.createKey()
	max := base64.StdEncoding.EncodeToString(make([]byte, core.MaxEncryptPlaintext))
	if _, err := e.client.Encrypt(&kms.EncryptRequest{KeyId: tea.String(id), Plaintext: tea.String(max)}); err != nil {
		t.Fatalf("Encrypt of %d bytes: %v", core.MaxEncryptPlaintext, err)
	}
	over := base64.StdEncoding.EncodeToString(make([]byte, core.MaxEncryptPlaintext+1))
	_, err := e.client.Encrypt(&kms.EncryptRequest{KeyId: tea.String(id), Plaintext: tea.String(over)})
	se := sdkError(t, err, core.CodeInvalidParameter, http.StatusBadRequest)
	if !strings.Contains(tea.StringValue(se.Message), "Plaintext") {
		t.Errorf("message does not name Plaintext: %s", tea.StringValue(se.Message))
	}
}

func TestSDKDryRun(t *testing.T) {
	e := newEnv(t, withPrincipal("reader", "LTAI5tReader00000000001", "reader-secret", 1000,
		core.MustPolicy(core.Statement{Effect: "Allow", Action: []string{"kms:Decrypt"}, Resource: []string{"*"}})))
	id := e.createKey()
	before, err := e.client.ListKeyVersions(&kms.ListKeyVersionsRequest{KeyId: tea.String(id)})
	if err != nil {
		t.Fatal(err)
	}

	_, err = e.client.GenerateDataKeyWithoutPlaintext(&kms.GenerateDataKeyWithoutPlaintextRequest{KeyId: tea.String(id), DryRun: tea.String("true")})
	sdkError(t, err, core.CodeDryRunOperation, http.StatusBadRequest)
	_, err = e.client.GenerateDataKeyWithoutPlaintext(&kms.GenerateDataKeyWithoutPlaintextRequest{KeyId: tea.String(id), NumberOfBytes: tea.Int32(2000), DryRun: tea.String("true")})
	sdkError(t, err, core.CodeValidation, http.StatusBadRequest)
	_, err = e.sdk("LTAI5tReader00000000001", "reader-secret").GenerateDataKeyWithoutPlaintext(&kms.GenerateDataKeyWithoutPlaintextRequest{KeyId: tea.String(id), DryRun: tea.String("true")})
	sdkError(t, err, core.CodeAccessDenied, http.StatusForbidden)
	_, err = e.client.Encrypt(&kms.EncryptRequest{KeyId: tea.String(id), Plaintext: tea.String("aGk="), DryRun: tea.String("true")})
	sdkError(t, err, core.CodeDryRunOperation, http.StatusBadRequest)
	_, err = e.client.GenerateDataKeyWithoutPlaintext(&kms.GenerateDataKeyWithoutPlaintextRequest{KeyId: tea.String(id), DryRun: tea.String("maybe")})
	sdkError(t, err, core.CodeInvalidParameter, http.StatusBadRequest)

	after, err := e.client.ListKeyVersions(&kms.ListKeyVersionsRequest{KeyId: tea.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	if tea.Int32Value(after.Body.TotalCount) != tea.Int32Value(before.Body.TotalCount) {
		t.Errorf("DryRun changed the key's versions: %d → %d", tea.Int32Value(before.Body.TotalCount), tea.Int32Value(after.Body.TotalCount))
	}
}

func TestSDKErrorCodes(t *testing.T) {
	e := newEnv(t, withPrincipal("provisioner", "LTAI5tProvisioner000001", "provisioner-secret", 1000,
		core.MustPolicy(core.Statement{Effect: "Allow", Action: []string{"kms:GenerateDataKeyWithoutPlaintext"}, Resource: []string{"acs:kms:*:*:key/*"}})))
	id := e.createKey()

	_, err := e.client.DescribeKey(&kms.DescribeKeyRequest{KeyId: tea.String("key-doesnotexist00000000000")})
	sdkError(t, err, core.CodeKeyNotFound, http.StatusNotFound)
	_, err = e.client.GenerateDataKeyWithoutPlaintext(&kms.GenerateDataKeyWithoutPlaintextRequest{KeyId: tea.String("alias/nowhere")})
	sdkError(t, err, core.CodeAliasNotFound, http.StatusNotFound)
	_, err = e.client.GenerateDataKeyWithoutPlaintext(&kms.GenerateDataKeyWithoutPlaintextRequest{})
	se := sdkError(t, err, core.CodeMissingParameter, http.StatusBadRequest)
	if !strings.Contains(tea.StringValue(se.Message), "KeyId") {
		t.Errorf("MissingParameter does not name KeyId: %s", tea.StringValue(se.Message))
	}
	_, err = e.client.Decrypt(&kms.DecryptRequest{CiphertextBlob: tea.String("bm90IGEgYmxvYg==")})
	sdkError(t, err, core.CodeInvalidCiphertext, http.StatusBadRequest)
	_, err = e.client.GenerateDataKeyWithoutPlaintext(&kms.GenerateDataKeyWithoutPlaintextRequest{KeyId: tea.String(id), EncryptionContext: map[string]interface{}{"n": 1}})
	se = sdkError(t, err, core.CodeInvalidParameter, http.StatusBadRequest)
	if !strings.Contains(tea.StringValue(se.Message), "EncryptionContext") {
		t.Errorf("message does not name EncryptionContext: %s", tea.StringValue(se.Message))
	}

	prov := e.sdk("LTAI5tProvisioner000001", "provisioner-secret")
	g, err := prov.GenerateDataKeyWithoutPlaintext(&kms.GenerateDataKeyWithoutPlaintextRequest{KeyId: tea.String(id)})
	if err != nil {
		t.Fatalf("provisioner may mint data keys: %v", err)
	}
	_, err = prov.Decrypt(&kms.DecryptRequest{CiphertextBlob: g.Body.CiphertextBlob})
	sdkError(t, err, core.CodeNoPermission, http.StatusForbidden)

	_, err = e.sdk("LTAI5tNobody0000000001", "whatever").DescribeKey(&kms.DescribeKeyRequest{KeyId: tea.String(id)})
	sdkError(t, err, core.CodeInvalidAccessKeyID, http.StatusNotFound)
}
