package edge_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/audit"
	"github.com/kmsless/kmsless/infra/edge"
	"github.com/kmsless/kmsless/infra/metrics"
)

type arns struct{}

func (arns) KeyARN(id string) string         { return "acs:kms:r:1:key/" + id }
func (arns) AliasARN(name string) string     { return "acs:kms:r:1:" + name }
func (arns) PartitionARN(id string) string   { return "acs:kms:r:1:partition/" + id }
func (arns) SecretARN(name string) string    { return "acs:kms:r:1:secret/" + name }
func (arns) CertificateARN(id string) string { return "acs:kms:r:1:certificate/" + id }

type brokenSink struct{}

func (brokenSink) Write([]byte) (int, error) { return 0, errors.New("no space left on device") }

func TestRunWritesOneRecordPerRequestPanicsIncluded(t *testing.T) {
	var trail bytes.Buffer
	e := edge.New(nil)
	e.Record(audit.New(&trail, bytes.Repeat([]byte{1}, 32)), arns{}, metrics.New(nil))
	ctx := context.Background()
	for _, fn := range []func() (any, error){
		func() (any, error) { return "ok", nil },
		func() (any, error) { return nil, core.Errorf(core.CodeAccessDenied, "no") },
		func() (any, error) { panic("boom") },
	} {
		x := e.Begin(ctx)
		x.Action = "Decrypt"
		e.Run(ctx, x, fn)
	}
	lines := strings.Split(strings.TrimSpace(trail.String()), "\n")
	if len(lines) != 3 || strings.Contains(lines[0], "errorCode") || !strings.Contains(lines[1], `"errorCode":"AccessDeniedError"`) ||
		!strings.Contains(lines[2], `"errorCode":"InternalFailure"`) {
		t.Fatalf("trail:\n%s", trail.String())
	}
}

func TestRunWithholdsKeyUseWhenTheRecordCannotBeWritten(t *testing.T) {
	e := edge.New(nil)
	e.Record(audit.New(brokenSink{}, bytes.Repeat([]byte{1}, 32)), arns{}, nil)
	ctx := context.Background()
	for _, c := range []struct {
		action string
		err    error
		want   string
	}{
		{"Decrypt", nil, core.CodeServiceUnavailableTemporary},
		{"ScheduleKeyDeletion", nil, core.CodeServiceUnavailableTemporary},
		{"ProvisionPartition", nil, core.CodeServiceUnavailableTemporary},
		{"DescribeKey", nil, ""},
		{"Decrypt", core.Errorf(core.CodeInvalidCiphertext, "bad"), core.CodeInvalidCiphertext},
	} {
		x := e.Begin(ctx)
		x.Action = c.action
		result, ke := e.Run(ctx, x, func() (any, error) {
			if c.err != nil {
				return nil, c.err
			}
			return "the result", nil
		})
		code := ""
		if ke != nil {
			code = ke.Code
		}
		if code != c.want || (code != "" && result != nil) {
			t.Errorf("%s (%v): %q, result %v; want %q", c.action, c.err, code, result, c.want)
		}
	}
}
