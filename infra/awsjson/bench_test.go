package awsjson_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/kmsless/kmsless/infra/awsjson"
	"github.com/kmsless/kmsless/infra/rootkey/rootkeytest"
)

// target is one endpoint under load, with the requests it is sent.
type target struct {
	name    string
	url     string
	reqs    []presigned
	next    int
	latency []time.Duration
	busy    time.Duration
}

// presigned is a SigV4-signed GenerateDataKeyWithoutPlaintext request, signed
// before the clock starts so that the load generator spends nothing on
// signing; each has its own invocation ID, so kmsless sees no replay.
type presigned struct {
	body   []byte
	header http.Header
}

func presign(tb testing.TB, n int, url, keyID, region string) []presigned {
	out := make([]presigned, n)
	body := []byte(`{"KeyId":"` + keyID + `","KeySpec":"AES_256","EncryptionContext":{"partition":"p-0001"}}`)
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	signer := v4.NewSigner()
	now := time.Now()
	for i := range out {
		r, _ := http.NewRequest(http.MethodPost, url+"/", bytes.NewReader(body))
		r.Header.Set("Content-Type", awsjson.ContentType)
		r.Header.Set("X-Amz-Target", awsjson.TargetPrefix+"GenerateDataKeyWithoutPlaintext")
		r.Header.Set("Amz-Sdk-Invocation-Id", fmt.Sprintf("bench-%08d", i))
		if err := signer.SignHTTP(context.Background(), aws.Credentials{AccessKeyID: adminID, SecretAccessKey: adminSecret}, r, hash, "kms", region, now); err != nil {
			tb.Fatal(err)
		}
		out[i] = presigned{body: body, header: r.Header}
	}
	return out
}

// burst sends the next n requests of t with c concurrent senders and records
// each latency and the wall time of the burst.
func (t *target) burst(tb testing.TB, client *http.Client, n, c int) {
	reqs := t.reqs[t.next : t.next+n]
	t.next += n
	lat := make([]time.Duration, n)
	var wg sync.WaitGroup
	var failed sync.Once
	start := time.Now()
	for w := range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += c {
				r, _ := http.NewRequest(http.MethodPost, t.url+"/", bytes.NewReader(reqs[i].body))
				r.Header = reqs[i].header.Clone()
				t0 := time.Now()
				resp, err := client.Do(r)
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				lat[i] = time.Since(t0)
				if err != nil {
					failed.Do(func() { tb.Errorf("%s: %v", t.name, err) })
				}
			}
		}()
	}
	wg.Wait()
	t.busy += time.Since(start)
	t.latency = append(t.latency, lat...)
}

func (t *target) rps() float64 { return float64(len(t.latency)) / t.busy.Seconds() }

func (t *target) p99() time.Duration {
	s := slices.Clone(t.latency)
	slices.Sort(s)
	return s[len(s)*99/100]
}

