package provision_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/provision"
	"github.com/kmsless/kmsless/infra/store/bolt"
	"github.com/kmsless/kmsless/infra/store/storetest"
)

// env is a KMS on a real embedded store with alias/partitions and the
// provisioner principal of the seed scenario.
type env struct {
	kms         *core.Service
	store       storetest.Store
	keyID       string
	provisioner *core.Principal
}

func newEnv(tb testing.TB, limiter core.Limiter) *env {
	tb.Helper()
	store, err := bolt.Open(filepath.Join(tb.TempDir(), "kms.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = store.Close() })
	return newEnvOn(tb, store, limiter)
}

func newEnvOn(tb testing.TB, store storetest.Store, limiter core.Limiter) *env {
	tb.Helper()
	raw, err := core.GenerateRootKey()
	if err != nil {
		tb.Fatal(err)
	}
	root, err := core.NewRootKey(raw)
	clear(raw)
	if err != nil {
		tb.Fatal(err)
	}
	kms, err := core.New(core.Config{Store: store, Partitions: store, Usage: store, Root: root, Limiter: limiter})
	if err != nil {
		tb.Fatal(err)
	}
	return newEnvWith(tb, kms, store)
}

// newEnvWith creates alias/partitions on kms and the provisioner principal.
func newEnvWith(tb testing.TB, kms *core.Service, store storetest.Store) *env {
	tb.Helper()
	admin := &core.Principal{Name: "admin", AccessKeyID: "admin", Policy: core.FullAccess()}
	ctx := context.Background()
	resp, err := kms.Handle(ctx, &core.Request{ID: "r", Action: "CreateKey", Caller: admin})
	if err != nil {
		tb.Fatal(err)
	}
	keyID := resp.(core.Key).ID
	if _, err := kms.Handle(ctx, &core.Request{ID: "r", Action: "CreateAlias", Caller: admin,
		Params: core.Params{"AliasName": "alias/partitions", "KeyId": keyID}}); err != nil {
		tb.Fatal(err)
	}
	return &env{kms: kms, store: store, keyID: keyID, provisioner: &core.Principal{
		Name: "partition-provisioner", AccessKeyID: "prov",
		Policy: core.MustPolicy(core.Statement{Effect: "Allow",
			Action:   []string{"kms:GenerateDataKeyWithoutPlaintext"},
			Resource: []string{"acs:kms:*:*:key/*", "acs:kms:*:*:alias/*"}}),
	}}
}

func (e *env) provisioner_(opts provision.Options) *provision.Provisioner {
	opts.KMS, opts.Caller = e.kms, e.provisioner
	if opts.DefaultKeyID == "" {
		opts.DefaultKeyID = "alias/partitions"
	}
	return provision.New(opts)
}

func (e *env) stored(t *testing.T, id string) (core.Partition, bool) {
	t.Helper()
	p, err := e.store.GetPartition(context.Background(), id)
	if errors.Is(err, core.ErrNotFound) {
		return core.Partition{}, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return p, true
}

func samples(tb testing.TB) []string {
	tb.Helper()
	files, err := filepath.Glob("../../events/*/provision-*.json")
	if err != nil || len(files) == 0 {
		tb.Fatalf("no provisioning samples under events/ (%v)", err)
	}
	return files
}

func TestEverySampleDecodesAndProvisions(t *testing.T) {
	wantSource := map[string]provision.Source{
		"aws/provision-direct.json":         provision.Direct,
		"aws/provision-sqs.json":            provision.SQS,
		"aws/provision-sns.json":            provision.SNS,
		"aws/provision-eventbridge.json":    provision.EventBridge,
		"fc/provision-direct.json":          provision.Direct,
		"fc/provision-mns-queue.json":       provision.MNSQueue,
		"fc/provision-mns-queue-batch.json": provision.MNSQueue,
		"fc/provision-mns-topic.json":       provision.MNSTopic,
		"fc/provision-eventbridge.json":     provision.CloudEvents,
	}
	seen := map[string]bool{}
	for _, file := range samples(t) {
		name := filepath.ToSlash(strings.TrimPrefix(file, filepath.FromSlash("../../events/")))
		seen[name] = true
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			ev, err := provision.Decode(raw, "alias/partitions")
			if err != nil {
				t.Fatal(err)
			}
			if want, ok := wantSource[name]; !ok || ev.Source != want {
				t.Fatalf("source %q, want %q (a new sample needs an entry here)", ev.Source, want)
			}
			var ids []string
			for _, m := range ev.Messages {
				if m.Err != nil {
					t.Fatalf("message %q: %v", m.ID, m.Err)
				}
				if ev.Source != provision.Direct && m.ID == "" {
					t.Fatalf("a %s message decoded without its ID", ev.Source)
				}
				for _, r := range m.Requests {
					if r.Err != nil || !core.ValidPartitionID(r.PartitionID) || r.KeyID == "" {
						t.Fatalf("request %+v: %v", r.PartitionRequest, r.Err)
					}
					ids = append(ids, r.PartitionID)
				}
			}
			if len(ids) == 0 {
				t.Fatal("the sample asks for no partition")
			}

			e := newEnv(t, nil)
			resp, err := e.provisioner_(provision.Options{}).Handle(context.Background(), raw)
			if err != nil {
				t.Fatalf("Handle: %v", err)
			}
			if r, ok := resp.(events.SQSEventResponse); ok && len(r.BatchItemFailures) > 0 {
				t.Fatalf("batch item failures %v", r.BatchItemFailures)
			}
			for _, id := range ids {
				if _, ok := e.stored(t, id); !ok {
					t.Fatalf("partition %s was not stored", id)
				}
			}
		})
	}
	for name := range wantSource {
		if !seen[name] {
			t.Errorf("sample %s is missing from events/", name)
		}
	}
}

// sqsBatch is an SQS event of bodies, message IDs m-0…m-n.
func sqsBatch(t *testing.T, bodies []string) []byte {
	t.Helper()
	ev := events.SQSEvent{}
	for i, b := range bodies {
		ev.Records = append(ev.Records, events.SQSMessage{MessageId: fmt.Sprintf("m-%d", i), Body: b,
			EventSource: "aws:sqs", EventSourceARN: "arn:aws:sqs:us-east-1:123456789012:partition-created", AWSRegion: "us-east-1"})
	}
	raw, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestPoisonedSQSMessageIsTheOnlyBatchItemFailure(t *testing.T) {
	poisons := map[string]string{
		"missing PartitionId":   `{"KeyId":"alias/partitions"}`,
		"unknown key":           `{"PartitionId":"p-poison","KeyId":"alias/no-such-key"}`,
		"invalid context":       `{"PartitionId":"p-poison","EncryptionContext":{"n":1}}`,
		"PartitionId override":  `{"PartitionId":"p-poison","EncryptionContext":{"PartitionId":"p-0000"}}`,
		"not JSON":              `p-poison`,
		"one bad entry of many": `{"Partitions":[{"PartitionId":"p-poison"},{"PartitionId":"bad id!"}]}`,
	}
	for name, poison := range poisons {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, nil)
			bodies := make([]string, 10)
			for i := range bodies {
				bodies[i] = fmt.Sprintf(`{"PartitionId":"p-%04d"}`, i)
			}
			bodies[6] = poison
			resp, err := e.provisioner_(provision.Options{}).Handle(context.Background(), sqsBatch(t, bodies))
			if err != nil {
				t.Fatalf("Handle: %v", err)
			}
			got := resp.(events.SQSEventResponse).BatchItemFailures
			if len(got) != 1 || got[0].ItemIdentifier != "m-6" {
				t.Fatalf("batchItemFailures %v, want exactly m-6", got)
			}
			for i := range bodies {
				_, ok := e.stored(t, fmt.Sprintf("p-%04d", i))
				if ok != (i != 6) {
					t.Fatalf("partition p-%04d stored=%v", i, ok)
				}
			}
			// The poisoned message's good entry may be stored (a redelivery finds
			// it AlreadyPresent); its bad one left nothing.
			if _, ok := e.stored(t, "bad id!"); ok {
				t.Fatal("an invalid partition was stored")
			}
		})
	}
}

