package redisx_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"log/slog"
	"strings"
	"testing"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/config"
)

// wire builds the service as a deployment would, from environment variables.
func wire(t *testing.T, env map[string]string) (*config.Service, error) {
	t.Helper()
	root := make([]byte, 32)
	_, _ = rand.Read(root)
	base := map[string]string{"KMS_DATA_DIR": t.TempDir(), "KMS_ROOT_KEY": base64.StdEncoding.EncodeToString(root)}
	for k, v := range env {
		base[k] = v
	}
	set, err := config.Read(func(k string) string { return base[k] })
	if err != nil {
		t.Fatal(err)
	}
	return config.Wire(context.Background(), set, slog.New(slog.DiscardHandler))
}

func TestWireSharesStateThroughRedisWhenURLIsSet(t *testing.T) {
	srv := startRedis(t)
	svc, err := wire(t, map[string]string{"REDIS_URL": srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	p := svc.DevPrincipal
	_, err = svc.KMS.Handle(context.Background(), &core.Request{ID: "r", Action: "ListKeys", Caller: p, Nonce: "wired-nonce"})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := srv.client().Keys(context.Background(), "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(keys, " "), "wired-nonce") {
		t.Fatalf("the request's nonce is not in Redis (keys %q): the service is not wired to it", keys)
	}
}

func TestWireStartsWithUnreachableRedisAndServes(t *testing.T) {
	svc, err := wire(t, map[string]string{"REDIS_URL": closedPort(t)})
	if err != nil {
		t.Fatalf("an unreachable Redis stopped start-up: %v", err)
	}
	defer svc.Close()
	_, err = svc.KMS.Handle(context.Background(), &core.Request{ID: "r", Action: "CreateKey", Caller: svc.DevPrincipal, Nonce: "n"})
	if err != nil {
		t.Fatalf("a request without Redis: %v", err)
	}
}

func TestWireRefusesMalformedRedisURL(t *testing.T) {
	if svc, err := wire(t, map[string]string{"REDIS_URL": "redis+sentinel://127.0.0.1:26379"}); err == nil {
		svc.Close()
		t.Fatal("a Sentinel URL without master_name was accepted")
	}
}
