package platform

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/audit"
	"github.com/kmsless/kmsless/internal/syncbuf"
)

// principalsYAML is a principals file of full-access principals, each an
// accessKeyId and its secret, named by the accessKeyId in lower case.
func principalsYAML(pairs ...string) []byte {
	var b strings.Builder
	b.WriteString("principals:\n")
	for i := 0; i < len(pairs); i += 2 {
		fmt.Fprintf(&b, "  - name: %s\n    accessKeyId: %s\n    accessKeySecret: %q\n", strings.ToLower(pairs[i]), pairs[i], pairs[i+1])
		b.WriteString("    policy: {Version: \"1\", Statement: [{Effect: Allow, Action: [\"kms:*\"], Resource: [\"*\"]}]}\n")
	}
	return []byte(b.String())
}

// replace puts b in path at once, as a mounted secret's update or a
// rename does, dated at: a poll never meets it half written unless b is.
func replace(t *testing.T, path string, b []byte, at time.Time) {
	t.Helper()
	rewrite(t, path+".new", b, at)
	if err := os.Rename(path+".new", path); err != nil {
		t.Fatal(err)
	}
}

// A server follows its principals file: a principal added may sign, one
// whose secret changed signs with the new secret only, one taken out is
// refused, and a file that does not read leaves the principals in service.
// Alibaba's SDK (ACS3) and AWS's (SigV4) are the callers.
func TestServerFollowsThePrincipalsFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "principals.yaml")
	replace(t, file, principalsYAML("LTAIorders0001", "first-secret"), time.Now())
	raw, err := core.GenerateRootKey()
	if err != nil {
		t.Fatal(err)
	}
	svc := wire(t, map[string]string{"KMS_PRINCIPALS_FILE": file, "KMS_ROOT_KEY": base64.StdEncoding.EncodeToString(raw)})
	logs := &syncbuf.Buffer{}
	svc.Logger = slog.New(slog.NewTextHandler(logs, nil))
	srv := httptest.NewServer(API(svc).HTTP)
	defer srv.Close()
	ctx, stop := context.WithCancel(context.Background())
	watched := make(chan struct{})
	go func() { defer close(watched); WatchPrincipals(ctx, svc, 10*time.Millisecond) }()
	defer func() { stop(); <-watched }()

	// calls reports whether each way of signing as id with secret is served.
	calls := func(id, secret string) (alibaba, aws error) {
		ali, err := kms.NewClient(&openapi.Config{AccessKeyId: tea.String(id), AccessKeySecret: tea.String(secret),
			Endpoint: tea.String(strings.TrimPrefix(srv.URL, "http://")), Protocol: tea.String("http"), RegionId: tea.String("cn-hangzhou")})
		if err != nil {
			t.Fatal(err)
		}
		_, alibaba = ali.ListKeys(&kms.ListKeysRequest{})
		_, aws = awskms.New(awskms.Options{Region: "cn-hangzhou", BaseEndpoint: tea.String(srv.URL), RetryMaxAttempts: 1,
			Credentials: credentials.NewStaticCredentialsProvider(id, secret, "")}).ListKeys(context.Background(), &awskms.ListKeysInput{})
		return alibaba, aws
	}
	// codes are each API's error codes for a refusal.
	codes := map[string]map[string]string{
		"":        {},
		"unknown": {"Alibaba": "InvalidAccessKeyId.NotFound", "AWS": "UnrecognizedClientException"},
		"secret":  {"Alibaba": "SignatureDoesNotMatch", "AWS": "InvalidSignatureException"},
	}
	// eventually waits for each caller to be served, or refused as want
	// says ("unknown" key or wrong "secret"), through both APIs.
	eventually := func(when string, want map[[2]string]string) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			var wrong []string
			for c, refusal := range want {
				ali, aws := calls(c[0], c[1])
				for api, err := range map[string]error{"Alibaba": ali, "AWS": aws} {
					code := codes[refusal][api]
					if (code == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), code)) {
						wrong = append(wrong, fmt.Sprintf("%s as %s: %v, want %q", api, c[0], err, code))
					}
				}
			}
			if len(wrong) == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s:\n%s\nlog:\n%s", when, strings.Join(wrong, "\n"), logs)
			}
		}
	}
	orders, ordersNew, billing := [2]string{"LTAIorders0001", "first-secret"}, [2]string{"LTAIorders0001", "second-secret"}, [2]string{"LTAIbilling0001", "billing-secret"}
	eventually("at start", map[[2]string]string{orders: "", billing: "unknown"})

	replace(t, file, principalsYAML(ordersNew[0], ordersNew[1], billing[0], billing[1]), time.Now().Add(time.Minute))
	eventually("with a secret changed and a principal added", map[[2]string]string{
		orders: "secret", ordersNew: "", billing: ""})
	if !strings.Contains(logs.String(), "principals reloaded") {
		t.Errorf("the reload was not logged:\n%s", logs)
	}

	// Caught half written: the principals in service stay, and the file's
	// fault is logged once however many polls meet it.
	whole := principalsYAML(billing[0], billing[1])
	replace(t, file, whole[:len(whole)/2], time.Now().Add(2*time.Minute))
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(logs.String(), "principals file not reloaded"); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the truncated file was not logged:\n%s", logs)
		}
	}
	time.Sleep(100 * time.Millisecond) // several polls
	eventually("with the file half written", map[[2]string]string{ordersNew: "", billing: ""})
	if n := strings.Count(logs.String(), "principals file not reloaded"); n != 1 {
		t.Errorf("the truncated file was logged %d times, want once:\n%s", n, logs)
	}
	if strings.Contains(logs.String(), "billing-secret") || strings.Contains(logs.String(), "second-secret") {
		t.Errorf("the log quotes a secret:\n%s", logs)
	}

	replace(t, file, whole, time.Now().Add(3*time.Minute))
	eventually("with a principal taken out", map[[2]string]string{ordersNew: "unknown", billing: ""})
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	eventually("with the file gone", map[[2]string]string{ordersNew: "unknown", billing: ""})

	// The audit trail, verified, records each principal's change, and no
	// secret.
	root, err := core.NewRootKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	v := audit.NewVerifier(root.DeriveKey(audit.KeyPurpose))
	var changes []string
	v.Each = func(rec audit.Record) {
		if strings.HasSuffix(rec.EventName, "Principal") {
			changes = append(changes, fmt.Sprintf("%s %v %s %s readOnly=%v", rec.EventName, rec.RequestParameters,
				rec.AdditionalEventData["changed"], rec.UserIdentity.Principal, rec.ReadOnly))
		}
	}
	trail, err := os.ReadFile(filepath.Join(svc.Settings.DataDir, "audit.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Read("audit.jsonl", bytes.NewReader(trail)); err != nil {
		t.Fatal(err)
	}
	if problems, _, _ := v.Result(); len(problems) != 0 {
		t.Fatalf("the trail does not verify: %+v", problems)
	}
	want := []string{
		"CreatePrincipal map[accessKeyId:LTAIbilling0001 principalName:ltaibilling0001]  kmsless readOnly=false",
		"UpdatePrincipal map[accessKeyId:LTAIorders0001 principalName:ltaiorders0001] secret kmsless readOnly=false",
		"DeletePrincipal map[accessKeyId:LTAIorders0001 principalName:ltaiorders0001]  kmsless readOnly=false",
	}
	if !slices.Equal(changes, want) {
		t.Errorf("the trail's records of principals:\n%s\nwant\n%s", strings.Join(changes, "\n"), strings.Join(want, "\n"))
	}
	for _, secret := range []string{"first-secret", "second-secret", "billing-secret"} {
		if strings.Contains(string(trail), secret) {
			t.Errorf("the trail holds the secret %q", secret)
		}
	}
}
