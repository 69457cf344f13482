package rpc_test

// Attacks on a running service, mounted through the official SDK or raw signed
// requests, each shown refused.

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/rpc"
	"github.com/kmsless/kmsless/infra/store/postgres"
	"github.com/kmsless/kmsless/infra/store/storetest"
	"github.com/kmsless/kmsless/internal/signtest"
	"github.com/kmsless/kmsless/internal/testclock"
)

const (
	aliaserID, aliaserSecret = "LTAI5tAliaser0000000001", "aliaser-secret"
	userID, userSecret       = "LTAI5tUser0000000000001", "user-secret"
)

// clientFor serves the env's KMS to other principals, on a listener of their
// own, and returns an SDK client signing as the first of them.
func (e *env) clientFor(ps ...core.Principal) *kms.Client {
	e.t.Helper()
	dir, err := core.NewDirectory(ps)
	if err != nil {
		e.t.Fatal(err)
	}
	srv := httptest.NewServer(rpc.New(rpc.Options{ClockSkew: 15 * time.Minute, MaxBody: 1 << 20, KMS: e.kms, Principals: dir}))
	e.t.Cleanup(srv.Close)
	c, err := kms.NewClient(&openapi.Config{
		AccessKeyId: tea.String(ps[0].AccessKeyID), AccessKeySecret: tea.String(string(ps[0].Secret.Bytes())),
		Endpoint: tea.String(strings.TrimPrefix(srv.URL, "http://")), Protocol: tea.String("http"), RegionId: tea.String(testRegion),
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *env) alias(name, keyID string) {
	e.t.Helper()
	if _, err := e.client.CreateAlias(&kms.CreateAliasRequest{AliasName: tea.String(name), KeyId: tea.String(keyID)}); err != nil {
		e.t.Fatalf("CreateAlias %s: %v", name, err)
	}
}

// TestAliasTargetMustBeAKeyInEverySpelling: a caller allowed to manage aliases
// and to use one key must not reach another key by naming, as the target of
// its alias, an alias of that key.
func TestAliasTargetMustBeAKeyInEverySpelling(t *testing.T) {
	e := newEnv(t)
	mine, theirs := e.createKey(), e.createKey()
	e.alias("alias/app-b", theirs)
	policy := core.MustPolicy([]core.Statement{
		{Effect: "Allow", Action: []string{"kms:CreateAlias", "kms:UpdateAlias"}, Resource: []string{"acs:kms:*:*:alias/*", keyARN(mine)}},
		{Effect: "Allow", Action: []string{"kms:GenerateDataKey"}, Resource: []string{"acs:kms:*:*:alias/mine-*"}},
	}...)
	c := e.clientFor(core.Principal{Name: "aliaser", AccessKeyID: aliaserID, Secret: core.NewSecret(aliaserSecret), Policy: policy})

	aliasARN := "acs:kms:" + testRegion + ":" + testAccount + ":alias/app-b"
	for _, target := range []string{"alias/app-b", aliasARN, keyARN("alias/app-b"), "acs:kms:" + testRegion + ":" + testAccount + ":key/alias/app-b"} {
		_, err := c.CreateAlias(&kms.CreateAliasRequest{AliasName: tea.String("alias/mine-1"), KeyId: tea.String(target)})
		sdkError(t, err, core.CodeInvalidParameter, http.StatusBadRequest)
	}
	// Naming the other key itself needs the key's own authorization.
	_, err := c.CreateAlias(&kms.CreateAliasRequest{AliasName: tea.String("alias/mine-1"), KeyId: tea.String(theirs)})
	sdkError(t, err, core.CodeNoPermission, http.StatusForbidden)

	if _, err := c.CreateAlias(&kms.CreateAliasRequest{AliasName: tea.String("alias/mine-1"), KeyId: tea.String(keyARN(mine))}); err != nil {
		t.Fatalf("an alias of the caller's own key: %v", err)
	}
	for _, target := range []string{aliasARN, keyARN("alias/app-b"), theirs} {
		_, err := c.UpdateAlias(&kms.UpdateAliasRequest{AliasName: tea.String("alias/mine-1"), KeyId: tea.String(target)})
		if err == nil {
			t.Fatalf("UpdateAlias to %s succeeded", target)
		}
	}
	r, err := c.GenerateDataKey(&kms.GenerateDataKeyRequest{KeyId: tea.String("alias/mine-1")})
	if err != nil || tea.StringValue(r.Body.KeyId) != mine {
		t.Fatalf("alias/mine-1 leads to %v (%v), want the caller's own key %s", tea.StringValue(r.Body.KeyId), err, mine)
	}
}

// TestDenyOnAliasGuardsThatNameOnly pins down the rule the README states: a
// Deny on an alias refuses requests that name the key by that alias; the key
// itself is guarded by a Deny on its own ARN, whatever name reaches it.
func TestDenyOnAliasGuardsThatNameOnly(t *testing.T) {
	e := newEnv(t)
	k := e.createKey()
	e.alias("alias/app-a", k)
	e.alias("alias/app-b", k)
	allowAll := core.Statement{Effect: "Allow", Action: []string{"kms:*"}, Resource: []string{"*"}}
	deny := func(resource string) *core.Policy {
		return core.MustPolicy([]core.Statement{allowAll,
			{Effect: "Deny", Action: []string{"kms:GenerateDataKey"}, Resource: []string{resource}}}...)
	}
	for _, tc := range []struct {
		denied   string
		refused  []string
		admitted []string
	}{
		{"acs:kms:*:*:alias/app-a", []string{"alias/app-a", "acs:kms:" + testRegion + ":" + testAccount + ":alias/app-a"}, []string{"alias/app-b", k, keyARN(k)}},
		{keyARN(k), []string{"alias/app-a", "alias/app-b", k, keyARN(k)}, nil},
	} {
		c := e.clientFor(core.Principal{Name: "user", AccessKeyID: userID, Secret: core.NewSecret(userSecret), Policy: deny(tc.denied)})
		for _, ref := range tc.refused {
			_, err := c.GenerateDataKey(&kms.GenerateDataKeyRequest{KeyId: tea.String(ref)})
			sdkError(t, err, core.CodeNoPermission, http.StatusForbidden)
		}
		for _, ref := range tc.admitted {
			if _, err := c.GenerateDataKey(&kms.GenerateDataKeyRequest{KeyId: tea.String(ref)}); err != nil {
				t.Fatalf("Deny on %s: GenerateDataKey by %s: %v", tc.denied, ref, err)
			}
		}
	}
}

// TestCorruptBlobIDsAreInvalidCiphertextOnEveryStore: IDs of NUL or 0xFF bytes
// inside a blob are refused when the blob is parsed, before any store sees them.
func TestCorruptBlobIDsAreInvalidCiphertextOnEveryStore(t *testing.T) {
	stores := map[string]func(*setup){
		"bolt": func(*setup) {},
		"postgres": func(s *setup) {
			st, err := postgres.Open(context.Background(), storetest.PostgresDatabase(t, "kms_blob_"))
			if err != nil {
				t.Fatal(err)
			}
			s.store = st
		},
	}
	for name, withStore := range stores {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, withStore)
			k := e.createKey()
			r, err := e.client.GenerateDataKeyWithoutPlaintext(&kms.GenerateDataKeyWithoutPlaintextRequest{KeyId: tea.String(k)})
			if err != nil {
				t.Fatal(err)
			}
			good, _ := base64.StdEncoding.DecodeString(tea.StringValue(r.Body.CiphertextBlob))
			version := tea.StringValue(r.Body.KeyVersionId)
			versionAt := 3 + len(k)
			for _, bad := range []byte{0x00, 0xff, '/', '%'} {
				blob := append([]byte(nil), good...)
				blob[versionAt] = bad
				blob[versionAt+len(version)-1] = bad
				_, err := e.client.Decrypt(&kms.DecryptRequest{CiphertextBlob: tea.String(base64.StdEncoding.EncodeToString(blob))})
				sdkError(t, err, core.CodeInvalidCiphertext, http.StatusBadRequest)
				blob = append([]byte(nil), good...)
				blob[2] = bad // the key ID
				_, err = e.client.Decrypt(&kms.DecryptRequest{CiphertextBlob: tea.String(base64.StdEncoding.EncodeToString(blob))})
				sdkError(t, err, core.CodeInvalidCiphertext, http.StatusBadRequest)
			}
			if strings.Contains(e.logs.String(), "level=ERROR") {
				t.Fatalf("a corrupt blob was logged as an internal error:\n%s", e.logs.String())
			}
		})
	}
}

