package trigger_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/kmsless/kmsless/infra/trigger"
	"github.com/kmsless/kmsless/internal/linear"
)

// TestEventDecodingWorkIsLinear: the decoders run before the caller is
// authenticated, on events whose size the caller chooses, so their work must
// grow linearly with the number of headers, parameters and members.
func TestEventDecodingWorkIsLinear(t *testing.T) {
	const n = 200
	members := func(n int, f func(i int) string) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = f(i)
		}
		return strings.Join(parts, ",")
	}
	header := func(i int) string { return fmt.Sprintf(`"X-Acs-H%06d":"v"`, i) }
	multi := func(i int) string { return fmt.Sprintf(`"X-Acs-M%06d":["a","b"]`, i) }
	param := func(i int) string { return fmt.Sprintf(`"P%06d":"v"`, i) }
	multiParam := func(i int) string { return fmt.Sprintf(`"Q%06d":["a","b"]`, i) }
	newRequest := func(k trigger.Kind) func([]byte) error {
		return func(event []byte) error {
			_, err := trigger.NewRequest(context.Background(), k, event)
			return err
		}
	}
	linear.Check(t, "API Gateway REST", n, func(n int) []byte {
		return []byte(`{"httpMethod":"POST","path":"/","headers":{` + members(n, header) + `},"multiValueHeaders":{` + members(n, multi) +
			`},"queryStringParameters":{` + members(n, param) + `},"multiValueQueryStringParameters":{` + members(n, multiParam) + `},"requestContext":{}}`)
	}, newRequest(trigger.RESTAPI))
	linear.Check(t, "API Gateway HTTP", n, func(n int) []byte {
		query := strings.Repeat("a=b&", n)
		cookies := strings.Repeat(`"c=d",`, n)
		return []byte(`{"version":"2.0","rawPath":"/","rawQueryString":"` + query + `","cookies":[` + strings.TrimSuffix(cookies, ",") +
			`],"headers":{` + members(n, header) + `},"requestContext":{"http":{"method":"POST"}}}`)
	}, newRequest(trigger.HTTPAPI))
	linear.Check(t, "Function Compute HTTP", n, func(n int) []byte {
		return []byte(`{"version":"v1","rawPath":"/","headers":{` + members(n, header) + `},"queryParameters":{` + members(n, param) +
			`},"requestContext":{"http":{"method":"POST"}}}`)
	}, newRequest(trigger.FCHTTP))
	linear.Check(t, "direct invocation", n, func(n int) []byte {
		return []byte(`{` + members(n, param) + `,"EncryptionContext":{` + members(n, param) + `}}`)
	}, func(event []byte) error {
		_, _, err := trigger.Params(event)
		return err
	})
	linear.Check(t, "Detect", n, func(n int) []byte {
		return []byte(`{"version":"2.0","headers":{` + members(n, header) + `},"requestContext":{"http":{"method":"POST"}}}`)
	}, func(event []byte) error {
		_, err := trigger.Detect(event)
		return err
	})
}
