package functions_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kmsless/kmsless/infra/fcemu"
	"github.com/kmsless/kmsless/infra/store/bolt"
	"github.com/kmsless/kmsless/internal/devtools/emulate"
)

// slowMessages are two partition messages the provisioner cannot finish in a
// two-second invocation at one request per second: the first asks for six
// partitions, the second for one.
var slowMessages = []struct {
	id         string
	partitions []string
}{
	{"m1", []string{"t-1", "t-2", "t-3", "t-4", "t-5", "t-6"}},
	{"m2", []string{"t-7"}},
}

func slowBody(partitions []string) string {
	var ps []string
	for _, p := range partitions {
		ps = append(ps, fmt.Sprintf(`{"PartitionId":%q}`, p))
	}
	return `{"Partitions":[` + strings.Join(ps, ",") + `]}`
}

// slowEnv is the provisioner's environment on its own copy of the fixture's
// store (returned), throttled to one request a second.
func slowEnv(t *testing.T, f *fixture) ([]string, string) {
	store := f.store(t)
	env := slices.DeleteFunc(f.ws.EnvWithStore(store), func(kv string) bool { return strings.HasPrefix(kv, "KMS_PRINCIPALS_FILE=") })
	return append(env, "KMS_QPS_PER_USER=1", "KMS_BURST=1", "KMS_LOG_LEVEL=WARN"), store
}

// checkNothingLost stops the instance, then checks that every partition of a
// message the platform was not told to redeliver has its key stored.
func checkNothingLost(t *testing.T, stop func() error, store string, redeliver []string) {
	t.Helper()
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	st, err := bolt.Open(store)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, m := range slowMessages {
		if slices.Contains(redeliver, m.id) {
			continue
		}
		for _, p := range m.partitions {
			if _, err := st.GetPartition(context.Background(), p); err != nil {
				t.Errorf("message %s was reported done but partition %s is not stored: %v", m.id, p, err)
			}
		}
	}
}

// TestProvisionerReportsUnfinishedMessagesBeforeTheLambdaTimeout: a batch the
// provisioner cannot finish in time still gets its batchItemFailures to the
// platform, instead of "Task timed out" and a redelivery of the whole batch.
func TestProvisionerReportsUnfinishedMessagesBeforeTheLambdaTimeout(t *testing.T) {
	if rie == "" {
		t.Skipf("aws-lambda-rie is missing: %v", rieErr)
	}
	f := newFixture(t)
	env, store := slowEnv(t, f)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := emulate.Lambda(ctx, rie, filepath.Join(binDir, "provision-partitions"), append(env, "AWS_LAMBDA_FUNCTION_TIMEOUT=2"))
	if err != nil {
		t.Fatal(err)
	}
	stop := sync.OnceValue(r.Stop)
	defer stop()

	var records []string
	for _, m := range slowMessages {
		records = append(records, fmt.Sprintf(`{"messageId":%q,"eventSource":"aws:sqs","body":%q}`, m.id, slowBody(m.partitions)))
	}
	out := invoke(t, r, []byte(`{"Records":[`+strings.Join(records, ",")+`]}`))
	var resp struct {
		BatchItemFailures []struct{ ItemIdentifier string } `json:"batchItemFailures"`
	}
	if out.Failed() || json.Unmarshal(out.Payload, &resp) != nil || resp.BatchItemFailures == nil {
		t.Fatalf("the batch answered %s %s %s, not its batchItemFailures; logs:\n%s", out.ErrorType, out.ErrorMessage, out.Payload, r.Logs())
	}
	var redeliver []string
	for _, f := range resp.BatchItemFailures {
		redeliver = append(redeliver, f.ItemIdentifier)
	}
	if !slices.Contains(redeliver, "m1") {
		t.Errorf("batchItemFailures %v lack m1, whose six partitions cannot all be made in time", redeliver)
	}
	checkNothingLost(t, stop, store, redeliver)
}

// TestProvisionerReportsUnfinishedMessagesBeforeTheFCTimeout: on Function
// Compute the unfinished MNS batch ends in the function's own error, which
// the platform accepts and retries, not in FunctionTimeout.
func TestProvisionerReportsUnfinishedMessagesBeforeTheFCTimeout(t *testing.T) {
	f := newFixture(t)
	env, store := slowEnv(t, f)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := emulate.FC(ctx, "provision-partitions", filepath.Join(binDir, "provision-partitions"), env, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	stop := sync.OnceValue(r.Stop)
	defer stop()

	var msgs []string
	for _, m := range slowMessages {
		msgs = append(msgs, fmt.Sprintf(`{"id":%q,"source":"MNS-provision-partitions","specversion":"1.0","type":"mns:Queue:SendMessage",`+
			`"data":{"requestId":"r-%[1]s","messageId":%[1]q,"messageBody":%q}}`,
			m.id, base64.StdEncoding.EncodeToString([]byte(slowBody(m.partitions)))))
	}
	out := invoke(t, r, []byte("["+strings.Join(msgs, ",")+"]"))
	if !out.Failed() || out.ErrorType == fcemu.ErrorTypeTimeout || !strings.Contains(out.ErrorMessage, "of 2 messages were not fully provisioned") {
		t.Fatalf("the batch answered %s %s %s, not the provisioner's own error; logs:\n%s", out.ErrorType, out.ErrorMessage, out.Payload, r.Logs())
	}
	if strings.Contains(r.Logs(), "unexpected status code") {
		t.Errorf("the runtime posted its result after the deadline; logs:\n%s", r.Logs())
	}
	// A failed invocation redelivers every message.
	checkNothingLost(t, stop, store, []string{"m1", "m2"})
}