func TestSQSBatchItemFailuresSerializeAsLambdaExpects(t *testing.T) {
	e := newEnv(t, nil)
	resp, err := e.provisioner_(provision.Options{}).Handle(context.Background(), sqsBatch(t, []string{`{"PartitionId":"p-1"}`}))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(resp)
	if string(b) != `{"batchItemFailures":[]}` {
		t.Fatalf("response %s", b)
	}
}

func TestRedeliveredEventMintsNothing(t *testing.T) {
	e := newEnv(t, nil)
	p := e.provisioner_(provision.Options{})
	raw := sqsBatch(t, []string{`{"PartitionId":"p-1"}`, `{"Partitions":[{"PartitionId":"p-2"},{"PartitionId":"p-3"}]}`})
	if _, err := p.Handle(context.Background(), raw); err != nil {
		t.Fatal(err)
	}
	before := map[string]string{}
	for _, id := range []string{"p-1", "p-2", "p-3"} {
		rec, _ := e.stored(t, id)
		before[id] = string(rec.CiphertextBlob)
	}
	direct := []byte(`{"Partitions":[{"PartitionId":"p-1"},{"PartitionId":"p-2"},{"PartitionId":"p-3"},{"PartitionId":"p-4"}]}`)
	resp, err := p.Handle(context.Background(), direct)
	if err != nil {
		t.Fatal(err)
	}
	rep := resp.(provision.Report)
	if rep.Created != 1 || rep.AlreadyPresent != 3 || rep.Failed != 0 {
		t.Fatalf("counts %+v, want 1 created, 3 already present", rep.Counts)
	}
	for id, blob := range before {
		if rec, _ := e.stored(t, id); string(rec.CiphertextBlob) != blob {
			t.Fatalf("partition %s got a new key on redelivery", id)
		}
	}
}

