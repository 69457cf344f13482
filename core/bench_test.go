package core_test

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	fmldsa "filippo.io/mldsa"
	"filippo.io/mldsa/mldsacrypto"
	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	k1ecdsa "github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm4"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/inproc"
	"github.com/kmsless/kmsless/internal/benchfloor"
)

// floorOp is the least any data-key call must do: draw a 32-byte key and a
// nonce, and seal the key with AES-GCM.
func floorOp(aead cipher.AEAD, buf, out []byte) []byte {
	if _, err := rand.Read(buf); err != nil {
		panic(err)
	}
	key, nonce := buf[:32], buf[32:]
	return aead.Seal(out[:0], nonce, key, nil)
}

func newFloorAEAD(b *testing.B) cipher.AEAD {
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	block, err := aes.NewCipher(k)
	if err != nil {
		b.Fatal(err)
	}
	a, err := cipher.NewGCM(block)
	if err != nil {
		b.Fatal(err)
	}
	return a
}

// BenchmarkFloor measures floorOp alone, to read next to the x-floor ratio.
func BenchmarkFloor(b *testing.B) {
	aead := newFloorAEAD(b)
	buf, out := make([]byte, 32+12), make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		out = floorOp(aead, buf, out)
	}
}

// BenchmarkGenerateDataKeyWithoutPlaintext runs the headline action in process
// through Service.Handle with a warm cache, for a caller with full access, and
// reports its cost as a multiple of the floor (x-floor).
func BenchmarkGenerateDataKeyWithoutPlaintext(b *testing.B) {
	benchDataKey(b, core.FullAccess())
}

// BenchmarkGenerateDataKeyWithoutPlaintextScoped is the same for a caller whose
// policy names its actions and resources, as the partition provisioner's does:
// the cost of matching patterns shows here, not with full access.
func BenchmarkGenerateDataKeyWithoutPlaintextScoped(b *testing.B) {
	benchDataKey(b, core.MustPolicy(core.Statement{
		Effect:   "Allow",
		Action:   []string{"kms:CreateKey", "kms:GenerateDataKeyWithoutPlaintext"},
		Resource: []string{"acs:kms:*:*:key", "acs:kms:*:*:key/*", "acs:kms:*:*:alias/*"},
	}))
}

// BenchmarkGenerateDataKeyWithoutPlaintextConditioned adds a condition on the
// request's context, the tenant scoping of the seed scenario: its cost is
// evaluating the policy again once the key is read.
func BenchmarkGenerateDataKeyWithoutPlaintextConditioned(b *testing.B) {
	benchDataKeyWith(b, core.MustPolicy(core.Statement{
		Effect: "Allow", Action: []string{"kms:CreateKey"}, Resource: []string{"acs:kms:*:*:key"},
	}, core.Statement{
		Effect: "Allow", Action: []string{"kms:GenerateDataKeyWithoutPlaintext"}, Resource: []string{"acs:kms:*:*:key/*"},
		Condition: []core.Condition{{Operator: "StringLike", Key: "kms:EncryptionContext:PartitionId", Values: []string{"tenant-a-*"}}},
	}), core.Params{"EncryptionContext": `{"PartitionId":"tenant-a-0001"}`})
}

// BenchmarkGenerateDataKeyWithoutPlaintextContext is the conditioned one's
// baseline: the same context, the same actions and resources, no condition.
func BenchmarkGenerateDataKeyWithoutPlaintextContext(b *testing.B) {
	benchDataKeyWith(b, core.MustPolicy(core.Statement{
		Effect: "Allow", Action: []string{"kms:CreateKey"}, Resource: []string{"acs:kms:*:*:key"},
	}, core.Statement{
		Effect: "Allow", Action: []string{"kms:GenerateDataKeyWithoutPlaintext"}, Resource: []string{"acs:kms:*:*:key/*"},
	}), core.Params{"EncryptionContext": `{"PartitionId":"tenant-a-0001"}`})
}

