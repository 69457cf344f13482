package trigger_test

import (
	"context"
	"testing"

	"github.com/kmsless/kmsless/infra/trigger"
)

// BenchmarkDecode prices what a function does with an HTTP trigger event
// before its handler runs: Detect, then NewRequest.
func BenchmarkDecode(b *testing.B) {
	for _, file := range []string{
		"fc/http-generate-data-key-without-plaintext.json",
		"aws/function-url-generate-data-key-without-plaintext.json",
		"aws/apigw-rest-encrypt.json",
	} {
		event := sample(b, file)
		b.Run(file, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				k, err := trigger.Detect(event)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := trigger.NewRequest(context.Background(), k, event); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
