package provision_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/kmsless/kmsless/infra/provision"
	"github.com/kmsless/kmsless/internal/linear"
)

// TestDecodeWorkIsLinear: a trigger batch is decoded before any of its
// messages is checked, so the work must grow linearly with the number of
// messages, partitions and context members (linear.Check).
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
		linear.Check(t, s.name, n, func(n int) []byte { return []byte(s.build(n)) }, func(event []byte) error {
			ev, err := provision.Decode(event, "alias/partitions")
			if err == nil && (len(ev.Messages) == 0 || ev.Messages[0].Err != nil) {
				err = fmt.Errorf("%+v", ev)
			}
			return err
		})
	}

}