// BenchmarkGenerateDataKeyWithoutPlaintextResourceAliases is the headline
// for a caller allowed the keys that carry its project's aliases
// (kms:ResourceAliases), against the floor: with the key's aliases kept for
// CacheTTL (kept), and read from the store on every request (listed,
// CacheTTL 0), which a PostgreSQL store pays a round trip for.
func BenchmarkGenerateDataKeyWithoutPlaintextResourceAliases(b *testing.B) {
	for _, c := range []struct {
		name string
		ttl  time.Duration
	}{{"kept", time.Minute}, {"listed", 0}} {
		b.Run(c.name, func(b *testing.B) {
			svc, _ := memService(b, core.Config{Cache: inproc.NewCache(time.Minute, 1000), Limiter: inproc.NewLimiter(),
				Nonces: inproc.NewNonces(nil), CacheTTL: c.ttl})
			admin := &core.Principal{Name: "admin", AccessKeyID: "LTAIadmin", Secret: core.NewSecret("s"), QPS: 1 << 30, Policy: core.FullAccess()}
			created, err := svc.Handle(background, &core.Request{Action: "CreateKey", Params: core.Params{}, Caller: admin})
			if err != nil {
				b.Fatal(err)
			}
			id := created.(core.Key).ID
			for _, name := range []string{"alias/project-a/orders", "alias/orders-2026"} {
				if _, err := svc.Handle(background, &core.Request{Action: "CreateAlias", Params: core.Params{"AliasName": name, "KeyId": id}, Caller: admin}); err != nil {
					b.Fatal(err)
				}
			}
			caller := &core.Principal{Name: "bench", AccessKeyID: "LTAIbench", Secret: core.NewSecret("s"), QPS: 1 << 30, Policy: core.MustPolicy(core.Statement{
				Effect: "Allow", Action: []string{"kms:GenerateDataKeyWithoutPlaintext"}, Resource: []string{"*"},
				Condition: []core.Condition{{Operator: "ForAnyValue:StringLike", Key: "kms:ResourceAliases", Values: []string{"alias/project-a/*"}}},
			})}
			req := &core.Request{ID: "BENCH", Action: "GenerateDataKeyWithoutPlaintext", Params: core.Params{"KeyId": id}, Caller: caller}
			aead := newFloorAEAD(b)
			buf, out := make([]byte, 32+12), make([]byte, 0, 64)
			timeAgainst(b, "x-floor", func() {
				if _, err := svc.Handle(background, req); err != nil {
					b.Fatal(err)
				}
			}, func() { out = floorOp(aead, buf, out) })
		})
	}
}

// BenchmarkGenerateDataKeyWithoutPlaintextSM4 is the headline under an
// Aliyun_SM4 key, against drawing a key and nonce and sealing the key with
// SM4-GCM alone (x-sm4): SM4 is its own floor, and ns/op beside the AES
// headline's says what the cipher costs.
func BenchmarkGenerateDataKeyWithoutPlaintextSM4(b *testing.B) {
	block, err := sm4.NewCipher(make([]byte, 16))
	if err != nil {
		b.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		b.Fatal(err)
	}
	buf, out := make([]byte, 32+12), make([]byte, 0, 64)
	benchAction(b, core.FullAccess(), core.Params{"KeySpec": core.SpecSM4}, "GenerateDataKeyWithoutPlaintext", nil, "x-sm4",
		func() { out = floorOp(aead, buf, out) })
}

func benchDataKey(b *testing.B, policy *core.Policy) { benchDataKeyWith(b, policy, nil) }

// benchDataKeyWith times GenerateDataKeyWithoutPlaintext for a caller with
// policy against floorOp.
func benchDataKeyWith(b *testing.B, policy *core.Policy, extra core.Params) {
	aead := newFloorAEAD(b)
	buf, out := make([]byte, 32+12), make([]byte, 0, 64)
	benchAction(b, policy, core.Params{}, "GenerateDataKeyWithoutPlaintext", extra, "x-floor", func() { out = floorOp(aead, buf, out) })
}

// BenchmarkGenerateDataKeyPair runs GenerateDataKeyPair in process for the
// specs whose key takes microseconds to make, against making the key alone
// (x-keygen): what the pair costs beyond its key is encoding both halves and
// sealing the private one. RSA keys take tens of milliseconds and more.
func BenchmarkGenerateDataKeyPair(b *testing.B) {
	for _, spec := range []struct {
		name   string
		keygen func()
	}{
		{"ECC_NIST_P256", func() { _, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader) }},
		{"ECC_NIST_EDWARDS25519", func() { _, _, _ = ed25519.GenerateKey(rand.Reader) }},
	} {
		b.Run(spec.name, func(b *testing.B) {
			benchAction(b, core.FullAccess(), core.Params{}, "GenerateDataKeyPair", core.Params{"KeyPairSpec": spec.name}, "x-keygen", spec.keygen)
		})
	}
}

