package redis_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/alibaba"
	"github.com/kmsless/kmsless/infra/redis"
)

func TestNonceUsedOnOneInstanceIsRefusedOnAnother(t *testing.T) {
	f := newFleet(t, fleetConfig{n: 3})
	p := principal(0, 0)
	id := f.nodes[0].createKey(t, p)
	params := core.Params{"KeyId": id}
	if _, err := f.nodes[0].callNonce(p, "nonce-1", "GenerateDataKeyWithoutPlaintext", params); err != nil {
		t.Fatal(err)
	}
	for i, n := range f.nodes {
		_, err := n.callNonce(p, "nonce-1", "GenerateDataKeyWithoutPlaintext", params)
		if code(err) != core.CodeSignatureNonceUsed {
			t.Fatalf("instance %d answered a replayed nonce with %q, want %s", i, code(err), core.CodeSignatureNonceUsed)
		}
	}
	// The nonce belongs to its principal: another principal may use the same text.
	if _, err := f.nodes[1].callNonce(principal(0, 0), "nonce-1", "DescribeKey", params); err != nil {
		t.Fatalf("another principal's identical nonce was refused: %v", err)
	}
}

// A throttled request leaves its nonce unused, so the client may retry it after
// Retry-After.
func TestThrottledRequestDoesNotSpendItsNonce(t *testing.T) {
	f := newFleet(t, fleetConfig{n: 1})
	n := f.nodes[0]
	p := principal(1, 1)
	if _, err := n.call(p, "ListKeys", nil); err != nil {
		t.Fatal(err)
	}
	_, err := n.callNonce(p, "retry-me", "ListKeys", nil)
	ke := core.AsError(err)
	if ke.Code != core.CodeThrottling || ke.RetryAfter <= 0 || ke.RetryAfter > time.Second {
		t.Fatalf("second request within the second: %v (Retry-After %s), want Throttling with 0 < Retry-After <= 1s", err, ke.RetryAfter)
	}
	time.Sleep(ke.RetryAfter)
	if _, err := n.callNonce(p, "retry-me", "ListKeys", nil); err != nil {
		t.Fatalf("the retried request after Retry-After: %v", err)
	}
}

// TestReplaysDoNotSpendTheSignersBudget replays one captured request at a
// principal with a burst of two, through Redis and through the fallback when
// Redis is unreachable: each replay is refused as one, and the signer's own
// next request is still served.
func TestReplaysDoNotSpendTheSignersBudget(t *testing.T) {
	for name, url := range map[string]string{"redis": "", "fallback": closedPort(t)} {
		t.Run(name, func(t *testing.T) {
			f := newFleet(t, fleetConfig{url: url, n: 1, opts: redis.Options{CacheTTL: time.Second, FallbackShare: 1}})
			n := f.nodes[0]
			p := principal(1, 2)
			if _, err := n.callNonce(p, "captured", "ListKeys", nil); err != nil {
				t.Fatal(err)
			}
			for range 5 {
				if _, err := n.callNonce(p, "captured", "ListKeys", nil); code(err) != core.CodeSignatureNonceUsed {
					t.Fatalf("a replay got %q, want %s", code(err), core.CodeSignatureNonceUsed)
				}
			}
			if _, err := n.call(p, "ListKeys", nil); err != nil {
				t.Errorf("the signer's own request after five replays: %v", err)
			}
		})
	}
}

// Four instances offered three times a principal's limit for five seconds admit,
// together, the limit times the seconds plus the burst, within 5%.
func TestFourInstancesTogetherAdmitTheLimit(t *testing.T) {
	const (
		qps      = 200
		burst    = 200
		offered  = 3 * qps
		duration = 5 * time.Second
		workers  = 12
	)
	f := newFleet(t, fleetConfig{n: 4})
	p := principal(qps, burst)
	setup := principal(0, 0)
	id := f.nodes[0].createKey(t, setup)
	for _, n := range f.nodes { // warm every instance's cache
		if _, err := n.generate(setup, id); err != nil {
			t.Fatal(err)
		}
	}
	var admitted, throttled atomic.Int64
	interval := time.Duration(workers) * time.Second / offered
	start := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		n := f.nodes[w%len(f.nodes)]
		wg.Go(func() {
			for next := start.Add(time.Duration(w) * interval / workers); next.Before(start.Add(duration)); next = next.Add(interval) {
				time.Sleep(time.Until(next))
				_, err := n.generate(p, id)
				switch code(err) {
				case "":
					admitted.Add(1)
				case core.CodeThrottling:
					throttled.Add(1)
				default:
					t.Errorf("request failed: %v", err)
				}
			}
		})
	}
	wg.Wait()
	want := float64(qps)*duration.Seconds() + burst
	got := float64(admitted.Load())
	t.Logf("offered %d, admitted %.0f, throttled %d; want %.0f ± 5%%", admitted.Load()+throttled.Load(), got, throttled.Load(), want)
	if got < want*0.95 || got > want*1.05 {
		t.Fatalf("admitted %.0f requests, want %.0f ± 5%%", got, want)
	}
}

