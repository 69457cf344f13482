package rpc_test

import (
	"crypto/ecdh"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/audit"
	"github.com/kmsless/kmsless/infra/edge"
	"github.com/kmsless/kmsless/infra/metrics"
	"github.com/kmsless/kmsless/internal/syncbuf"
)

var chainKey = []byte("0123456789abcdef0123456789abcdef")

// audited is an env whose edge records to a file and counts.
type audited struct {
	*env
	path    string
	metrics *metrics.Set
	edgeLog *syncbuf.Buffer
}

func newAudited(t *testing.T, sink string, configure ...func(*setup)) *audited {
	t.Helper()
	logs := &syncbuf.Buffer{}
	e := edge.New(slog.New(slog.NewTextHandler(logs, nil)))
	en := newEnv(t, append(configure, func(s *setup) { s.opts.Edge = e })...)
	w, closeSink, err := audit.Sink(sink)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeSink() })
	m := metrics.New(nil)
	e.Record(audit.New(w, chainKey), en.kms, m)
	return &audited{env: en, path: sink, metrics: m, edgeLog: logs}
}

// records reads the trail, verifying it.
func (a *audited) records(t *testing.T) ([]audit.Record, string) {
	t.Helper()
	text, err := os.ReadFile(a.path)
	if err != nil {
		t.Fatal(err)
	}
	var recs []audit.Record
	v := audit.NewVerifier(chainKey)
	v.Each = func(r audit.Record) { recs = append(recs, r) }
	if err := v.Read(a.path, strings.NewReader(string(text))); err != nil {
		t.Fatal(err)
	}
	if problems, _, _ := v.Result(); len(problems) > 0 {
		t.Fatalf("trail does not verify: %v", problems)
	}
	return recs, string(text)
}

var requestIDIn = regexp.MustCompile(`"RequestId":\s*"([^"]+)"`)

type expect struct {
	action, code string
	context      map[string]string
	resources    []string
	// kept are request parameters the record must keep, by record name;
	// keptJSON the same, as JSON.
	kept, keptJSON map[string]string
}

