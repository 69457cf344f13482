package core_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/store/memory"
)

// countingAccess is the in-memory store, counting the listings of access
// records read through it.
type countingAccess struct {
	*memory.Store
	lists atomic.Int64
	down  atomic.Bool // every listing fails
}

func (c *countingAccess) ListAccess(ctx context.Context, kind string) ([]core.AccessRecord, error) {
	c.lists.Add(1)
	if c.down.Load() {
		return nil, core.ErrUnavailable
	}
	return c.Store.ListAccess(ctx, kind)
}

// makeClientKey makes, through s, a rule taking every address, a policy on
// every key, an AAP named aap and a client key for it valid as p says, and
// returns the client key's ID.
func makeClientKey(t *testing.T, s *core.Service, aap string, p core.Params) string {
	t.Helper()
	for _, step := range []struct {
		action string
		p      core.Params
	}{
		{"CreateNetworkRule", core.Params{"Name": aap + "-any", "SourcePrivateIp": `["0.0.0.0/0","::/0"]`}},
		{"CreatePolicy", core.Params{"Name": aap + "-keys", "KmsInstance": "kst-test", "Permissions": `["RbacPermission/Template/CryptoServiceKeyUser"]`,
			"Resources": `["key/*"]`, "AccessControlRules": fmt.Sprintf(`{"NetworkRules":[%q]}`, aap+"-any")}},
		{"CreateApplicationAccessPoint", core.Params{"Name": aap, "Policies": fmt.Sprintf(`[%q]`, aap+"-keys")}},
	} {
		if _, err := do(t, s, step.action, step.p); err != nil {
			t.Fatalf("%s: %v", step.action, err)
		}
	}
	p["AapName"], p["Password"] = aap, "Passw0rd-test"
	out, err := do(t, s, "CreateClientKey", p)
	if err != nil {
		t.Fatal(err)
	}
	k := out.(core.ClientKeyIssued)
	if len(k.PrivateKey) == 0 || len(k.PublicKey) == 0 {
		t.Fatal("CreateClientKey answered no key")
	}
	return k.ID
}