// A burst from every instance at once is admitted up to the burst, not up to the
// burst per instance.
func TestBurstAcrossInstancesAdmitsTheBurstOnce(t *testing.T) {
	const qps, burst, perNode = 10, 100, 100
	// Each request gets a connection at once and time for its answer: one
	// that waited out a dial, pool or read timeout on a loaded machine would be
	// admitted from its instance's fallback share, and this test is about
	// the shared bucket.
	f := newFleet(t, fleetConfig{n: 4, url: patientURL(t, perNode)})
	p := principal(qps, burst)
	perInstance := make([]atomic.Int64, len(f.nodes))
	start := time.Now()
	var wg sync.WaitGroup
	for i, n := range f.nodes {
		for range perNode {
			wg.Go(func() {
				_, err := n.call(p, "ListKeys", nil)
				switch code(err) {
				case "":
					perInstance[i].Add(1)
				case core.CodeThrottling:
				default:
					t.Errorf("request failed: %v", err)
				}
			})
		}
	}
	wg.Wait()
	elapsed := time.Since(start)
	var total int64
	for i := range perInstance {
		total += perInstance[i].Load()
	}
	// Tokens also refill while the burst is in flight.
	ceiling := int64(burst + qps*elapsed.Seconds() + 1)
	t.Logf("%d requests over %s from %d instances: %d admitted (burst %d, ceiling %d)", perNode*len(f.nodes), elapsed, len(f.nodes), total, burst, ceiling)
	if total < burst || total > ceiling {
		t.Fatalf("admitted %d of a burst, want %d to %d", total, burst, ceiling)
	}
}

// On a warm cache a request costs one Redis command, the admission script
// that takes a token and records the nonce, and at most one write: concurrent
// requests share writes.
func TestWarmRequestCostsOneRedisRoundTrip(t *testing.T) {
	f := newFleet(t, fleetConfig{n: 1, opts: redis.Options{FallbackShare: 0.25, CacheTTL: time.Minute}})
	n := f.nodes[0]
	p := principal(1_000_000, 0)
	id := n.createKey(t, p)
	for range 2 { // load the key, its version and the script
		if _, err := n.generate(p, id); err != nil {
			t.Fatal(err)
		}
	}
	const workers, each = 8, 25
	concurrently := func() {
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for range each {
					if _, err := n.generate(p, id); err != nil {
						t.Error(err)
					}
				}
			})
		}
		wg.Wait()
	}
	concurrently() // and open the connections concurrency needs
	n.count.reset()
	concurrently()
	const requests = workers * each
	total, writes := n.count.total.Load(), n.count.writes.Load()
	names := n.count.reset()
	// A connection the pool opens meanwhile says hello first and names its
	// client library (CLIENT SETINFO), a write each at worst; that is the
	// connection's cost, not a request's.
	opened, handshake := int64(names["hello"]), int64(names["hello"]+names["client"])
	if total-handshake != requests || names["evalsha"] != requests {
		t.Fatalf("%d warm requests sent %d Redis commands %v, want one evalsha each", requests, total, names)
	}
	if writes > requests+handshake {
		t.Fatalf("%d warm requests took %d writes to Redis (%d connections opened), want at most one each", requests, writes, opened)
	}
	t.Logf("%d warm requests from %d callers: %d commands in %d writes", requests, workers, total, writes)
}

// The plain NonceStore (for a service wired with a separate limiter) shares
// nonces across instances too, under the same Redis key as AllowAndUse.
func TestNonceStoreIsSharedAndMatchesAllowAndUse(t *testing.T) {
	f := newFleet(t, fleetConfig{})
	a, b := f.nodes[0].shared.Limiter, f.nodes[1].shared.Limiter
	ctx := context.Background()
	fresh, err := a.Use(ctx, "LTAIuser:n1", time.Minute, 0)
	if err != nil || !fresh {
		t.Fatalf("first use: fresh %v, err %v", fresh, err)
	}
	if fresh, err := b.Use(ctx, "LTAIuser:n1", time.Minute, 0); err != nil || fresh {
		t.Fatalf("replay on another instance: fresh %v, err %v; want refused", fresh, err)
	}
	if _, fresh, err := b.AllowAndUse(ctx, "LTAIuser", core.PerSecond(100, 0), "LTAIuser:n1", time.Minute, 0); err != nil || fresh {
		t.Fatalf("AllowAndUse of a nonce Use recorded: fresh %v, err %v; want refused", fresh, err)
	}
	if _, fresh, err := a.AllowAndUse(ctx, "LTAIuser", core.PerSecond(100, 0), "LTAIuser:n2", time.Minute, 0); err != nil || !fresh {
		t.Fatalf("AllowAndUse of a new nonce: fresh %v, err %v", fresh, err)
	}
	if fresh, err := b.Use(ctx, "LTAIuser:n2", time.Minute, 0); err != nil || fresh {
		t.Fatalf("Use of a nonce AllowAndUse recorded: fresh %v, err %v; want refused", fresh, err)
	}
}