// BenchmarkGenerateMac runs GenerateMac on a 64-byte message under an
// HMAC_256 key in process, against the HMAC alone (x-hmac): what it costs
// beyond the MAC is the request's checks and unwrapping the key's material,
// which is done for each MAC and cleared.
func BenchmarkGenerateMac(b *testing.B) {
	key, msg, out := make([]byte, 32), make([]byte, 64), make([]byte, 0, 32)
	benchAction(b, core.FullAccess(), core.Params{"KeySpec": "HMAC_256"}, "GenerateMac",
		core.Params{"Message": base64.StdEncoding.EncodeToString(msg), "MacAlgorithm": "HMAC_SHA_256"}, "x-hmac", func() {
			m := hmac.New(sha256.New, key)
			m.Write(msg)
			out = m.Sum(out[:0])
		})
}

// BenchmarkAsymmetricSign signs a SHA-256 digest under an ECC_NIST_P256
// key in process, against signing it with the key at hand (x-sign): what
// it costs beyond the signature is the request's checks and finding the
// private key, parsed once per instance and kept.
func BenchmarkAsymmetricSign(b *testing.B) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	digest := sha256.Sum256([]byte("m"))
	benchAction(b, core.FullAccess(), core.Params{"KeySpec": "ECC_NIST_P256"}, "AsymmetricSign",
		core.Params{"Algorithm": "ECDSA_SHA_256", "Digest": base64.StdEncoding.EncodeToString(digest[:])}, "x-sign", func() {
			_, _ = ecdsa.SignASN1(rand.Reader, key, digest[:])
		})
}

// BenchmarkAsymmetricSignEd25519 signs a 64-byte message whole under an
// Ed25519 key (ED25519_SHA_512), against signing it with the key at hand.
func BenchmarkAsymmetricSignEd25519(b *testing.B) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	msg := make([]byte, 64)
	benchAction(b, core.FullAccess(), core.Params{"KeySpec": "ECC_NIST_EDWARDS25519"}, "AsymmetricSign",
		core.Params{"Algorithm": "ED25519_SHA_512", "Message": base64.StdEncoding.EncodeToString(msg)}, "x-sign", func() {
			_ = ed25519.Sign(key, msg)
		})
}

// BenchmarkAsymmetricSignSecp256k1 signs a SHA-256 digest under an
// ECC_SECG_P256K1 key, against signing it with the key at hand.
func BenchmarkAsymmetricSignSecp256k1(b *testing.B) {
	key, err := secp256k1.GeneratePrivateKey()
	if err != nil {
		b.Fatal(err)
	}
	digest := sha256.Sum256([]byte("m"))
	benchAction(b, core.FullAccess(), core.Params{"KeySpec": "ECC_SECG_P256K1"}, "AsymmetricSign",
		core.Params{"Algorithm": "ECDSA_SHA_256", "Digest": base64.StdEncoding.EncodeToString(digest[:])}, "x-sign", func() {
			_ = k1ecdsa.Sign(key, digest[:]).Serialize()
		})
}

// BenchmarkAsymmetricSignSM2 signs a 64-byte message under an SM2 key
// (SM2DSA over SM3(Z ‖ M), AWS's RAW), against signing it so with the key
// at hand.
func BenchmarkAsymmetricSignSM2(b *testing.B) {
	key, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	msg := make([]byte, 64)
	benchAction(b, core.FullAccess(), core.Params{"KeySpec": "SM2", "KeyUsage": core.UsageSign}, "AsymmetricSign",
		core.Params{"Algorithm": "SM2DSA", "Message": base64.StdEncoding.EncodeToString(msg)}, "x-sign", func() {
			_, _ = key.Sign(rand.Reader, msg, sm2.DefaultSM2SignerOpts)
		})
}

// BenchmarkAsymmetricSignMLDSA signs a 64-byte message under an ML_DSA_65
// key, against signing it with the key at hand (hedged, as the service
// signs). The spec's private-key bucket is lifted for the run: it would
// throttle the benchmark's one caller at 300 signatures a second.
func BenchmarkAsymmetricSignMLDSA(b *testing.B) {
	lim := core.PrivateKeyLimits["ML_DSA_65"]
	core.PrivateKeyLimits["ML_DSA_65"] = core.PerSecond(1<<30, 1<<30)
	defer func() { core.PrivateKeyLimits["ML_DSA_65"] = lim }()
	_, key, err := mldsa65.GenerateKey(nil)
	if err != nil {
		b.Fatal(err)
	}
	msg := make([]byte, 64)
	sig := make([]byte, mldsa65.SignatureSize)
	benchAction(b, core.FullAccess(), core.Params{"KeySpec": "ML_DSA_65"}, "AsymmetricSign",
		core.Params{"Algorithm": "ML_DSA_SHAKE_256", "Message": base64.StdEncoding.EncodeToString(msg)}, "x-sign", func() {
			_ = mldsa65.SignTo(key, msg, nil, true, sig)
		})
}