// A client key made on one instance signs on another once that one reads
// the store again, which a request naming a key it does not know makes it
// do at most once a second however many such requests come; a deleted key
// signs there until the instance's copy is as old as grants may be.
func TestClientKeysReachOtherInstancesBoundedly(t *testing.T) {
	clock := &stepClock{now: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}
	s1, store := memService(t, core.Config{Clock: clock, CacheTTL: time.Minute})
	counted := &countingAccess{Store: store}
	raw, _ := core.GenerateRootKey()
	root, _ := core.NewRootKey(raw)
	s2, err := core.New(core.Config{Store: store, Access: counted, Root: root, Clock: clock, CacheTTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range 1000 {
		if p, _, err := s2.ClientKeyCaller(ctx, fmt.Sprintf("KAAP.made-up-%d", i)); p != nil || err != nil {
			t.Fatalf("a made-up client key: %v, %v", p, err)
		}
	}
	if n := counted.lists.Load(); n != 1 {
		t.Fatalf("1000 made-up client keys in one second read the store %d times, want 1", n)
	}

	id := makeClientKey(t, s1, "billing", core.Params{})
	if p, _, _ := s2.ClientKeyCaller(ctx, id); p != nil {
		t.Fatal("the other instance read the store again within the second")
	}
	clock.Advance(time.Second)
	p, pub, err := s2.ClientKeyCaller(ctx, id)
	if err != nil || p == nil || pub == nil {
		t.Fatalf("a second later the other instance does not know the key: %v", err)
	}
	from := &core.Facts{SourceIP: "10.1.2.3"}
	if p.Name != "applicationaccesspoint/billing" || p.AccessKeyID != id || !p.Policy.AllowedWith("kms:Encrypt", from, s1.KeyARN("k")) ||
		p.Policy.AllowedWith("kms:GetSecretValue", from, s1.SecretARN("s")) || p.Policy.AllowedWith("kms:CreateKey", from, s1.CollectionARN("key")) {
		t.Errorf("the key signs as %q (%q) under a policy that does not allow a key user's actions, or allows more", p.Name, p.AccessKeyID)
	}

	if _, err := do(t, s1, "DeleteClientKey", core.Params{"ClientKeyId": id}); err != nil {
		t.Fatal(err)
	}
	if p, _, _ := s1.ClientKeyCaller(ctx, id); p != nil {
		t.Error("the instance that deleted the key still knows it")
	}
	clock.Advance(30 * time.Second)
	if p, _, _ := s2.ClientKeyCaller(ctx, id); p == nil {
		t.Error("the other instance forgot the key before its copy was a minute old")
	}
	clock.Advance(30 * time.Second)
	if p, _, _ := s2.ClientKeyCaller(ctx, id); p != nil {
		t.Error("the other instance still knows a key deleted a minute ago")
	}
}

// A client key signs from its NotBefore until its NotAfter only.
func TestClientKeySignsWithinItsValidityOnly(t *testing.T) {
	clock := &stepClock{now: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}
	s, _ := memService(t, core.Config{Clock: clock})
	id := makeClientKey(t, s, "later", core.Params{"NotBefore": "2026-12-01T13:00:00Z", "NotAfter": "2026-12-01T14:00:00Z"})
	ctx := context.Background()
	for _, c := range []struct {
		at    time.Duration
		valid bool
	}{{0, false}, {time.Hour, true}, {2*time.Hour - time.Second, true}, {2 * time.Hour, false}} {
		clock.now = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC).Add(c.at)
		p, _, err := s.ClientKeyCaller(ctx, id)
		if c.valid != (p != nil) || !c.valid && (err == nil || core.AsError(err).Code != core.CodeInvalidAccessKeyID) {
			t.Errorf("%s after noon: signs as %v, %v", c.at, p, err)
		}
	}
	out, err := do(t, s, "GetClientKey", core.Params{"ClientKeyId": id})
	if err != nil {
		t.Fatal(err)
	}
	if k := out.(core.IssuedClientKey); k.NotBefore.Hour() != 13 || k.NotAfter.Hour() != 14 || k.AapName != "later" {
		t.Errorf("GetClientKey: %+v", k)
	}
}

// Without a store that keeps them, the access actions are refused and no
// client key signs.
func TestAccessWithoutAStore(t *testing.T) {
	raw, _ := core.GenerateRootKey()
	root, _ := core.NewRootKey(raw)
	s, err := core.New(core.Config{Store: memory.New(), Root: root})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := do(t, s, "ListNetworkRules", core.Params{}); err == nil {
		t.Error("ListNetworkRules without an access store: no error")
	}
	if p, _, err := s.ClientKeyCaller(context.Background(), "KAAP.x"); p != nil || err != nil {
		t.Errorf("ClientKeyCaller without an access store: %v, %v", p, err)
	}
}

// Requests naming a known client key read the store at most once a second
// too, even with no time to keep grants (KMS_CACHE_TTL 0): an ID is no
// secret, and a request is read for its key before its signature is
// checked.
func TestKnownClientKeysReadTheStoreAtMostOnceASecond(t *testing.T) {
	clock := &stepClock{now: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}
	s1, store := memService(t, core.Config{Clock: clock})
	id := makeClientKey(t, s1, "fast", core.Params{})
	counted := &countingAccess{Store: store}
	raw, _ := core.GenerateRootKey()
	root, _ := core.NewRootKey(raw)
	s2, err := core.New(core.Config{Store: store, Access: counted, Root: root, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	for range 1000 {
		if p, _, err := s2.ClientKeyCaller(context.Background(), id); p == nil || err != nil {
			t.Fatalf("the key does not sign: %v", err)
		}
	}
	once := counted.lists.Load()
	clock.Advance(time.Second)
	for range 1000 {
		_, _, _ = s2.ClientKeyCaller(context.Background(), id)
	}
	if n := counted.lists.Load(); once != 4 || n != 2*once {
		t.Errorf("1000 requests in each of two seconds made %d and %d listings, want 4 (one reading) each", once, n-once)
	}
}

// A principal of the principals file may not take the name of an
// application access point's, for which a client key made through the
// management API signs.
func TestFilePrincipalsCannotPassForAccessPoints(t *testing.T) {
	_, err := core.NewDirectory([]core.Principal{{Name: "applicationaccesspoint/orders", AccessKeyID: "LTAIx",
		Secret: core.NewSecret("s"), Policy: core.FullAccess()}})
	if err == nil {
		t.Error("a file principal named as an application access point's was taken")
	}
}

// A store that does not answer is tried at most once a second too, and
// its failure is the request's: no client key signs on what could not be
// read.
func TestClientKeysOfAStoreDownAreTriedOnceASecond(t *testing.T) {
	clock := &stepClock{now: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}
	s1, store := memService(t, core.Config{Clock: clock})
	id := makeClientKey(t, s1, "down", core.Params{})
	counted := &countingAccess{Store: store}
	counted.down.Store(true)
	raw, _ := core.GenerateRootKey()
	root, _ := core.NewRootKey(raw)
	s2, err := core.New(core.Config{Store: store, Access: counted, Root: root, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	if p, _, err := s2.ClientKeyCaller(context.Background(), id); p != nil || err == nil {
		t.Fatalf("a store down: signs as %v, %v", p, err)
	}
	for range 1000 {
		_, _, _ = s2.ClientKeyCaller(context.Background(), id)
	}
	if n := counted.lists.Load(); n != 1 {
		t.Errorf("1000 requests in the second of a failed read tried %d more", n-1)
	}
	counted.down.Store(false)
	clock.Advance(time.Second)
	if p, _, err := s2.ClientKeyCaller(context.Background(), id); p == nil || err != nil {
		t.Errorf("the store back: %v, %v", p, err)
	}
}

// The access actions' parameters are the caller's: whatever they hold, a
// request is answered, refused as InvalidParameter or MissingParameter
// naming what is wrong, or found to name what does not exist; and a policy
// that is made compiles into the principal its client keys sign for.
func FuzzAccessParameters(f *testing.F) {
	f.Add("r", `["10.0.0.0/8"]`, `["RbacPermission/Template/CryptoServiceKeyUser"]`, `["key/*"]`, `{"NetworkRules":["r"]}`, `["p"]`)
	f.Add("r.1", `["::1","10.0.0.1"]`, `["RbacPermission/Template/CryptoServiceSecretUser"]`, `["secret/a*"]`, `{"NetworkRules":[]}`, `["p","p"]`)
	f.Add("", `[]`, `[1]`, `["key/"]`, `{"NetworkRules":"r"}`, `null`)
	f.Add("x", `["10.0.0.0/33"]`, `["RbacPermission/Template/CryptoServiceKeyUser","RbacPermission/Template/CryptoServiceKeyUser"]`, `["key/k","secret/s"]`, `{}`, `[]`)
	f.Fuzz(func(t *testing.T, name, ips, perms, resources, rules, policies string) {
		clock := &stepClock{now: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}
		s, _ := memService(t, core.Config{Clock: clock})
		answered := func(action string, p core.Params) bool {
			_, err := do(t, s, action, p)
			if err == nil {
				return true
			}
			switch ke := core.AsError(err); ke.Code {
			case core.CodeInvalidParameter, core.CodeMissingParameter, core.CodeResourceNotFound, core.CodeResourceExist:
			default:
				t.Fatalf("%s refused as %v", action, err)
			}
			return false
		}
		answered("CreateNetworkRule", core.Params{"Name": name, "SourcePrivateIp": ips})
		answered("CreatePolicy", core.Params{"Name": "p", "KmsInstance": "k", "Permissions": perms, "Resources": resources, "AccessControlRules": rules})
		answered("UpdatePolicy", core.Params{"Name": "p", "Resources": resources, "AccessControlRules": rules})
		if !answered("CreateApplicationAccessPoint", core.Params{"Name": "a", "Policies": policies}) {
			return
		}
		if !answered("CreateClientKey", core.Params{"AapName": "a", "Password": "Passw0rd-fuzz"}) {
			return
		}
		// The key's AAP, policies and rules compile into a principal.
		keys, err := do(t, s, "ListClientKeys", core.Params{})
		if err != nil {
			t.Fatal(err)
		}
		id := keys.([]core.IssuedClientKey)[0].ID
		if p, _, err := s.ClientKeyCaller(context.Background(), id); p == nil || err != nil {
			t.Fatalf("the client key signs for no one: %v", err)
		}
	})
}