// BenchmarkGenerateDataKeyWithoutPlaintextVsLocalKMS loads kmsless
// (functions/api in its own process: SigV4 verified, replay-checked,
// authorized, throttled, on a bolt store), nsmithuk/local-kms (which ignores signatures) and a bare
// handler that reads each request and answers with a freshly sealed random
// key, with the same signed GenerateDataKeyWithoutPlaintext
// requests from one load generator, in interleaved bursts. Run with
//
//	go test -run '^$' -bench VsLocalKMS -benchtime 1x ./infra/awsjson
func BenchmarkGenerateDataKeyWithoutPlaintextVsLocalKMS(b *testing.B) {
	const rounds, perBurst, conc = 25, 500, 16
	// kmsless runs as its own process, like local-kms: functions/api as
	// deployed locally, with the bolt store and its replay memory.
	url := startAPI(b)
	kc := kms.New(kms.Options{Region: testRegion, BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider(adminID, adminSecret, "")})
	k, err := kc.CreateKey(bg, &kms.CreateKeyInput{})
	if err != nil {
		b.Fatal(err)
	}
	id := aws.ToString(k.KeyMetadata.KeyId)
	l := rootkeytest.StartLocalKMS(b)
	lc := kms.New(kms.Options{Region: rootkeytest.AWSRegion, BaseEndpoint: aws.String(l.Endpoint), Credentials: aws.AnonymousCredentials{}})
	lk, err := lc.CreateKey(bg, &kms.CreateKeyInput{})
	if err != nil {
		b.Fatal(err)
	}
	// The floor does what no KMS can skip: read the request, draw a data key,
	// seal it with AES-GCM and answer with the blob, as core's own floor does.
	gcm := newGCM(b)
	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		var buf [12 + 32 + 16]byte
		_, _ = rand.Read(buf[:12+32])
		sealed := gcm.Seal(buf[:12], buf[:12], buf[12:12+32], nil)
		w.Header().Set("Content-Type", awsjson.ContentType)
		_, _ = fmt.Fprintf(w, `{"CiphertextBlob":"%s","KeyId":"%s","EncryptionAlgorithm":"SYMMETRIC_DEFAULT"}`, base64.StdEncoding.EncodeToString(sealed), keyARN(id))
	}))
	b.Cleanup(bare.Close)
	n := rounds * perBurst
	targets := []*target{
		{name: "kmsless", url: url, reqs: presign(b, n, url, id, testRegion)},
		{name: "local-kms", url: l.Endpoint, reqs: presign(b, n, l.Endpoint, aws.ToString(lk.KeyMetadata.Arn), rootkeytest.AWSRegion)},
		{name: "bare", url: bare.URL, reqs: presign(b, n, bare.URL, id, testRegion)},
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conc, MaxConnsPerHost: conc}}
	for _, t := range targets {
		t.burst(b, client, 100, conc) // warm connections and caches
		t.latency, t.busy = nil, 0
	}
	b.ResetTimer()
	for range b.N {
		for r := range rounds - 1 {
			for i := range targets {
				// Rotate the order each round so no target always follows another.
				targets[(i+r)%len(targets)].burst(b, client, perBurst, conc)
			}
		}
	}
	b.StopTimer()
	ks, lkms, h := targets[0], targets[1], targets[2]
	b.ReportMetric(ks.rps(), "kmsless-req/s")
	b.ReportMetric(lkms.rps(), "local-kms-req/s")
	b.ReportMetric(h.rps(), "bare-req/s")
	b.ReportMetric(ks.rps()/lkms.rps(), "x-local-kms")
	b.ReportMetric(ks.rps()/h.rps(), "x-bare")
	b.ReportMetric(float64(ks.p99().Microseconds()), "kmsless-p99-µs")
	b.ReportMetric(float64(lkms.p99().Microseconds()), "local-kms-p99-µs")
	b.ReportMetric(float64(h.p99().Microseconds()), "bare-p99-µs")
}

func newGCM(tb testing.TB) cipher.AEAD {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	blk, err := aes.NewCipher(key)
	if err != nil {
		tb.Fatal(err)
	}
	gcm, err := cipher.NewGCM(blk)
	if err != nil {
		tb.Fatal(err)
	}
	return gcm
}

// startAPI builds functions/api and runs it on a free loopback port with a
// principals file naming the admin, until b ends; it returns its URL.
func startAPI(b *testing.B) string {
	dir := b.TempDir()
	bin := filepath.Join(dir, "api")
	build := exec.Command("go", "build", "-o", bin, "github.com/kmsless/kmsless/functions/api")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("build functions/api: %v\n%s", err, out)
	}
	principals := filepath.Join(dir, "principals.yaml")
	doc := "principals:\n  - name: admin\n    accessKeyId: " + adminID + "\n    accessKeySecret: " + adminSecret +
		"\n    qps: 1000000\n    policy:\n      Version: \"1\"\n      Statement:\n        - Effect: Allow\n          Action: [\"kms:*\"]\n          Resource: [\"*\"]\n"
	if err := os.WriteFile(principals, []byte(doc), 0o600); err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	root := make([]byte, 32)
	_, _ = rand.Read(root)
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "KMS_LISTEN_ADDR="+addr, "KMS_DATA_DIR="+dir, "KMS_ROOT_KEY="+base64.StdEncoding.EncodeToString(root),
		"KMS_PRINCIPALS_FILE="+principals, "KMS_REGION="+testRegion, "KMS_ACCOUNT_ID="+testAccount, "KMS_LOG_LEVEL=warn",
		"KMS_AUDIT_LOG="+filepath.Join(dir, "audit.jsonl"), "REDIS_URL=")
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	for range 200 {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return "http://" + addr
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.Fatal("functions/api did not start listening")
	return ""
}