// TestLoneSurrogateContextsAreRefused: encoding/json reads "\ud800", "\udfff"
// and "\ufffd" as one string; three contexts must not share one AAD.
func TestLoneSurrogateContextsAreRefused(t *testing.T) {
	e := newEnv(t)
	k := e.createKey()
	for _, ctx := range []string{`{"a":"\ud800"}`, `{"a":"\udfff"}`, `{"\ud800":"a"}`, "{\"a\":\"\xff\"}"} {
		for _, act := range []string{"Encrypt", "GenerateDataKeyWithoutPlaintext"} {
			r := e.get(action(act, "KeyId", k, "Plaintext", "aGk=", "EncryptionContext", ctx))
			if code, _ := r.errorBody(t); r.status != http.StatusBadRequest || code != core.CodeInvalidParameter {
				t.Fatalf("%s with context %q: %d %s, want InvalidParameter", act, ctx, r.status, code)
			}
		}
	}
	// A genuine U+FFFD is a context like any other, and its blob opens with it
	// alone.
	enc, err := e.client.Encrypt(&kms.EncryptRequest{KeyId: tea.String(k), Plaintext: tea.String("aGk="),
		EncryptionContext: map[string]any{"a": "\ufffd"}})
	if err != nil {
		t.Fatal(err)
	}
	blob := tea.StringValue(enc.Body.CiphertextBlob)
	if _, err := e.client.Decrypt(&kms.DecryptRequest{CiphertextBlob: tea.String(blob), EncryptionContext: map[string]any{"a": "\ufffd"}}); err != nil {
		t.Fatal(err)
	}
	r := e.get(action("Decrypt", "CiphertextBlob", blob, "EncryptionContext", `{"a":"\udfff"}`))
	if code, _ := r.errorBody(t); code != core.CodeInvalidParameter {
		t.Fatalf("Decrypt with a lone surrogate context: %d %s, want InvalidParameter", r.status, code)
	}
}

