package redis_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/config"
	"github.com/kmsless/kmsless/infra/redis"
	"github.com/kmsless/kmsless/infra/sealed"
)

// wire builds the service as a deployment would, from environment variables.
func wire(t *testing.T, env map[string]string) (*config.Service, error) {
	t.Helper()
	root := make([]byte, 32)
	_, _ = rand.Read(root)
	return wireRoot(t, root, env)
}

func wireRoot(t *testing.T, root []byte, env map[string]string) (*config.Service, error) {
	t.Helper()
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

// A Redis that asks for a password gets the one KMS_REDIS_PASSWORD_SEALED
// seals, REDIS_URL naming the server and no password: requests share state
// through it. Without the sealed password the service still serves, from its
// fallback, and Redis holds nothing; sealed under another root key, as
// another kind of secret, or beside a password in the URL, start-up stops
// without quoting it.
func TestWireOpensTheSealedRedisPassword(t *testing.T) {
	const pw = "redis p@ss:w/rd?&"
	srv := startRedisAs(t, pw)
	raw, other := make([]byte, 32), make([]byte, 32)
	_, _ = rand.Read(raw)
	_, _ = rand.Read(other)
	seal := func(raw []byte, kind string) string {
		root, err := core.NewRootKey(raw)
		if err != nil {
			t.Fatal(err)
		}
		text, err := sealed.Seal(root, kind, []byte(pw))
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(text)
	}
	nonceInRedis := func(env map[string]string, nonce string) bool {
		t.Helper()
		svc, err := wireRoot(t, raw, env)
		if err != nil {
			t.Fatal(err)
		}
		defer svc.Close()
		if _, err := svc.KMS.Handle(context.Background(), &core.Request{ID: "r", Action: "ListKeys", Caller: svc.DevPrincipal, Nonce: nonce}); err != nil {
			t.Fatal(err)
		}
		keys, err := srv.client().Keys(context.Background(), "*"+nonce+"*").Result()
		if err != nil {
			t.Fatal(err)
		}
		return len(keys) > 0
	}
	if !nonceInRedis(map[string]string{"REDIS_URL": srv.URL, "KMS_REDIS_PASSWORD_SEALED": seal(raw, sealed.RedisPassword)}, "sealed-nonce") {
		t.Error("with the sealed password the request's nonce is not in Redis")
	}
	if nonceInRedis(map[string]string{"REDIS_URL": srv.URL}, "unsealed-nonce") {
		t.Error("without the password the request reached Redis")
	}
	for name, env := range map[string]map[string]string{
		"another root key": {"REDIS_URL": srv.URL, "KMS_REDIS_PASSWORD_SEALED": seal(other, sealed.RedisPassword)},
		"another kind":     {"REDIS_URL": srv.URL, "KMS_REDIS_PASSWORD_SEALED": seal(raw, sealed.StorePassword)},
		"two passwords":    {"REDIS_URL": strings.Replace(srv.URL, "redis://", "redis://:hunter2@", 1), "KMS_REDIS_PASSWORD_SEALED": seal(raw, sealed.RedisPassword)},
	} {
		svc, err := wireRoot(t, raw, env)
		if err == nil {
			svc.Close()
			t.Errorf("%s: started", name)
			continue
		}
		if !strings.Contains(err.Error(), "KMS_REDIS_PASSWORD_SEALED") && !strings.Contains(err.Error(), "sealed password") || strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), pw) {
			t.Errorf("%s: %v", name, err)
		}
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

// The wired service seals cache entries under the key its root derives for the
// cache, so every instance of a deployment accepts the others' entries.
func TestWireSealsCacheEntriesWithRootDerivedKey(t *testing.T) {
	srv := startRedis(t)
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	svc, err := wireRoot(t, raw, map[string]string{"REDIS_URL": srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	r, err := svc.KMS.Handle(context.Background(), &core.Request{ID: "r", Action: "CreateKey", Caller: svc.DevPrincipal, Nonce: "n1"})
	if err != nil {
		t.Fatal(err)
	}
	id := r.(core.Key).ID
	_, err = svc.KMS.Handle(context.Background(), &core.Request{ID: "r", Action: "GenerateDataKeyWithoutPlaintext",
		Params: core.Params{"KeyId": id}, Caller: svc.DevPrincipal, Nonce: "n2"})
	if err != nil {
		t.Fatal(err)
	}
	rdb := srv.client()
	name := "kms:{k:" + id + "}"
	entry, err := rdb.Get(context.Background(), name).Result()
	if err != nil {
		t.Fatalf("no cache entry for the key: %v", err)
	}
	root, err := core.NewRootKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		key  []byte
		want bool
	}{
		{root.DeriveKey(redis.MACPurpose), true},
		{root.DeriveKey("kmsless/v1/another-purpose"), false},
	} {
		peer, err := redis.New(srv.client(), redis.Options{CacheTTL: time.Second, FallbackShare: 0.25, MACKey: c.key, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		if got := redis.CheckKeyEntry(peer.Cache, name, entry); got != c.want {
			t.Errorf("an instance with MAC key %x... accepted the entry: %v, want %v", c.key[:4], got, c.want)
		}
		peer.Close()
	}
}

func TestSharedStateRefusesToStartWithoutMACKey(t *testing.T) {
	for _, key := range [][]byte{nil, make([]byte, 16)} {
		if _, err := redis.Open(sharedURL(), redis.Options{CacheTTL: time.Second, FallbackShare: 0.25, MACKey: key}); err == nil {
			t.Errorf("Open accepted a %d-byte MAC key", len(key))
		}
		if _, err := redis.New(mustClient(t, sharedURL()), redis.Options{CacheTTL: time.Second, FallbackShare: 0.25, MACKey: key}); err == nil {
			t.Errorf("New accepted a %d-byte MAC key", len(key))
		}
	}
}
