package platform

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/audit"
	"github.com/kmsless/kmsless/infra/config"
	"github.com/kmsless/kmsless/infra/store/storetest"
	"github.com/kmsless/kmsless/internal/syncbuf"
)

// PurgeEvery destroys, on a bbolt store, a key that is past its deletion
// date when it starts and one that passes its date later, logs each, and
// returns when its context ends; a zero interval runs nothing.
func TestPurgeEveryDestroysWhatPassesItsDate(t *testing.T) {
	svc := wire(t, nil)
	var logs syncbuf.Buffer
	svc.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	ctx := context.Background()
	st := svc.KMS.Store()
	gone := func(id string) bool {
		_, err := st.GetKey(ctx, id)
		return errors.Is(err, core.ErrNotFound)
	}
	waitGone := func(id string) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !gone(id); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("key %s is still stored; logs:\n%s", id, logs.String())
			}
		}
	}

	first := scheduled(t, svc)
	storetest.Expire(t, st, first)
	PurgeEvery(ctx, svc, 0)
	if gone(first) {
		t.Fatal("a zero interval purged")
	}
	run, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		PurgeEvery(run, svc, 20*time.Millisecond)
	}()
	waitGone(first)
	second := scheduled(t, svc)
	storetest.Expire(t, st, second)
	waitGone(second)
	stop()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("PurgeEvery did not return once its context ended")
	}
	for _, id := range []string{first, second} {
		if !strings.Contains(logs.String(), id) {
			t.Errorf("no log line names the destroyed key %s:\n%s", id, logs.String())
		}
	}
}

// The purge function destroys what is past its date on any JSON object and
// answers what it destroyed, [] when nothing; anything else is refused
// before the store is read.
func TestPurgeFunctionAnswersWhatItDestroyed(t *testing.T) {
	svc := wire(t, nil)
	ctx := context.Background()
	id := scheduled(t, svc)
	storetest.Expire(t, svc.KMS.Store(), id)
	h := Purge(svc).Handler
	for _, bad := range []string{"", "[]", `"now"`, "{", "null"} {
		_, err := h(ctx, json.RawMessage(bad))
		var ke *core.Error
		if !errors.As(err, &ke) || ke.Code != core.CodeInvalidParameter {
			t.Errorf("event %q: %v; want InvalidParameter", bad, err)
		}
	}
	if _, err := svc.KMS.Store().GetKey(ctx, id); err != nil {
		t.Fatalf("a refused event purged: %v", err)
	}
	got, err := invoke(ctx, svc.Edge, h, json.RawMessage(` {"triggerName":"daily"}`))
	if want := `{"DestroyedKeys":["` + id + `"],"DestroyedSecrets":[]}`; err != nil || string(got) != want {
		t.Fatalf("purge = %s, %v; want %s", got, err, want)
	}
	if got, err := invoke(ctx, svc.Edge, h, json.RawMessage(`{}`)); err != nil || string(got) != `{"DestroyedKeys":[],"DestroyedSecrets":[]}` {
		t.Fatalf("purge again = %s, %v", got, err)
	}
}

// What a purge destroys leaves one audit record each in the instance's
// chain: DeleteKey by the service itself, naming the key's ARN and the date
// it was due, which `kmsless audit verify` accepts.
func TestPurgeIsAudited(t *testing.T) {
	raw, err := core.GenerateRootKey()
	if err != nil {
		t.Fatal(err)
	}
	trail := filepath.Join(t.TempDir(), "audit.jsonl")
	svc := wire(t, map[string]string{"KMS_ROOT_KEY": base64.StdEncoding.EncodeToString(raw), "KMS_AUDIT_LOG": trail})
	ctx := context.Background()
	id := scheduled(t, svc)
	due := storetest.Expire(t, svc.KMS.Store(), id)
	if _, err := Purge(svc).Handler(ctx, json.RawMessage(`{}`)); err != nil {
		t.Fatal(err)
	}
	root, err := core.NewRootKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	v := audit.NewVerifier(root.DeriveKey(audit.KeyPurpose))
	var deleted []audit.Record
	v.Each = func(r audit.Record) {
		if r.EventName == audit.DeleteKey {
			deleted = append(deleted, r)
		}
	}
	f, err := os.Open(trail)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := v.Read(trail, f); err != nil {
		t.Fatal(err)
	}
	if problems, _, _ := v.Result(); len(problems) != 0 {
		t.Fatalf("the trail does not verify: %+v", problems)
	}
	if len(deleted) != 1 {
		t.Fatalf("%d DeleteKey records; want 1", len(deleted))
	}
	r := deleted[0]
	if r.Entry != "purge" || r.UserIdentity.Principal != "kmsless" || r.ReadOnly || r.AdditionalEventData["deletionDate"] != due.Format(time.RFC3339) ||
		len(r.Resources) != 1 || r.Resources[0].ARN != svc.KMS.KeyARN(id) || r.RequestParameters["keyId"] != id {
		t.Fatalf("the DeleteKey record: %+v", r)
	}
}

// scheduled is a new key of svc, scheduled for deletion in seven days.
func scheduled(t *testing.T, svc *config.Service) string {
	t.Helper()
	ctx := context.Background()
	admin := &core.Principal{Name: "admin", AccessKeyID: "admin", Policy: core.FullAccess()}
	out, err := svc.KMS.Handle(ctx, &core.Request{ID: "r", Action: "CreateKey", Caller: admin})
	if err != nil {
		t.Fatal(err)
	}
	id := out.(core.Key).ID
	if _, err := svc.KMS.Handle(ctx, &core.Request{ID: "r", Action: "ScheduleKeyDeletion", Caller: admin,
		Params: core.Params{"KeyId": id, "PendingWindowInDays": "7"}}); err != nil {
		t.Fatal(err)
	}
	return id
}
