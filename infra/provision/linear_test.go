package provision_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/kmsless/kmsless/infra/provision"
)

// work counts the allocations and allocated bytes of one call of f, a measure
// of its work that, unlike time, does not depend on the machine.
func work(f func()) (allocs, bytes uint64) {
	f() // warm up: one-time initialisation is not the call's own work
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.Mallocs - before.Mallocs, after.TotalAlloc - before.TotalAlloc
}

// TestDecodeWorkIsLinear: a trigger batch is decoded before any of its
// messages is checked, so the work must grow linearly with the number of
// messages, partitions and context members. Decoding 10n elements may cost at
// most 30 times n (ten, up to twenty with maps and buffers that grow by
// doubling); going back over earlier elements for each new one would cost about
// a hundred.
func TestDecodeWorkIsLinear(t *testing.T) {
	const n = 100
	quote := func(s string) string {
		b, _ := json.Marshal(s)
		return string(b)
	}
	join := func(n int, f func(i int) string) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = f(i)
		}
		return strings.Join(parts, ",")
	}
	partitions := func(n int) string {
		return `{"Partitions":[` + join(n, func(i int) string {
			return fmt.Sprintf(`{"PartitionId":"p-%06d","EncryptionContext":{"t":"%d"}}`, i, i)
		}) + `]}`
	}
	shapes := []struct {
		name  string
		build func(n int) string
	}{
		{"SQS batch", func(n int) string {
			return `{"Records":[` + join(n, func(i int) string {
				return fmt.Sprintf(`{"messageId":"m%d","eventSource":"aws:sqs","body":%s}`, i, quote(partitions(1)))
			}) + `]}`
		}},
		{"one message of many partitions", partitions},
		{"SNS in SQS", func(n int) string {
			sns := `{"Type":"Notification","Message":` + quote(partitions(n)) + `}`
			return `{"Records":[{"messageId":"m","eventSource":"aws:sqs","body":` + quote(sns) + `}]}`
		}},
		{"CloudEvents batch", func(n int) string {
			return `[` + join(n, func(i int) string {
				return fmt.Sprintf(`{"specversion":"1.0","id":"e%d","type":%q,"data":%s}`, i, provision.EventType, partitions(1))
			}) + `]`
		}},
		{"MNS queue, base64 body", func(n int) string {
			body := base64.StdEncoding.EncodeToString([]byte(partitions(n)))
			return `{"specversion":"1.0","id":"e","type":"mns:Queue:SendMessage","data":{"messageId":"m","messageBody":"` + body + `"}}`
		}},
		{"many members beside Partitions", func(n int) string {
			return `{` + join(n, func(i int) string { return fmt.Sprintf(`"x%d":1`, i) }) + `,"partitions":[{"PartitionId":"p"}]}`
		}},
	}
	for _, s := range shapes {
		small, large := []byte(s.build(n)), []byte(s.build(10*n))
		ev, err := provision.Decode(small, "alias/partitions")
		if err != nil || len(ev.Messages) == 0 || ev.Messages[0].Err != nil {
			t.Fatalf("%s: %+v, %v", s.name, ev, err)
		}
		a1, b1 := work(func() { _, _ = provision.Decode(small, "alias/partitions") })
		a10, b10 := work(func() { _, _ = provision.Decode(large, "alias/partitions") })
		t.Logf("%s: x%.1f allocations, x%.1f bytes for ten times the elements", s.name, float64(a10)/float64(a1), float64(b10)/float64(b1))
		if a10 > 30*a1 || b10 > 30*b1 {
			t.Errorf("%s: %d elements cost %d allocations (%d B), %d cost %d (%d B): more than linear", s.name, n, a1, b1, 10*n, a10, b10)
		}
	}
}
