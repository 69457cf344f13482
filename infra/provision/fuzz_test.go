package provision_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/provision"
)

// FuzzDecode: decoding a trigger payload never panics; a payload is refused
// with InvalidParameter, or every message and entry it yields either reads
// or says why not with InvalidParameter, never both; a message that failed
// carries no entries; an entry that names no KeyId gets the default; and the
// output is bounded by the input: each entry takes at least "{}" of it (a
// base64 body only shrinks), so there are never more entries than bytes.
// An entry read has a partition ID by core's rule (core.ValidPartitionID);
// one that failed names its ID, if it names one that is not valid, by at
// most core.ClipText's bounded prefix.
func FuzzDecode(f *testing.F) {
	names, _ := filepath.Glob(filepath.Join("..", "..", "events", "*", "provision-*.json"))
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		`{"PartitionId":"p-1"}`, `{"PartitionId":"key/*"}`, `{"Partitions":[{"PartitionId":"p-1"},{"PartitionId":""},{"KeyId":"k"},{"PartitionId":"p\u00e9"}]}`, `{"partitions":[{"partitionid":"p","keyid":"k","encryptioncontext":"{\"a\":\"b\"}"}]}`,
		`[{"specversion":"1.0","type":"Partition Created","data":[{"PartitionId":"p"}]}]`,
		`{"TopicOwner":"o","Message":"eyJQYXJ0aXRpb25JZCI6InAifQ=="}`, `{"body":"W3siUGFydGl0aW9uSWQiOiJwIn1d","attrs":{}}`,
		`{"Records":[{"eventSource":"aws:sqs","messageId":"m","body":"{\"Type\":\"Notification\",\"Message\":\"{\\\"PartitionId\\\":\\\"p\\\"}\"}"}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		ev, err := provision.Decode(raw, "alias/default")
		if err != nil {
			checkInvalid(t, "the payload", err)
			if ev.Source != "" || ev.Messages != nil {
				t.Fatalf("refused with %v, yet decoded %+v", err, ev)
			}
			return
		}
		entries := 0
		for _, m := range ev.Messages {
			if m.Err != nil {
				checkInvalid(t, "a message", m.Err)
				if len(m.Requests) > 0 {
					t.Fatalf("message %q failed (%v) with %d entries", m.ID, m.Err, len(m.Requests))
				}
				continue
			}
			if len(m.Requests) == 0 {
				t.Fatalf("message %q read with no entries and no error", m.ID)
			}
			for _, r := range m.Requests {
				entries++
				if r.Err != nil {
					if core.AsError(r.Err).Code != core.CodeMissingParameter || r.PartitionID != "" {
						checkInvalid(t, "an entry", r.Err)
					}
					if !core.ValidPartitionID(r.PartitionID) && (len(r.PartitionID) > 64+len("…") || !utf8.ValidString(r.PartitionID)) {
						t.Fatalf("a failed entry names its ID by %d bytes, valid UTF-8 %v", len(r.PartitionID), utf8.ValidString(r.PartitionID))
					}
					continue
				}
				if !core.ValidPartitionID(r.PartitionID) {
					t.Fatalf("entry %q read, which is not a partition ID", core.ClipText(r.PartitionID))
				}
				if r.KeyID == "" {
					t.Fatalf("entry %q has no KeyId, not even the default", r.PartitionID)
				}
			}
		}
		if len(ev.Messages) > len(raw) || 2*entries > len(raw) {
			t.Fatalf("%d bytes decoded as %d messages of %d entries", len(raw), len(ev.Messages), entries)
		}
	})
}

func checkInvalid(t *testing.T, what string, err error) {
	t.Helper()
	var ke *core.Error
	if !errors.As(err, &ke) || ke.Code != core.CodeInvalidParameter {
		t.Fatalf("%s refused with %v (%T), not InvalidParameter", what, err, err)
	}
	if !utf8.ValidString(ke.Message) || len(ke.Message) > 512 {
		t.Fatalf("%s refused with a message of %d bytes, valid UTF-8 %v: %q", what, len(ke.Message), utf8.ValidString(ke.Message), ke.Message)
	}
}