// A partition's provisioning is its key's use, under the request ID its
// audit record carries: the invocation's, and the partition's place in it.
func TestProvisioningIsTheKeysLastUse(t *testing.T) {
	e := newEnv(t, nil)
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "inv-1"})
	if _, err := e.provisioner_(provision.Options{}).Handle(ctx, []byte(`{"Partitions":[{"PartitionId":"p-1"}]}`)); err != nil {
		t.Fatal(err)
	}
	u, _, err := e.store.KeyUsage(ctx, e.keyID)
	if err != nil || u.Action != "GenerateDataKeyWithoutPlaintext" || u.RequestID != "inv-1/1" {
		t.Fatalf("the key's last use: %+v, %v", u, err)
	}
}

func TestMNSBatchWithPoisonedMessageFailsTheInvocationButKeepsTheRest(t *testing.T) {
	e := newEnv(t, nil)
	ce := func(id, body string) map[string]any {
		return map[string]any{"id": id, "specversion": "1.0", "type": "mns:Queue:SendMessage", "source": "MNS-x",
			"data": map[string]string{"requestId": "r", "messageId": id, "messageBody": body}}
	}
	batch := []any{
		ce("a", `{"PartitionId":"p-a"}`),
		ce("b", base64.StdEncoding.EncodeToString([]byte(`{"PartitionId":"p-b"}`))),
		ce("c", `{"PartitionId":"p-c","KeyId":"alias/missing"}`),
	}
	raw, _ := json.Marshal(batch)
	_, err := e.provisioner_(provision.Options{AllowedKeys: []string{"alias/partitions", "alias/missing"}}).Handle(context.Background(), raw)
	var ke *core.Error
	if !errors.As(err, &ke) || ke.Code != core.CodeAliasNotFound || !strings.Contains(ke.Message, "1 of 3 messages") {
		t.Fatalf("error %v, want the invocation to fail with the poisoned message's code", err)
	}
	for id, want := range map[string]bool{"p-a": true, "p-b": true, "p-c": false} {
		if _, ok := e.stored(t, id); ok != want {
			t.Fatalf("partition %s stored=%v, want %v", id, ok, want)
		}
	}
}

