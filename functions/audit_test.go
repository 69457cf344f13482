package functions_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kmsless/kmsless/infra/audit"
	"github.com/kmsless/kmsless/infra/config"
	"github.com/kmsless/kmsless/internal/devtools/emulate"
)

// TestInvocationsLeaveTheirRecordsOnStdout: in a cloud runtime the trail goes
// to stdout, mixed with the function's other lines, where CloudWatch Logs and
// SLS collect it; a direct invocation on either platform and an SQS batch leave
// their records there, and the chain verifies under the root key.
func TestInvocationsLeaveTheirRecordsOnStdout(t *testing.T) {
	f := newFixture(t)
	key := auditKey(t, f.ws)
	const fn = "generate-data-key-without-plaintext"
	for _, plat := range []struct{ name, dir string }{{"lambda", "aws"}, {"fc", "fc"}} {
		t.Run(plat.name+" direct", func(t *testing.T) {
			if plat.name == "lambda" && rie == "" {
				t.Skipf("aws-lambda-rie is missing: %v", rieErr)
			}
			r := start(t, plat.name, fn, f.env(t, fn))
			out := invoke(t, r, sample(t, plat.dir+"/direct-"+fn+".json"))
			var resp struct{ RequestId, KeyId, CiphertextBlob string }
			if out.Failed() || json.Unmarshal(out.Payload, &resp) != nil || resp.RequestId == "" {
				t.Fatalf("invocation: %s %s %s", out.ErrorType, out.ErrorMessage, out.Payload)
			}
			recs := trail(t, r, key, func(recs []audit.Record) bool { return len(recs) > 0 })
			if len(recs) != 1 {
				t.Fatalf("%d records for one invocation: %+v", len(recs), recs)
			}
			rec := recs[0]
			if rec.RequestID != resp.RequestId || rec.Entry != "direct" || rec.EventName != "GenerateDataKeyWithoutPlaintext" ||
				rec.ErrorCode != "" || rec.ResponseElements["keyId"] != resp.KeyId || rec.UserIdentity.Principal != "function/"+fn {
				t.Fatalf("record %+v does not describe response %+v", rec, resp)
			}
			if strings.Contains(r.Logs(), resp.CiphertextBlob) {
				t.Fatal("the CiphertextBlob reached the log")
			}
		})
	}
	t.Run("lambda sqs batch", func(t *testing.T) {
		if rie == "" {
			t.Skipf("aws-lambda-rie is missing: %v", rieErr)
		}
		r := start(t, "lambda", "provision-partitions", f.env(t, "provision-partitions"))
		out := invoke(t, r, sample(t, "aws/provision-sqs.json"))
		if out.Failed() {
			t.Fatalf("%s %s", out.ErrorType, out.ErrorMessage)
		}
		recs := trail(t, r, key, func(recs []audit.Record) bool { return len(recs) >= 3 })
		want := map[string]string{ // partition → message
			"p-0001": "059f36b4-87a3-44ab-83d2-661975830a7d",
			"p-0002": "2e1424d4-f796-459a-8184-9c92662be6da",
			"p-0003": "2e1424d4-f796-459a-8184-9c92662be6da",
		}
		ids := map[string]bool{}
		for _, rec := range recs {
			p, _ := rec.RequestParameters["partitionId"].(string)
			if rec.Entry != "event" || rec.EventName != audit.ProvisionPartition || want[p] != rec.MessageID || rec.ReadOnly {
				t.Errorf("record %+v", rec)
			}
			delete(want, p)
			ids[rec.RequestID] = true
		}
		if len(want) != 0 || len(ids) != len(recs) {
			t.Fatalf("partitions without a record: %v; %d request IDs for %d records", want, len(ids), len(recs))
		}
	})
}

func sample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "events", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func auditKey(t *testing.T, ws *emulate.Workspace) []byte {
	t.Helper()
	env := map[string]string{}
	for _, kv := range ws.Env() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	set, err := config.Read(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	key, err := config.AuditKey(context.Background(), set)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// trail reads the records in the function's output once enough is there (the
// emulator copies output asynchronously) and verifies them.
func trail(t *testing.T, r emulate.Runner, key []byte, enough func([]audit.Record) bool) []audit.Record {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var recs []audit.Record
		v := audit.NewVerifier(key)
		v.Each = func(rec audit.Record) { recs = append(recs, rec) }
		_ = v.Read("stdout", strings.NewReader(r.Logs()))
		problems, _, _ := v.Result()
		if enough(recs) || time.Now().After(deadline) {
			if len(problems) > 0 {
				t.Fatalf("the trail does not verify: %v", problems)
			}
			return recs
		}
		time.Sleep(50 * time.Millisecond)
	}
}
