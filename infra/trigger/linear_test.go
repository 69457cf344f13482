package trigger_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/kmsless/kmsless/infra/trigger"
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

// assertLinear fails unless the work of decoding an event of 10n elements is
// at most 30 times that of n: linear work grows ten times, up to twenty with
// maps and buffers that grow by doubling, while a decoder that went back over
// earlier elements for each new one would do about a hundred times more.
func assertLinear(t *testing.T, name string, n int, build func(n int) []byte, decode func([]byte) error) {
	t.Helper()
	small, large := build(n), build(10*n)
	if err := decode(small); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	a1, b1 := work(func() { _ = decode(small) })
	a10, b10 := work(func() { _ = decode(large) })
	t.Logf("%s: x%.1f allocations, x%.1f bytes for ten times the elements", name, float64(a10)/float64(a1), float64(b10)/float64(b1))
	if a10 > 30*a1 || b10 > 30*b1 {
		t.Errorf("%s: %d elements cost %d allocations (%d B), %d cost %d (%d B): more than linear", name, n, a1, b1, 10*n, a10, b10)
	}
}

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
	assertLinear(t, "API Gateway REST", n, func(n int) []byte {
		return []byte(`{"httpMethod":"POST","path":"/","headers":{` + members(n, header) + `},"multiValueHeaders":{` + members(n, multi) +
			`},"queryStringParameters":{` + members(n, param) + `},"multiValueQueryStringParameters":{` + members(n, multiParam) + `},"requestContext":{}}`)
	}, newRequest(trigger.RESTAPI))
	assertLinear(t, "API Gateway HTTP", n, func(n int) []byte {
		query := strings.Repeat("a=b&", n)
		cookies := strings.Repeat(`"c=d",`, n)
		return []byte(`{"version":"2.0","rawPath":"/","rawQueryString":"` + query + `","cookies":[` + strings.TrimSuffix(cookies, ",") +
			`],"headers":{` + members(n, header) + `},"requestContext":{"http":{"method":"POST"}}}`)
	}, newRequest(trigger.HTTPAPI))
	assertLinear(t, "Function Compute HTTP", n, func(n int) []byte {
		return []byte(`{"version":"v1","rawPath":"/","headers":{` + members(n, header) + `},"queryParameters":{` + members(n, param) +
			`},"requestContext":{"http":{"method":"POST"}}}`)
	}, newRequest(trigger.FCHTTP))
	assertLinear(t, "direct invocation", n, func(n int) []byte {
		return []byte(`{` + members(n, param) + `,"EncryptionContext":{` + members(n, param) + `}}`)
	}, func(event []byte) error {
		_, _, err := trigger.Params(event)
		return err
	})
	assertLinear(t, "Detect", n, func(n int) []byte {
		return []byte(`{"version":"2.0","headers":{` + members(n, header) + `},"requestContext":{"http":{"method":"POST"}}}`)
	}, func(event []byte) error {
		_, err := trigger.Detect(event)
		return err
	})
}