func TestDecodeUnwrapsFannedOutEnvelopes(t *testing.T) {
	sns := `{"Type":"Notification","MessageId":"x","TopicArn":"arn:aws:sns:us-east-1:1:t","Message":"{\"PartitionId\":\"p-sns\"}"}`
	eb := `{"version":"0","id":"x","detail-type":"Partition Created","source":"cp","detail":{"Partitions":[{"PartitionId":"p-eb"}]}}`
	ebWrong := `{"version":"0","id":"x","detail-type":"Partition Deleted","source":"cp","detail":{"PartitionId":"p-eb"}}`
	ev, err := provision.Decode(sqsBatch(t, []string{sns, eb, ebWrong, `[{"partitionId":"p-list","keyId":"key-x","encryptionContext":"{\"a\":\"b\"}"}]`}), "alias/partitions")
	if err != nil {
		t.Fatal(err)
	}
	first := func(m provision.Message) string {
		if m.Err != nil || len(m.Requests) == 0 {
			return fmt.Sprintf("error %v", m.Err)
		}
		return m.Requests[0].PartitionID
	}
	if got := first(ev.Messages[0]); got != "p-sns" {
		t.Errorf("SNS inside SQS: %s", got)
	}
	if got := first(ev.Messages[1]); got != "p-eb" {
		t.Errorf("EventBridge inside SQS: %s", got)
	}
	if ev.Messages[2].Err == nil {
		t.Error("an EventBridge event of another detail-type was accepted")
	}
	r := ev.Messages[3].Requests[0]
	if r.PartitionID != "p-list" || r.KeyID != "key-x" || r.EncryptionContext["a"] != "b" {
		t.Errorf("bare list with lower-case names and context as JSON text: %+v", r.PartitionRequest)
	}
}

func TestDecodeRefusesPayloadsOfNoKnownShape(t *testing.T) {
	for _, raw := range []string{``, `42`, `"p-1"`, `{}`, `{"Records":[{"eventSource":"aws:s3"}]}`, `{"Records":[]}`, `[]`, `{"foo":"bar"}`} {
		_, err := provision.Decode([]byte(raw), "alias/partitions")
		var ke *core.Error
		if !errors.As(err, &ke) || ke.Code != core.CodeInvalidParameter {
			t.Errorf("Decode(%q) = %v, want InvalidParameter", raw, err)
		}
	}
}

