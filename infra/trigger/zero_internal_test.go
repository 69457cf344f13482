package trigger

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/kmsless/kmsless/internal/zerotest"
)

// The answer a handler wrote, which may hold a plaintext in base64, is
// zeroed once it is encoded in the trigger's shape; the encoded event goes
// to the platform.
func TestServeZeroesTheAnswerOnceEncoded(t *testing.T) {
	const answer = `{"Plaintext":"c2VjcmV0IGRhdGEga2V5IGluIGJhc2U2NA=="}`
	for _, file := range []string{"aws/apigw-rest-encrypt.json", "aws/apigw-http-describe-key.json", "fc/http-encrypt-form.json"} {
		event, err := os.ReadFile(filepath.Join("..", "..", "events", file))
		if err != nil {
			t.Fatal(err)
		}
		var kept [][]byte
		h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte(answer))
			kept = append(kept, w.(*recorder).resp.Body)
		})
		k, _ := Detect(event)
		out, err := Serve(context.Background(), h, k, event)
		if err != nil {
			t.Fatal(err)
		}
		var m struct{ Body string }
		if err := json.Unmarshal(out, &m); err != nil || m.Body != answer {
			t.Fatalf("%s: answer %s", file, out)
		}
		if !zerotest.Zeroed(kept) {
			t.Errorf("%s: the answer was not zeroed once encoded", file)
		}
	}
}