// TestSDKSeesAlibabasThrottlingCode: the code Alibaba's clients retry on.
func TestSDKSeesAlibabasThrottlingCode(t *testing.T) {
	e := newEnv(t, withPrincipal("slow", userID, userSecret, 1, core.FullAccess()))
	c := e.sdk(userID, userSecret)
	var err error
	for range 3 {
		if _, err = c.ListKeys(&kms.ListKeysRequest{}); err != nil {
			break
		}
	}
	se := sdkError(t, err, "Rejected.Throttling", http.StatusTooManyRequests)
	if tea.StringValue(se.Message) == "" || !strings.Contains(tea.StringValue(se.Message), "QPS Limit Exceeded") {
		t.Fatalf("message %q", tea.StringValue(se.Message))
	}
}

// TestReadsOfAnExpiredKeyWriteNothing: a DryRun Decrypt, or any read, of a key
// past its deletion date leaves the store as it was.
func TestReadsOfAnExpiredKeyWriteNothing(t *testing.T) {
	clock := testclock.New(time.Now())
	e := newEnv(t, func(s *setup) { s.clock = clock })
	store := e.kms.Store()
	k := e.createKey()
	r, err := e.client.GenerateDataKeyWithoutPlaintext(&kms.GenerateDataKeyWithoutPlaintextRequest{KeyId: tea.String(k)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.ScheduleKeyDeletion(&kms.ScheduleKeyDeletionRequest{KeyId: tea.String(k), PendingWindowInDays: tea.Int32(7)}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(8 * 24 * time.Hour)
	// Signed at the service's time, now past the key's deletion date.
	at := func(params url.Values) rawResponse {
		p := signtest.V1(http.MethodGet, params, adminID, adminSecret, clock.Now())
		return e.do(mustRequest(t, http.MethodGet, e.srv.URL+"/?"+p.Encode(), ""))
	}
	resp := at(action("Decrypt", "CiphertextBlob", tea.StringValue(r.Body.CiphertextBlob), "DryRun", "true"))
	if code, _ := resp.errorBody(t); code != core.CodeValidation {
		t.Fatalf("DryRun Decrypt: %d %s, want ValidationError", resp.status, code)
	}
	resp = at(action("DescribeKey", "KeyId", k))
	if code, _ := resp.errorBody(t); resp.status != http.StatusNotFound || code != core.CodeKeyNotFound {
		t.Fatalf("DescribeKey: %d %s, want Forbidden.KeyNotFound", resp.status, code)
	}
	if got, err := store.GetKey(context.Background(), k); err != nil || got.State != core.KeyPendingDeletion {
		t.Fatalf("after reads the stored key is %+v, %v; want it untouched", got, err)
	}
}

// TestPerActionHandlerServesOnlyTheActionItsSignatureCovers: a per-action
// function dispatches on the action the signature covers, and refuses any
// other once the caller is known.
func TestPerActionHandlerServesOnlyTheActionItsSignatureCovers(t *testing.T) {
	e := newEnv(t)
	k := e.createKey()
	srv := httptest.NewServer(rpc.New(rpc.Options{ClockSkew: 15 * time.Minute, MaxBody: 1 << 20, KMS: e.kms, Principals: e.dir, Action: "GenerateDataKeyWithoutPlaintext"}))
	t.Cleanup(srv.Close)
	send := func(act string) rawResponse {
		p := signV1(http.MethodGet, action(act, "KeyId", k), adminID, adminSecret)
		return e.do(mustRequest(t, http.MethodGet, srv.URL+"/?"+p.Encode(), ""))
	}
	if r := send("GenerateDataKeyWithoutPlaintext"); r.status != http.StatusOK {
		t.Fatalf("its own action: %d %s", r.status, r.body)
	}
	r := send("GenerateDataKey")
	if code, msg := r.errorBody(t); code != core.CodeInvalidParameter || !strings.Contains(msg, "GenerateDataKeyWithoutPlaintext action only") {
		t.Fatalf("another action: %d %s %q", r.status, code, msg)
	}
}