func TestDirectInvocationDefaultsKeyAndReportsEachPartition(t *testing.T) {
	e := newEnv(t, nil)
	raw := []byte(`{"Partitions":[{"PartitionId":"p-1"},{"PartitionId":"p-2","KeyId":"` + "alias/partitions" + `"},{"PartitionId":""},{"PartitionId":"p-3","KeyId":"key-unknown"}]}`)
	resp, err := e.provisioner_(provision.Options{AllowedKeys: []string{"alias/partitions", "key-unknown"}}).Handle(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	rep := resp.(provision.Report)
	statuses := []string{}
	for _, r := range rep.Results {
		statuses = append(statuses, r.Status+"/"+r.Code)
	}
	want := []string{"Created/", "Created/", "Failed/" + core.CodeMissingParameter, "Failed/" + core.CodeKeyNotFound}
	if !slices.Equal(statuses, want) {
		t.Fatalf("results %v, want %v", statuses, want)
	}
	if rep.Results[0].KeyId != e.keyID {
		t.Fatalf("default key resolved to %q, want %q", rep.Results[0].KeyId, e.keyID)
	}
	if rep.Created != 2 || rep.Failed != 2 {
		t.Fatalf("counts %+v", rep.Counts)
	}
}

// TestPartitionEventMayNameOnlyAllowedKeys mounts the attack of a sender who
// may publish partition events: binding a new partition to a key of its own
// choosing, one it can decrypt. That message alone fails, with a logged
// reason, and the partition stays free for a genuine event.
func TestPartitionEventMayNameOnlyAllowedKeys(t *testing.T) {
	e := newEnv(t, nil)
	admin := &core.Principal{Name: "admin", AccessKeyID: "admin", Policy: core.FullAccess()}
	resp, err := e.kms.Handle(context.Background(), &core.Request{ID: "r", Action: "CreateKey", Caller: admin})
	if err != nil {
		t.Fatal(err)
	}
	theirs := resp.(core.Key).ID
	var logs strings.Builder
	p := provision.New(provision.Options{
		KMS: e.kms, Caller: provision.Caller(e.kms, []string{"alias/partitions"}), DefaultKeyID: "alias/partitions",
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	})
	body := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	raw := `{"Records":[` +
		`{"messageId":"m-ok","eventSource":"aws:sqs","body":` + body(`{"PartitionId":"p-ok"}`) + `},` +
		`{"messageId":"m-theirs","eventSource":"aws:sqs","body":` + body(`{"PartitionId":"p-claimed","KeyId":"`+theirs+`"}`) + `},` +
		`{"messageId":"m-arn","eventSource":"aws:sqs","body":` + body(`{"PartitionId":"p-arn","KeyId":"`+e.kms.KeyARN(theirs)+`"}`) + `}]}`
	out, err := p.Handle(context.Background(), json.RawMessage(raw))
	if err != nil {
		t.Fatal(err)
	}
	failures := []string{}
	for _, f := range out.(events.SQSEventResponse).BatchItemFailures {
		failures = append(failures, f.ItemIdentifier)
	}
	if !slices.Equal(failures, []string{"m-theirs", "m-arn"}) {
		t.Fatalf("failed messages %v, want exactly the two naming another key", failures)
	}
	for id, want := range map[string]bool{"p-ok": true, "p-claimed": false, "p-arn": false} {
		if _, ok := e.stored(t, id); ok != want {
			t.Fatalf("partition %s stored=%v, want %v", id, ok, want)
		}
	}
	if !strings.Contains(logs.String(), "KMS_PARTITION_KEYS") || !strings.Contains(logs.String(), "m-theirs") {
		t.Fatalf("the refusal is not logged with its reason:\n%s", logs.String())
	}

	// The invoke principal itself is scoped to the allowed keys: even called
	// straight through core it cannot mint under another key.
	_, _, err = e.kms.ProvisionPartition(context.Background(), provision.Caller(e.kms, []string{"alias/partitions"}),
		core.PartitionRequest{PartitionID: "p-direct", KeyID: theirs})
	var ke *core.Error
	if !errors.As(err, &ke) || ke.Code != core.CodeNoPermission {
		t.Fatalf("the provisioner's principal on another key: %v, want Forbidden.NoPermission", err)
	}
}

func TestPartitionIDsCannotLookLikeKeyResources(t *testing.T) {
	for _, id := range []string{"p/1", "key/x", "p:1", "a*", "p?", "p 1", strings.Repeat("p", 129), ""} {
		if core.ValidPartitionID(id) {
			t.Errorf("ValidPartitionID(%q) = true", id)
		}
	}
	for _, id := range []string{"p-1", "tenant_a.p-17", strings.Repeat("p", 128)} {
		if !core.ValidPartitionID(id) {
			t.Errorf("ValidPartitionID(%q) = false", id)
		}
	}
}

// TestDecodeReadsEachMemberOneWay mounts the attack of a sender whose events
// pass a filter that reads them another way: a rule or a control plane that
// checks "PartitionId" and sees tenant A's partition, while the decoder would
// take a second spelling and mint for tenant B's. A partition named twice, in
// any case, or holding invalid UTF-8 fails (its message, or its entry of the
// list), and nothing is asked for. The envelopes' own members are read by
// their exact names only, as the source sends them and as Decode tells the
// sources apart.
func TestDecodeReadsEachMemberOneWay(t *testing.T) {
	for _, body := range []string{
		`{"PartitionId":"tenant-a-1","PartitionId":"tenant-b-1"}`,
		`{"PartitionId":"tenant-a-1","partitionId":"tenant-b-1"}`,
		`{"Partitions":[{"PartitionId":"tenant-a-1","partitionid":"tenant-b-1"}]}`,
		`{"Partitions":[{"PartitionId":"tenant-a-1"}],"partitions":[{"PartitionId":"tenant-b-1"}]}`,
		`{"PartitionId":"tenant-a-1","EncryptionContext":{"t":"a"},"encryptionContext":{"t":"b"}}`,
		`{"PartitionId":"tenant-a-1","EncryptionContext":{"t":"a","t":"b"}}`,
		`{"PartitionId":"tenant-a-1","KeyId":"alias/partitions","keyId":"alias/other"}`,
		`{"Partition_Id":"tenant-b-1"}`, // names match in any case, as encoding/json matched them, and no looser
	} {
		ev, err := provision.Decode(sqsBatch(t, []string{body}), "alias/partitions")
		if err != nil {
			t.Fatalf("%s: the envelope was refused: %v", body, err)
		}
		if m := ev.Messages[0]; !refused(m) {
			t.Errorf("%s: read as %+v, want it refused with InvalidParameter", body, m)
		}
	}

	_, err := provision.Decode([]byte("{\"PartitionId\":\"tenant-a-\xff\"}"), "alias/partitions")
	var ke *core.Error
	if !errors.As(err, &ke) || ke.Code != core.CodeInvalidParameter {
		t.Errorf("invalid UTF-8: %v, want InvalidParameter", err)
	}

	for name, raw := range map[string]string{
		"SQS body":           `{"Records":[{"eventSource":"aws:sqs","messageId":"m","body":"{\"PartitionId\":\"p-a\"}","Body":"{\"PartitionId\":\"p-b\"}"}]}`,
		"SNS message":        `{"Records":[{"EventSource":"aws:sns","Sns":{"MessageId":"m","Message":"{\"PartitionId\":\"p-a\"}","message":"{\"PartitionId\":\"p-b\"}"}}]}`,
		"EventBridge detail": `{"id":"e","detail-type":"Partition Created","detail":{"PartitionId":"p-a"},"Detail":{"PartitionId":"p-b"}}`,
		"CloudEvent data":    `{"specversion":"1.0","id":"e","type":"Partition Created","data":{"PartitionId":"p-a"},"Data":{"PartitionId":"p-b"}}`,
	} {
		ev, err := provision.Decode([]byte(raw), "alias/partitions")
		if err != nil || ev.Messages[0].Err != nil || ev.Messages[0].Requests[0].PartitionID != "p-a" {
			t.Errorf("%s: read as %+v (%v), want p-a from the member the source sends", name, ev, err)
		}
	}
}

// refused reports whether m, or each of its entries, failed with
// InvalidParameter.
func refused(m provision.Message) bool {
	invalid := func(err error) bool {
		var ke *core.Error
		return errors.As(err, &ke) && ke.Code == core.CodeInvalidParameter
	}
	if m.Err != nil {
		return invalid(m.Err)
	}
	for _, r := range m.Requests {
		if !invalid(r.Err) {
			return false
		}
	}
	return len(m.Requests) > 0
}

// TestPartitionEventMayNameKeysByAWSARN: the ARNs the service's own AWS API
// names keys and aliases by are read as the AWS API reads them, in events and
// in the allow-list alike; an AWS ARN of another region or account names a key
// that is not here, as an acs: ARN of one does.
func TestPartitionEventMayNameKeysByAWSARN(t *testing.T) {
	e := newEnv(t, nil)
	prefix := "arn:aws:kms:" + e.kms.Region() + ":" + core.AWSAccount(e.kms.AccountID()) + ":"
	keyARN, aliasARN := prefix+"key/"+e.keyID, prefix+"alias/partitions"
	elsewhere := "arn:aws:kms:us-east-1:123456789012:alias/partitions"
	otherAccount := "acs:kms:" + e.kms.Region() + ":1234567890123456:alias/partitions"
	allowed := []string{keyARN, aliasARN, elsewhere, otherAccount}
	p := provision.New(provision.Options{KMS: e.kms, Caller: provision.Caller(e.kms, allowed), DefaultKeyID: aliasARN, AllowedKeys: allowed})
	raw := fmt.Sprintf(`{"Partitions":[{"PartitionId":"p-key","KeyId":%q},{"PartitionId":"p-alias","KeyId":%q},{"PartitionId":"p-default"},`+
		`{"PartitionId":"p-elsewhere","KeyId":%q},{"PartitionId":"p-other-account","KeyId":%q}]}`, keyARN, aliasARN, elsewhere, otherAccount)
	out, err := p.Handle(context.Background(), json.RawMessage(raw))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"p-key": provision.StatusCreated, "p-alias": provision.StatusCreated, "p-default": provision.StatusCreated,
		"p-elsewhere": core.CodeKeyNotFound, "p-other-account": core.CodeKeyNotFound}
	for _, r := range out.(provision.Report).Results {
		got := r.Status
		if r.Status == provision.StatusFailed {
			got = r.Code
		}
		if got != want[r.PartitionId] {
			t.Errorf("%s: %s %s; want %s", r.PartitionId, got, r.Message, want[r.PartitionId])
		}
		if r.Status == provision.StatusCreated && r.KeyId != e.keyID {
			t.Errorf("%s is under %s, want %s", r.PartitionId, r.KeyId, e.keyID)
		}
	}
}