func TestEveryRequestLeavesOneRecordWithNoSecret(t *testing.T) {
	const readerID, readerSecret = "LTAI5tReader00000000002", "reader-secret-audit"
	const slowID, slowSecret = "LTAI5tSlow0000000000003", "slow-secret-audit"
	a := newAudited(t, filepath.Join(t.TempDir(), "audit.jsonl"),
		withPrincipal("reader", readerID, readerSecret, 1000,
			core.MustPolicy(core.Statement{Effect: "Allow", Action: []string{"kms:Decrypt"}, Resource: []string{"*"}})),
		withPrincipal("slow", slowID, slowSecret, 1, core.FullAccess()))
	want := map[string]expect{}
	var secrets []string
	ok := func(id *string, action string, ex expect) {
		ex.action = action
		want[tea.StringValue(id)] = ex
	}
	failed := func(err error, action, code string) {
		t.Helper()
		var se *tea.SDKError
		if err == nil || !asSDK(err, &se) || tea.StringValue(se.Code) != code {
			t.Fatalf("%s: want %s, got %v", action, code, err)
		}
		m := requestIDIn.FindStringSubmatch(tea.StringValue(se.Data))
		if m == nil {
			t.Fatalf("%s: no RequestId in %s", action, tea.StringValue(se.Data))
		}
		want[m[1]] = expect{action: action, code: code}
	}
	c := a.client

	ck, err := c.CreateKey(&kms.CreateKeyRequest{})
	if err != nil {
		t.Fatal(err)
	}
	key := *ck.Body.KeyMetadata.KeyId
	keyARN := a.kms.KeyARN(key)
	ok(ck.Body.RequestId, "CreateKey", expect{resources: []string{keyARN}})
	ca, err := c.CreateAlias(&kms.CreateAliasRequest{AliasName: tea.String("alias/orders"), KeyId: tea.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	ok(ca.Body.RequestId, "CreateAlias", expect{resources: []string{a.kms.AliasARN("alias/orders"), keyARN}})
	ctx := map[string]string{"PartitionId": "p-17"}
	ctxJSON, _ := json.Marshal(ctx)
	gw, err := c.GenerateDataKeyWithoutPlaintext(&kms.GenerateDataKeyWithoutPlaintextRequest{KeyId: tea.String("alias/orders"),
		EncryptionContext: map[string]any{"PartitionId": "p-17"}})
	if err != nil {
		t.Fatal(err)
	}
	ok(gw.Body.RequestId, "GenerateDataKeyWithoutPlaintext", expect{context: ctx, resources: []string{keyARN, a.kms.AliasARN("alias/orders")}})
	secrets = append(secrets, *gw.Body.CiphertextBlob)
	gd, err := c.GenerateDataKey(&kms.GenerateDataKeyRequest{KeyId: tea.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	ok(gd.Body.RequestId, "GenerateDataKey", expect{resources: []string{keyARN}})
	secrets = append(secrets, *gd.Body.Plaintext, *gd.Body.CiphertextBlob)
	plain := base64.StdEncoding.EncodeToString([]byte("the plaintext of this run"))
	en, err := c.Encrypt(&kms.EncryptRequest{KeyId: tea.String(key), Plaintext: tea.String(plain)})
	if err != nil {
		t.Fatal(err)
	}
	ok(en.Body.RequestId, "Encrypt", expect{resources: []string{keyARN}})
	secrets = append(secrets, plain, *en.Body.CiphertextBlob)
	reader := a.sdk(readerID, readerSecret)
	de, err := reader.Decrypt(&kms.DecryptRequest{CiphertextBlob: gw.Body.CiphertextBlob, EncryptionContext: map[string]any{"PartitionId": "p-17"}})
	if err != nil {
		t.Fatal(err)
	}
	ok(de.Body.RequestId, "Decrypt", expect{context: ctx, resources: []string{keyARN}})
	secrets = append(secrets, *de.Body.Plaintext)
	pub := publicKeyBlob(t, &exportKey().PublicKey)
	ex, err := c.ExportDataKey(&kms.ExportDataKeyRequest{CiphertextBlob: gw.Body.CiphertextBlob, EncryptionContext: map[string]any{"PartitionId": "p-17"},
		PublicKeyBlob: pub, WrappingKeySpec: tea.String("RSA_2048"), WrappingAlgorithm: tea.String("RSAES_OAEP_SHA_256")})
	if err != nil {
		t.Fatal(err)
	}
	ok(ex.Body.RequestId, "ExportDataKey", expect{context: ctx, resources: []string{keyARN},
		kept: map[string]string{"wrappingAlgorithm": "RSAES_OAEP_SHA_256", "wrappingKeySpec": "RSA_2048"}})
	secrets = append(secrets, *ex.Body.ExportedDataKey)
	ge, err := c.GenerateAndExportDataKey(&kms.GenerateAndExportDataKeyRequest{KeyId: tea.String(key),
		PublicKeyBlob: pub, WrappingKeySpec: tea.String("RSA_2048"), WrappingAlgorithm: tea.String("RSAES_OAEP_SHA_1")})
	if err != nil {
		t.Fatal(err)
	}
	ok(ge.Body.RequestId, "GenerateAndExportDataKey", expect{resources: []string{keyARN}, kept: map[string]string{"wrappingAlgorithm": "RSAES_OAEP_SHA_1"}})
	secrets = append(secrets, *ge.Body.ExportedDataKey, *ge.Body.CiphertextBlob)
	pair, err := callAPI(t, c, "GenerateDataKeyPair", map[string]any{"KeyId": key, "KeyPairSpec": "ECC_NIST_P256", "EncryptionContext": string(ctxJSON)})
	if err != nil {
		t.Fatal(err)
	}
	ok(tea.String(pair["RequestId"].(string)), "GenerateDataKeyPair", expect{context: ctx, resources: []string{keyARN}, kept: map[string]string{"keyPairSpec": "ECC_NIST_P256"}})
	secrets = append(secrets, pair["PrivateKeyPlaintext"].(string), pair["PrivateKeyCiphertextBlob"].(string))
	hk, err := c.CreateKey(&kms.CreateKeyRequest{KeySpec: tea.String("HMAC_512")})
	if err != nil {
		t.Fatal(err)
	}
	hmacKey := tea.StringValue(hk.Body.KeyMetadata.KeyId)
	ok(hk.Body.RequestId, "CreateKey", expect{resources: []string{a.kms.KeyARN(hmacKey)}, kept: map[string]string{"keySpec": "HMAC_512"}})
	secrets = append(secrets, base64.StdEncoding.EncodeToString([]byte("a message kept from the trail")))
	mac, err := callAPI(t, c, "GenerateMac", map[string]any{"KeyId": hmacKey, "Message": secrets[len(secrets)-1], "MacAlgorithm": "HMAC_SHA_512"})
	if err != nil {
		t.Fatal(err)
	}
	ok(tea.String(mac["RequestId"].(string)), "GenerateMac", expect{resources: []string{a.kms.KeyARN(hmacKey)}, kept: map[string]string{"macAlgorithm": "HMAC_SHA_512"}})
	secrets = append(secrets, mac["Mac"].(string))
	ak, err := c.CreateKey(&kms.CreateKeyRequest{KeySpec: tea.String("ECC_NIST_P256"), KeyUsage: tea.String("KEY_AGREEMENT")})
	if err != nil {
		t.Fatal(err)
	}
	agreer := tea.StringValue(ak.Body.KeyMetadata.KeyId)
	ok(ak.Body.RequestId, "CreateKey", expect{resources: []string{a.kms.KeyARN(agreer)}, kept: map[string]string{"keySpec": "ECC_NIST_P256", "keyUsage": "KEY_AGREEMENT"}})
	peer, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	peerDER, err := x509.MarshalPKIXPublicKey(peer.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	derived, err := callAPI(t, c, "DeriveSharedSecret", map[string]any{"KeyId": agreer, "KeyAgreementAlgorithm": "ECDH", "PublicKey": base64.StdEncoding.EncodeToString(peerDER)})
	if err != nil {
		t.Fatal(err)
	}
	ok(tea.String(derived["RequestId"].(string)), "DeriveSharedSecret", expect{resources: []string{a.kms.KeyARN(agreer)}, kept: map[string]string{"keyAgreementAlgorithm": "ECDH"}})
	secrets = append(secrets, derived["SharedSecret"].(string))
	kk, err := c.CreateKey(&kms.CreateKeyRequest{KeySpec: tea.String("ML_KEM_768")})
	if err != nil {
		t.Fatal(err)
	}
	kemKey := tea.StringValue(kk.Body.KeyMetadata.KeyId)
	ok(kk.Body.RequestId, "CreateKey", expect{resources: []string{a.kms.KeyARN(kemKey)}, kept: map[string]string{"keySpec": "ML_KEM_768"}})
	enc, err := callAPI(t, c, "Encapsulate", map[string]any{"KeyId": kemKey, "EncapsulationAlgorithm": "ML_KEM"})
	if err != nil {
		t.Fatal(err)
	}
	ok(tea.String(enc["RequestId"].(string)), "Encapsulate", expect{resources: []string{a.kms.KeyARN(kemKey)}, kept: map[string]string{"encapsulationAlgorithm": "ML_KEM"}})
	dec, err := callAPI(t, c, "Decapsulate", map[string]any{"KeyId": kemKey, "EncapsulationAlgorithm": "ML_KEM", "SharedSecretCiphertextBlob": enc["SharedSecretCiphertextBlob"]})
	if err != nil {
		t.Fatal(err)
	}
	if dec["SharedSecret"] != enc["SharedSecret"] || dec["EncapsulationAlgorithm"] != "ML_KEM" {
		t.Errorf("Decapsulate through the generic call: %v", dec)
	}
	ok(tea.String(dec["RequestId"].(string)), "Decapsulate", expect{resources: []string{a.kms.KeyARN(kemKey)}, kept: map[string]string{"encapsulationAlgorithm": "ML_KEM"}})
	secrets = append(secrets, enc["SharedSecret"].(string))
	dk, err := c.DescribeKey(&kms.DescribeKeyRequest{KeyId: tea.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	ok(dk.Body.RequestId, "DescribeKey", expect{resources: []string{keyARN}})
	other, err := c.CreateKey(&kms.CreateKeyRequest{})
	if err != nil {
		t.Fatal(err)
	}
	otherARN := a.kms.KeyARN(*other.Body.KeyMetadata.KeyId)
	ok(other.Body.RequestId, "CreateKey", expect{resources: []string{otherARN}})
	tr, err := c.TagResources(&kms.TagResourcesRequest{ResourceType: tea.String("key"), ResourceId: tea.StringSlice([]string{key, *other.Body.KeyMetadata.KeyId}),
		Tag: []*kms.TagResourcesRequestTag{{Key: tea.String("env"), Value: tea.String("prod")}}})
	if err != nil {
		t.Fatal(err)
	}
	ok(tr.Body.RequestId, "TagResources", expect{resources: []string{keyARN, otherARN},
		keptJSON: map[string]string{"tags": `[{"TagKey":"env","TagValue":"prod"}]`}})
	ur, err := c.UntagResources(&kms.UntagResourcesRequest{ResourceType: tea.String("key"), ResourceId: tea.StringSlice([]string{key, *other.Body.KeyMetadata.KeyId}),
		TagKey: tea.StringSlice([]string{"env"})})
	if err != nil {
		t.Fatal(err)
	}
	ok(ur.Body.RequestId, "UntagResources", expect{resources: []string{keyARN, otherARN}, keptJSON: map[string]string{"tagKeys": `["env"]`}})

	_, err = reader.GenerateDataKey(&kms.GenerateDataKeyRequest{KeyId: tea.String(key)})
	failed(err, "GenerateDataKey", core.CodeNoPermission)
	_, err = a.sdk(adminID, "not-the-secret").DescribeKey(&kms.DescribeKeyRequest{KeyId: tea.String(key)})
	failed(err, "Unknown", core.CodeSignatureDoesNotMatch)
	slow := a.sdk(slowID, slowSecret)
	throttled := 0
	for throttled == 0 {
		r, err := slow.ListKeys(&kms.ListKeysRequest{})
		if err != nil {
			failed(err, "ListKeys", core.CodeThrottling)
			throttled++
			continue
		}
		ok(r.Body.RequestId, "ListKeys", expect{})
	}
	secrets = append(secrets, adminSecret, readerSecret, slowSecret, "not-the-secret", "Signature=")

	recs, text := a.records(t)
	seen := map[string]int{}
	for _, r := range recs {
		seen[r.RequestID]++
		ex, known := want[r.RequestID]
		if !known {
			t.Errorf("record of a request the workload did not make: %+v", r)
			continue
		}
		if r.EventName != ex.action || r.ErrorCode != ex.code || (r.ErrorCode != "") != (r.ErrorMessage != "") {
			t.Errorf("%s: record %s/%q(%q), want %s/%q", r.RequestID, r.EventName, r.ErrorCode, r.ErrorMessage, ex.action, ex.code)
		}
		if ex.context != nil {
			got, _ := json.Marshal(r.RequestParameters["encryptionContext"])
			if string(got) != string(ctxJSON) {
				t.Errorf("%s %s: encryptionContext %s, want %s", r.EventName, r.RequestID, got, ctxJSON)
			}
		}
		for name, v := range ex.kept {
			if got := r.RequestParameters[name]; got != v {
				t.Errorf("%s %s: requestParameters.%s %v, want %s", r.EventName, r.RequestID, name, got, v)
			}
		}
		for name, v := range ex.keptJSON {
			if got, _ := json.Marshal(r.RequestParameters[name]); string(got) != v {
				t.Errorf("%s %s: requestParameters.%s %s, want %s", r.EventName, r.RequestID, name, got, v)
			}
		}
		for _, arn := range ex.resources {
			if !slices.ContainsFunc(r.Resources, func(res audit.Resource) bool { return res.ARN == arn }) {
				t.Errorf("%s %s: resources %v lack %s", r.EventName, r.RequestID, r.Resources, arn)
			}
		}
	}
	for id := range want {
		if seen[id] != 1 {
			t.Errorf("RequestId %s (%s) is in %d records, want 1", id, want[id].action, seen[id])
		}
	}
	for _, s := range secrets {
		if strings.Contains(text, s) {
			t.Errorf("the trail holds a secret of the run: %.12s…", s)
		}
	}

	// The metrics count the same workload.
	srv := httptest.NewServer(promhttp.HandlerFor(a.metrics.Registry, promhttp.HandlerOpts{}))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]float64{}
	total := 0.0
	for _, m := range families["kms_requests_total"].GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		counts[labels["action"]+"/"+labels["outcome"]] += m.GetCounter().GetValue()
		total += m.GetCounter().GetValue()
		if strings.Contains(labels["action"]+labels["outcome"], key) {
			t.Errorf("a key ID in a label: %v", labels)
		}
	}
	if int(total) != len(want) {
		t.Errorf("kms_requests_total sums to %v, want %d requests", total, len(want))
	}
	for action, n := range map[string]float64{"Decrypt/OK": 1, "GenerateDataKey/OK": 1, "GenerateDataKey/Forbidden.NoPermission": 1,
		"unknown/SignatureDoesNotMatch": 1, "ListKeys/Rejected.Throttling": 1} {
		if counts[action] != n {
			t.Errorf("%s counted %v times, want %v (all: %v)", action, counts[action], n, counts)
		}
	}
	if got := families["kms_throttled_requests_total"].GetMetric()[0].GetCounter().GetValue(); got != 1 {
		t.Errorf("kms_throttled_requests_total %v, want 1", got)
	}
	if h := families["kms_request_duration_seconds"]; h == nil || len(h.GetMetric()) == 0 {
		t.Error("no latency histogram")
	}
	if _, ok := families["kms_cache_hit_ratio"]; !ok {
		t.Error("no cache hit ratio")
	}
}

func asSDK(err error, se **tea.SDKError) bool {
	e, ok := err.(*tea.SDKError)
	*se = e
	return ok
}

// TestFullAuditSinkWithholdsKeyUseButAnswersReads: with a sink that takes no
// byte (/dev/full), a request that would use or change a key fails with
// ServiceUnavailableTemporary; a metadata read and a refusal keep their answer.
func TestFullAuditSinkWithholdsKeyUseButAnswersReads(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full")
	}
	a := newAudited(t, "/dev/full", withPrincipal("reader", "LTAI5tReader00000000004", "reader-secret-full", 1000,
		core.MustPolicy(core.Statement{Effect: "Allow", Action: []string{"kms:DescribeKey"}, Resource: []string{"*"}})))
	_, err := a.client.CreateKey(&kms.CreateKeyRequest{})
	sdkError(t, err, core.CodeServiceUnavailableTemporary, http.StatusServiceUnavailable)
	keys, err := a.client.ListKeys(&kms.ListKeysRequest{})
	if err != nil {
		t.Fatalf("a read failed with the sink: %v", err)
	}
	if n := len(keys.Body.Keys.Key); n != 1 {
		t.Fatalf("%d keys: the withheld CreateKey took effect, as documented, so want 1", n)
	}
	key := *keys.Body.Keys.Key[0].KeyId
	_, err = a.client.GenerateDataKeyWithoutPlaintext(&kms.GenerateDataKeyWithoutPlaintextRequest{KeyId: tea.String(key)})
	sdkError(t, err, core.CodeServiceUnavailableTemporary, http.StatusServiceUnavailable)
	_, err = a.client.Encrypt(&kms.EncryptRequest{KeyId: tea.String(key), Plaintext: tea.String("aGk=")})
	sdkError(t, err, core.CodeServiceUnavailableTemporary, http.StatusServiceUnavailable)
	_, err = a.sdk("LTAI5tReader00000000004", "reader-secret-full").Encrypt(&kms.EncryptRequest{KeyId: tea.String(key), Plaintext: tea.String("aGk=")})
	sdkError(t, err, core.CodeNoPermission, http.StatusForbidden)
	if _, err := a.client.DescribeKey(&kms.DescribeKeyRequest{KeyId: tea.String(key)}); err != nil {
		t.Fatalf("DescribeKey: %v", err)
	}
	if !strings.Contains(a.edgeLog.String(), "audit record not written") {
		t.Error("the lost records left no line in the service log")
	}
}

// TestTinyDiskFillsWithoutAHalfWrittenRecord fills a 16 KiB tmpfs with the
// trail (it needs to mount one, so it runs as root only): once the disk is
// full, key use fails cleanly, reads are answered, and the file holds whole,
// verifiable records only.
func TestTinyDiskFillsWithoutAHalfWrittenRecord(t *testing.T) {
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", dir).Run() })
	a := newAudited(t, filepath.Join(dir, "audit.jsonl"))
	key := a.createKey()
	ok := 1 // CreateKey
	for {
		_, err := a.client.Encrypt(&kms.EncryptRequest{KeyId: tea.String(key), Plaintext: tea.String("aGk="),
			EncryptionContext: map[string]any{"filler": strings.Repeat("x", 200)}})
		if err != nil {
			sdkError(t, err, core.CodeServiceUnavailableTemporary, http.StatusServiceUnavailable)
			break
		}
		ok++
		if ok > 1000 {
			t.Fatal("a 16 KiB disk never filled")
		}
	}
	if _, err := a.client.DescribeKey(&kms.DescribeKeyRequest{KeyId: tea.String(key)}); err != nil {
		t.Fatalf("a read on a full disk: %v", err)
	}
	recs, text := a.records(t)
	if !strings.HasSuffix(text, "\n") || len(recs) < ok {
		t.Fatalf("%d whole records for %d answered key uses; ends %q", len(recs), ok, text[max(0, len(text)-40):])
	}
}