// patientURL is the shared Redis with a pool of conns connections and
// timeouts no loaded machine reaches.
func patientURL(t *testing.T, conns int) string {
	t.Helper()
	u, err := url.Parse(sharedURL())
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("pool_size", strconv.Itoa(conns))
	q.Set("pool_timeout", "30s")
	q.Set("read_timeout", "30s")
	q.Set("dial_timeout", "30s")
	u.RawQuery = q.Encode()
	return u.String()
}

// The RSA key buckets are the caller's across instances, like its request
// rate: the one 4096-bit data key pair a minute made on one instance leaves
// none on another, while ECC pairs go on there.
func TestRSAKeyBucketIsSharedAcrossInstances(t *testing.T) {
	f := newFleet(t, fleetConfig{n: 2})
	p := principal(1000, 1000)
	id := f.nodes[0].createKey(t, p)
	if core.RSAKeyLimits[4096].Burst != 1 {
		t.Fatalf("the test makes one key for a burst of 1, not %d", core.RSAKeyLimits[4096].Burst)
	}
	rsa4096 := core.Params{"KeyId": id, "KeyPairSpec": "RSA_4096"}
	if _, err := f.nodes[0].call(p, "GenerateDataKeyPairWithoutPlaintext", rsa4096); err != nil {
		t.Fatalf("the first RSA_4096 pair: %v", err)
	}
	if _, err := f.nodes[1].call(p, "GenerateDataKeyPairWithoutPlaintext", rsa4096); code(err) != core.CodeThrottling {
		t.Fatalf("another instance made a second RSA_4096 pair within the minute: %v", err)
	}
	if _, err := f.nodes[1].call(p, "GenerateDataKeyPair", core.Params{"KeyId": id, "KeyPairSpec": "ECC_NIST_P256"}); err != nil {
		t.Fatalf("an ECC pair on the other instance: %v", err)
	}
}

// A private key's bucket is the caller's across instances too: what one
// instance spent of it, signing with an RSA_3072 key (whose signatures are
// slow enough beside the refill, even under -race, for a second bucket to
// show), another cannot spend again, while a P-256 key's signatures,
// unbucketed, go on there.
func TestPrivateKeyBucketIsSharedAcrossInstances(t *testing.T) {
	f := newFleet(t, fleetConfig{n: 2})
	p := principal(100000, 100000)
	keyOf := func(spec string) string {
		out, err := f.nodes[0].call(p, "CreateKey", core.Params{"KeySpec": spec, "KeyUsage": core.UsageSign})
		if err != nil {
			t.Fatal(err)
		}
		return out.(*alibaba.KeyMetadataResponse).KeyMetadata.KeyId
	}
	rsa3072, p256 := keyOf("RSA_3072"), keyOf("ECC_NIST_P256")
	d := sha256.Sum256([]byte("m"))
	sign := func(node int, key string, alg string, digest []byte) error {
		_, err := f.nodes[node].call(p, "AsymmetricSign", core.Params{"KeyId": key, "Algorithm": alg, "Digest": base64.StdEncoding.EncodeToString(digest)})
		return err
	}
	lim := core.PrivateKeyLimits["RSA_3072"]
	// The burst spent on one instance, the other is throttled after at
	// most what refilled meanwhile, where a bucket of its own would have
	// given it a burst again.
	start := time.Now()
	for i := range lim.Burst {
		if err := sign(0, rsa3072, "RSA_PKCS1_SHA_256", d[:]); err != nil {
			t.Fatalf("signature %d on the first instance: %v", i+1, err)
		}
	}
	other := 0
	for ; other < lim.Burst; other++ {
		if err := sign(1, rsa3072, "RSA_PKCS1_SHA_256", d[:]); err != nil {
			if code(err) != core.CodeThrottling {
				t.Fatal(err)
			}
			break
		}
	}
	if refilled := int(time.Since(start) / (lim.Period / time.Duration(lim.Rate))); other > refilled+1 {
		t.Fatalf("the other instance signed %d times past the burst spent on the first, in %v; at most %d refilled", other, time.Since(start), refilled)
	}
	d256 := sha256.Sum256([]byte("m"))
	if err := sign(1, p256, "ECDSA_SHA_256", d256[:]); err != nil {
		t.Fatalf("a P-256 signature on the other instance: %v", err)
	}
}