// TestDecodeChecksPartitionIDs: an entry whose PartitionId is not one
// (core.ValidPartitionID) fails on its own as it is read, as an entry that
// does not decode does, and the other entries of its message still count.
// Before, such an entry went on to the KMS, counting against the
// provisioner's QPS and recorded at the edge with the ID as sent, however
// long, before core refused it. The failed entry names the ID by a bounded
// prefix, as a refusal quotes what a caller sent.
func TestDecodeChecksPartitionIDs(t *testing.T) {
	long := strings.Repeat("p", core.MaxPartitionIDLen+1)
	huge := strings.Repeat("key/", 10000)
	raw := fmt.Sprintf(`{"Partitions":[{"PartitionId":"p-good"},{"PartitionId":"bad id!"},{"PartitionId":"key/x"},{"PartitionId":%q},{"PartitionId":%q},{"PartitionId":""},{"KeyId":"alias/partitions"},{"PartitionId":"p\u00e9"}]}`, long, huge)
	for name, ev := range map[string][]byte{"direct": []byte(raw), "SQS": sqsBatch(t, []string{raw})} {
		got, err := provision.Decode(ev, "alias/partitions")
		if err != nil || len(got.Messages) != 1 || got.Messages[0].Err != nil {
			t.Fatalf("%s: Decode = %+v, %v", name, got, err)
		}
		reqs := got.Messages[0].Requests
		if len(reqs) != 8 || reqs[0].Err != nil || reqs[0].PartitionID != "p-good" {
			t.Fatalf("%s: %d entries, the first %+v (%v); want p-good read", name, len(reqs), reqs[0].PartitionRequest, reqs[0].Err)
		}
		for _, r := range reqs[1:] {
			var ke *core.Error
			if !errors.As(r.Err, &ke) || ke.Code != core.CodeInvalidParameter && ke.Code != core.CodeMissingParameter {
				t.Errorf("%s: entry %q read (%v), want it refused", name, core.ClipText(r.PartitionID), r.Err)
			}
			if len(r.PartitionID) > len(core.ClipText(long)) {
				t.Errorf("%s: a refused entry carries an ID of %d bytes", name, len(r.PartitionID))
			}
		}
		if ke := (*core.Error)(nil); !errors.As(reqs[5].Err, &ke) || ke.Code != core.CodeMissingParameter {
			t.Errorf("%s: an empty PartitionId fails with %v, want MissingParameter as core answers", name, reqs[5].Err)
		}
	}

	e := newEnv(t, nil)
	resp, err := e.provisioner_(provision.Options{}).Handle(context.Background(), sqsBatch(t, []string{`{"PartitionId":"p-1"}`, raw}))
	if err != nil {
		t.Fatal(err)
	}
	if f := resp.(events.SQSEventResponse).BatchItemFailures; len(f) != 1 || f[0].ItemIdentifier != "m-1" {
		t.Fatalf("batchItemFailures %v, want exactly m-1", f)
	}
	for _, id := range []string{"p-1", "p-good"} {
		if _, ok := e.stored(t, id); !ok {
			t.Errorf("partition %s was not stored", id)
		}
	}
}
