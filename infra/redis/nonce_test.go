package redis_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/rpc"
	"github.com/kmsless/kmsless/internal/signtest"
)

// A request dated almost a skew ahead stays valid until its timestamp plus the
// skew, half an hour from now: Redis must keep its nonce that long, not only
// the 15 minutes of KMS_NONCE_TTL.
func TestFutureDatedNonceLivesInRedisUntilItsSignatureExpires(t *testing.T) {
	f := newFleet(t, fleetConfig{n: 1})
	p := principal(1000, 0)
	const secret = "future-secret"
	p.Secret = core.NewSecret(secret)
	dir, err := core.NewDirectory([]core.Principal{*p})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(rpc.New(rpc.Options{MaxBody: 1 << 20, KMS: f.nodes[0].kms, Principals: dir, ClockSkew: 15 * time.Minute}))
	defer srv.Close()

	at := time.Now().Add(14*time.Minute + 50*time.Second)
	params := signtest.V1("GET", url.Values{"Action": {"ListKeys"}, "Version": {rpc.APIVersion}}, p.AccessKeyID, secret, at)
	get := func() (int, string) {
		resp, err := http.Get(srv.URL + "/?" + params.Encode())
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if status, body := get(); status != http.StatusOK {
		t.Fatalf("first send: %d %s", status, body)
	}
	key := f.prefix + "{p:" + p.AccessKeyID + "}:n:" + params.Get("SignatureNonce")
	ttl, err := mustClient(t, sharedURL()).PTTL(context.Background(), key).Result()
	if err != nil {
		t.Fatal(err)
	}
	// The timestamp has whole seconds, so it may be up to a second earlier
	// than at; the test itself takes a few more.
	if want := time.Until(at.Add(15*time.Minute)) - 5*time.Second; ttl < want || ttl > 30*time.Minute+time.Second {
		t.Errorf("nonce key PTTL %s, want about %s (until the timestamp plus the skew)", ttl, want)
	}
	if status, body := get(); status != http.StatusBadRequest || !strings.Contains(body, core.CodeSignatureNonceUsed) {
		t.Errorf("replay: %d %s; want %s", status, body, core.CodeSignatureNonceUsed)
	}
}