// BenchmarkAsymmetricSignMLDSAMu signs μ (AWS's EXTERNAL_MU) under an
// ML_DSA_65 key, against signing it with filippo.io/mldsa's key at hand,
// the library that signs μ here (its key is made on the key's first μ, as
// the service makes it).
func BenchmarkAsymmetricSignMLDSAMu(b *testing.B) {
	lim := core.PrivateKeyLimits["ML_DSA_65"]
	core.PrivateKeyLimits["ML_DSA_65"] = core.PerSecond(1<<30, 1<<30)
	defer func() { core.PrivateKeyLimits["ML_DSA_65"] = lim }()
	key, err := fmldsa.GenerateKey(fmldsa.MLDSA65())
	if err != nil {
		b.Fatal(err)
	}
	mu := make([]byte, 64)
	benchAction(b, core.FullAccess(), core.Params{"KeySpec": "ML_DSA_65"}, "AsymmetricSign",
		core.Params{"Algorithm": "ML_DSA_SHAKE_256", "Digest": base64.StdEncoding.EncodeToString(mu)}, "x-sign", func() {
			_, _ = key.Sign(nil, mu, mldsacrypto.MLDSAMu)
		})
}

// BenchmarkDeriveSharedSecret derives an ECDH secret under an ECC_NIST_P256
// key agreement key with a peer's public key, against deriving it with
// both keys at hand (x-ecdh): beyond the agreement, the request parses and
// checks the peer's key, and turns the kept private key into an ECDH key.
func BenchmarkDeriveSharedSecret(b *testing.B) {
	ours, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	peer, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(peer.PublicKey())
	if err != nil {
		b.Fatal(err)
	}
	benchAction(b, core.FullAccess(), core.Params{"KeySpec": "ECC_NIST_P256", "KeyUsage": core.UsageKeyAgreement}, "DeriveSharedSecret",
		core.Params{"KeyAgreementAlgorithm": "ECDH", "PublicKey": base64.StdEncoding.EncodeToString(der)}, "x-ecdh", func() {
			_, _ = ours.ECDH(peer.PublicKey())
		})
}

