package load_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kmsless/kmsless/bench/load"
	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/sign"
)

// recorder answers 200 to requests whose signature the service's verifier
// accepts, 403 to others, and keeps each request's signature nonce.
type recorder struct {
	dir    *core.Directory
	mu     sync.Mutex
	nonces []string
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	res, err := sign.Verify(r, r.URL.Query(), nil, rec.dir, time.Now(), 15*time.Minute)
	if err != nil || res.Principal == nil || res.Action != "GenerateDataKeyWithoutPlaintext" {
		http.Error(w, "refused", http.StatusForbidden)
		return
	}
	rec.mu.Lock()
	rec.nonces = append(rec.nonces, res.Nonce)
	rec.mu.Unlock()
	_, _ = w.Write([]byte(`{}`))
}

// Each round's pool reaches every side of a comparison whole, as the same
// signed requests, and the service's own verifier accepts every one.
func TestCompareSendsTheSameSignedRequestsToEverySide(t *testing.T) {
	creds := load.Credentials{AccessKeyID: "LTAIloadtest000000001", Secret: "load-secret"}
	dir, err := core.NewDirectory([]core.Principal{{Name: "load", AccessKeyID: creds.AccessKeyID,
		Secret: core.NewSecret(creds.Secret), Policy: core.FullAccess()}})
	if err != nil {
		t.Fatal(err)
	}
	a, b := &recorder{dir: dir}, &recorder{dir: dir}
	sa, sb := httptest.NewServer(a), httptest.NewServer(b)
	defer sa.Close()
	defer sb.Close()
	const n = 300
	call := load.Call{Action: "GenerateDataKeyWithoutPlaintext", Query: url.Values{"KeyId": {"key-1"}}}
	res, err := load.Compare(load.Options{Conns: 4, Rounds: 2, Run: time.Minute, Pool: n,
		Sign: func(int) *load.Pool { return load.NewPool(n, "kms.test", call, creds) }},
		load.Side{Name: "a", Addr: strings.TrimPrefix(sa.URL, "http://")},
		load.Side{Name: "b", Addr: strings.TrimPrefix(sb.URL, "http://")})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Requests != 2*n || !r.Exhausted {
			t.Fatalf("side %d answered %d requests (pool exhausted: %v), want %d", i, r.Requests, r.Exhausted, 2*n)
		}
	}
	seen := map[string]int{}
	for _, nonce := range a.nonces {
		seen[nonce]++
	}
	if len(seen) != 2*n {
		t.Fatalf("side a saw %d distinct nonces in %d requests, want every request its own", len(seen), len(a.nonces))
	}
	for _, nonce := range b.nonces {
		if seen[nonce] != 1 {
			t.Fatalf("side b got nonce %s, which side a did not get exactly once", nonce)
		}
	}
}