// benchAction times action on a key made with create for a caller with
// policy, with a warm cache, and reports its cost as a multiple of floor
// (metric). Chunks of calls alternate with as many floor operations, timed
// apart, so both see the same machine: on a shared machine a floor measured
// once, before or after, can be off by a factor of two.
// BenchmarkGetSecretValue reads a secret's current 1 KiB value in process, on
// the memory store, against Decrypt of a blob of the same size under the same
// key (x-decrypt): what a secret costs beyond opening its value is finding it
// in the store, by name and stage, and authorizing two actions.
func BenchmarkGetSecretValue(b *testing.B) {
	svc, _ := memService(b, core.Config{
		Cache:   inproc.NewCache(time.Minute, 1000),
		Limiter: inproc.NewLimiter(), Nonces: inproc.NewNonces(nil),
	})
	caller := &core.Principal{Name: "bench", AccessKeyID: "LTAIbench", Secret: core.NewSecret("s"), QPS: 1 << 30, Policy: core.FullAccess()}
	call := func(action string, p core.Params) any {
		r, err := svc.Handle(background, &core.Request{ID: "BENCH", Action: action, Params: p, Caller: caller})
		if err != nil {
			b.Fatal(err)
		}
		return r
	}
	id := call("CreateKey", core.Params{}).(core.Key).ID
	value := base64.StdEncoding.EncodeToString(make([]byte, 768))
	call("CreateSecret", core.Params{"SecretName": "bench/db", "VersionId": "v1", "SecretData": value, "EncryptionKeyId": id})
	call("PutSecretValue", core.Params{"SecretName": "bench/db", "VersionId": "v2", "SecretData": value})
	blob := call("Encrypt", core.Params{"KeyId": id, "Plaintext": base64.StdEncoding.EncodeToString([]byte(value))}).(core.Sealed).Blob
	get := &core.Request{ID: "BENCH", Action: "GetSecretValue", Params: core.Params{"SecretName": "bench/db"}, Caller: caller}
	dec := &core.Request{ID: "BENCH", Action: "Decrypt", Params: core.Params{"CiphertextBlob": base64.StdEncoding.EncodeToString(blob)}, Caller: caller}
	timeAgainst(b, "x-decrypt", func() {
		if _, err := svc.Handle(background, get); err != nil {
			b.Fatal(err)
		}
	}, func() {
		if _, err := svc.Handle(background, dec); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkGenerateDataKeyWithoutPlaintextGranted: the action for a caller
// whose policy allows it nothing on the key and a grant does, against the
// same request from a caller whose policy allows it (x-policy): what
// finding the grant costs once the instance keeps it (CacheTTL), as it
// keeps the key.
func BenchmarkGenerateDataKeyWithoutPlaintextGranted(b *testing.B) {
	svc, _ := memService(b, core.Config{
		Cache:   inproc.NewCache(time.Minute, 1000),
		Limiter: inproc.NewLimiter(), Nonces: inproc.NewNonces(nil), CacheTTL: time.Minute,
	})
	owner := &core.Principal{Name: "owner", AccessKeyID: "LTAIowner", Secret: core.NewSecret("s"), QPS: 1 << 30, Policy: core.FullAccess()}
	grantee := &core.Principal{Name: "grantee", AccessKeyID: "LTAIgrantee", Secret: core.NewSecret("s"), QPS: 1 << 30,
		Policy: core.MustPolicy(core.Statement{Effect: "Allow", Action: []string{"kms:DescribeRegions"}, Resource: []string{"*"}})}
	call := func(p *core.Principal, action string, params core.Params) any {
		r, err := svc.Handle(background, &core.Request{ID: "BENCH", Action: action, Params: params, Caller: p})
		if err != nil {
			b.Fatal(err)
		}
		return r
	}
	id := call(owner, "CreateKey", core.Params{}).(core.Key).ID
	call(owner, "CreateGrant", core.Params{"KeyId": id, "GranteePrincipal": svc.PrincipalARN("grantee"), "Operations": `["GenerateDataKeyWithoutPlaintext"]`})
	granted := &core.Request{ID: "BENCH", Action: "GenerateDataKeyWithoutPlaintext", Params: core.Params{"KeyId": id}, Caller: grantee}
	allowed := &core.Request{ID: "BENCH", Action: "GenerateDataKeyWithoutPlaintext", Params: core.Params{"KeyId": id}, Caller: owner}
	timeAgainst(b, "x-policy", func() {
		if _, err := svc.Handle(background, granted); err != nil {
			b.Fatal(err)
		}
	}, func() {
		if _, err := svc.Handle(background, allowed); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkGenerateDataKeyWithoutPlaintextKeyPolicy: the action for a
// caller whose own policy allows it nothing and the key's policy names,
// against the same caller on a key whose policy gives the account every
// action and a caller whose own policy allows it (x-default): what reading
// a key's own policy costs once the instance keeps it compiled.
func BenchmarkGenerateDataKeyWithoutPlaintextKeyPolicy(b *testing.B) {
	svc, _ := memService(b, core.Config{
		Cache:   inproc.NewCache(time.Minute, 1000),
		Limiter: inproc.NewLimiter(), Nonces: inproc.NewNonces(nil),
	})
	owner := &core.Principal{Name: "owner", AccessKeyID: "LTAIowner", Secret: core.NewSecret("s"), QPS: 1 << 30, Policy: core.FullAccess()}
	named := &core.Principal{Name: "named", AccessKeyID: "LTAInamed", Secret: core.NewSecret("s"), QPS: 1 << 30,
		Policy: core.MustPolicy(core.Statement{Effect: "Allow", Action: []string{"kms:DescribeRegions"}, Resource: []string{"*"}})}
	doc := `{"Version":"1","Statement":[
		{"Effect":"Allow","Principal":{"RAM":"acs:ram::` + svc.AccountID() + `:*"},"Action":"kms:*","Resource":"*"},
		{"Effect":"Allow","Principal":{"RAM":"` + svc.PrincipalARN("named") + `"},"Action":["kms:GenerateDataKey*","kms:Decrypt"],"Resource":"*"}]}`
	create := func(params core.Params) string {
		r, err := svc.Handle(background, &core.Request{ID: "BENCH", Action: "CreateKey", Params: params, Caller: owner})
		if err != nil {
			b.Fatal(err)
		}
		return r.(core.Key).ID
	}
	withPolicy, plain := create(core.Params{"Policy": doc}), create(core.Params{})
	byKey := &core.Request{ID: "BENCH", Action: "GenerateDataKeyWithoutPlaintext", Params: core.Params{"KeyId": withPolicy}, Caller: named}
	byOwn := &core.Request{ID: "BENCH", Action: "GenerateDataKeyWithoutPlaintext", Params: core.Params{"KeyId": plain}, Caller: owner}
	timeAgainst(b, "x-default", func() {
		if _, err := svc.Handle(background, byKey); err != nil {
			b.Fatal(err)
		}
	}, func() {
		if _, err := svc.Handle(background, byOwn); err != nil {
			b.Fatal(err)
		}
	})
}

func benchAction(b *testing.B, policy *core.Policy, create core.Params, action string, extra core.Params, metric string, floor func()) {
	svc, _ := memService(b, core.Config{
		Cache:   inproc.NewCache(time.Minute, 1000),
		Limiter: inproc.NewLimiter(), Nonces: inproc.NewNonces(nil),
	})
	caller := &core.Principal{Name: "bench", AccessKeyID: "LTAIbench", Secret: core.NewSecret("s"), QPS: 1 << 30, Policy: policy}
	created, err := svc.Handle(background, &core.Request{Action: "CreateKey", Params: create, Caller: caller})
	if err != nil {
		b.Fatal(err)
	}
	id := created.(core.Key).ID
	params := core.Params{"KeyId": id}
	for k, v := range extra {
		params[k] = v
	}
	req := &core.Request{ID: "BENCH", Action: action, Params: params, Caller: caller}
	if _, err := svc.Handle(background, req); err != nil { // warms cache and keyring
		b.Fatal(err)
	}
	timeAgainst(b, metric, func() {
		if _, err := svc.Handle(background, req); err != nil {
			b.Fatal(err)
		}
	}, floor)
}

// timeAgainst times op, b.N times, in chunks alternated with as many runs of
// floor (untimed), and reports op's time as a multiple of floor's as metric
// (x-floor, say) and what op spends beyond floor a run as ns-over-floor. The
// multiple moves with the machine's crypto, the nanoseconds over it much less.
func timeAgainst(b *testing.B, metric string, op, floor func()) {
	b.ReportAllocs()
	realTime, floorTime := benchfloor.Alternate(b, 1024, op, floor)
	b.ReportMetric(float64(realTime)/float64(floorTime), metric)
	b.ReportMetric(float64(realTime-floorTime)/float64(b.N), "ns-over-"+strings.TrimPrefix(metric, "x-"))
}

// BenchmarkCertificatePrivateKeySign signs a SHA-256 digest under an
// EC_P256 certificate's private key, against signing it with a key at hand.
// The certificate is read from the (memory) store on every request: unlike
// keys, certificates are not cached.
func BenchmarkCertificatePrivateKeySign(b *testing.B) {
	svc, _ := memService(b, core.Config{Cache: inproc.NewCache(time.Minute, 1000), Limiter: inproc.NewLimiter(), Nonces: inproc.NewNonces(nil)})
	caller := &core.Principal{Name: "bench", AccessKeyID: "LTAIbench", Secret: core.NewSecret("s"), QPS: 1 << 30, Policy: core.FullAccess()}
	handle := func(action string, p core.Params) any {
		out, err := svc.Handle(background, &core.Request{ID: "BENCH", Action: action, Params: p, Caller: caller})
		if err != nil {
			b.Fatal(err)
		}
		return out
	}
	made := handle("CreateCertificate", core.Params{"KeySpec": "EC_P256", "Subject": "CN=bench,OU=b,O=kmsless,C=CN"}).(core.CertificateRequested)
	csr, err := x509.ParseCertificateRequest(made.CSR)
	if err != nil {
		b.Fatal(err)
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: csr.Subject, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, csr.PublicKey, caKey)
	if err != nil {
		b.Fatal(err)
	}
	handle("UploadCertificate", core.Params{"CertificateId": made.ID, "Certificate": string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))})
	digest := sha256.Sum256([]byte("m"))
	sign := core.Params{"CertificateId": made.ID, "Algorithm": "ECDSA_SHA_256", "MessageType": "DIGEST", "Message": base64.StdEncoding.EncodeToString(digest[:])}
	handle("CertificatePrivateKeySign", sign) // warms the keyring
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	timeAgainst(b, "x-sign", func() { handle("CertificatePrivateKeySign", sign) }, func() {
		_, _ = ecdsa.SignASN1(rand.Reader, key, digest[:])
	})
}
