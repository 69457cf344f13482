package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/config"
	"github.com/kmsless/kmsless/infra/store/storetest"
)

// In a child process started by a test, TestMain runs the command itself:
// KMSLESS_TEST_ARGS holds its arguments, and KMSLESS_TEST_STOP_AFTER makes
// rotate-root announce and then hang once it has re-wrapped that many
// versions, so the test kills it at a known point with SIGKILL.
func TestMain(m *testing.M) {
	args := os.Getenv("KMSLESS_TEST_ARGS")
	if args == "" {
		os.Exit(m.Run())
	}
	if n, err := strconv.Atoi(os.Getenv("KMSLESS_TEST_STOP_AFTER")); err == nil && n > 0 {
		afterWrite = func(p core.RewrapProgress) {
			if p.Rewrapped >= n {
				fmt.Printf("STOPPED %d\n", p.Rewrapped)
				select {}
			}
		}
	}
	os.Exit(run(context.Background(), strings.Fields(args), os.Stdin, os.Stdout, os.Stderr))
}

// deployment is a store holding keys of several versions and blobs made under
// each, and certificates, all wrapped by the old root key.
type deployment struct {
	env      map[string]string
	old, new string // base64 root keys
	blobs    []string
	certs    []string // IDs of ACTIVE EC_P256 certificates
}

// deploymentCertificates is how many certificates a deployment holds.
const deploymentCertificates = 2

func rootText(t testing.TB) string {
	raw, err := core.GenerateRootKey()
	if err != nil {
		t.Fatal(err)
	}
	defer clear(raw)
	return base64.StdEncoding.EncodeToString(raw)
}

func newDeployment(t testing.TB, store string, keys, versions int) *deployment {
	d := &deployment{old: rootText(t), new: rootText(t), env: map[string]string{
		"KMS_STORE": store, "KMS_DATA_DIR": t.TempDir(),
	}}
	svc := d.wire(t, d.old, "")
	defer svc.Close()
	ctx := context.Background()
	admin := &core.Principal{Name: "admin", AccessKeyID: "admin", Policy: core.FullAccess()}
	handle := func(action string, params core.Params) any {
		out, err := svc.KMS.Handle(ctx, &core.Request{ID: "r", Action: action, Params: params, Caller: admin})
		if err != nil {
			t.Fatalf("%s: %v", action, err)
		}
		return out
	}
	for i := range keys {
		id := handle("CreateKey", nil).(core.Key).ID
		for v := range versions {
			if v > 0 {
				handle("CreateKeyVersion", core.Params{"KeyId": id})
			}
			s := handle("Encrypt", core.Params{"KeyId": id, "Plaintext": base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "%d/%d", i, v))}).(core.Sealed)
			d.blobs = append(d.blobs, base64.StdEncoding.EncodeToString(s.Blob))
		}
		if i%3 == 0 {
			forgetRootKeyIDs(t, svc.KMS.Store(), id)
		}
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for range deploymentCertificates {
		made := handle("CreateCertificate", core.Params{"KeySpec": "EC_P256", "Subject": "CN=svc,OU=ops,O=kmsless,C=CN"}).(core.CertificateRequested)
		csr, err := x509.ParseCertificateRequest(made.CSR)
		if err != nil {
			t.Fatal(err)
		}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: csr.Subject, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, csr.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		handle("UploadCertificate", core.Params{"CertificateId": made.ID, "Certificate": string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))})
		d.certs = append(d.certs, made.ID)
	}
	return d
}

// signAll signs with every certificate's private key and returns how many
// failed.
func (d *deployment) signAll(svc *config.Service) int {
	admin := &core.Principal{Name: "admin", AccessKeyID: "admin", Policy: core.FullAccess()}
	failed := 0
	for _, id := range d.certs {
		p := core.Params{"CertificateId": id, "Algorithm": "ECDSA_SHA_256", "Message": "AA=="}
		if _, err := svc.KMS.Handle(context.Background(), &core.Request{ID: "r", Action: "CertificatePrivateKeySign", Params: p, Caller: admin}); err != nil {
			failed++
		}
	}
	return failed
}

// forgetRootKeyIDs makes a key's versions look as versions written before
// they recorded their root key did.
func forgetRootKeyIDs(t testing.TB, store core.KeyStore, keyID string) {
	vs, _, err := store.ListVersions(context.Background(), keyID, core.Page{})
	if err != nil {
		t.Fatal(err)
	}
	var batch []core.Rewrap
	for _, v := range vs {
		old := v
		v.RootKeyID = ""
		batch = append(batch, core.Rewrap{Old: old, Next: v})
	}
	if _, err := store.(core.VersionRewrapper).RewrapVersions(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
}

// wire makes a service as an instance configured with these root keys does.
func (d *deployment) wire(t testing.TB, current, previous string) *config.Service {
	env := d.envWith(current, previous)
	set, err := config.Read(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	svc, err := config.Wire(context.Background(), set, slog.New(slog.DiscardHandler), config.Maintenance())
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func (d *deployment) envWith(current, previous string) map[string]string {
	env := map[string]string{"KMS_ROOT_KEY": current, "KMS_ROOT_KEY_PREVIOUS": previous}
	for k, v := range d.env {
		env[k] = v
	}
	return env
}

// decryptAll decrypts every blob and returns how many failed.
func (d *deployment) decryptAll(svc *config.Service) int {
	admin := &core.Principal{Name: "admin", AccessKeyID: "admin", Policy: core.FullAccess()}
	failed := 0
	for _, b := range d.blobs {
		if _, err := svc.KMS.Handle(context.Background(), &core.Request{ID: "r", Action: "Decrypt", Params: core.Params{"CiphertextBlob": b}, Caller: admin}); err != nil {
			failed++
		}
	}
	return failed
}

// rootIDs counts versions by the root key ID they record.
func rootIDs(t *testing.T, store core.KeyStore) map[string]int {
	ctx := context.Background()
	keys, _, err := store.ListKeys(ctx, time.Time{}, core.Page{})
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, k := range keys {
		vs, _, err := store.ListVersions(ctx, k.ID, core.Page{})
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vs {
			counts[v.RootKeyID]++
		}
	}
	return counts
}

// child starts the command in a child process with the deployment's
// environment and both root keys.
func (d *deployment) child(t *testing.T, stopAfter int, args ...string) (*exec.Cmd, *bufio.Reader, *bytes.Buffer) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "KMSLESS_TEST_ARGS="+strings.Join(args, " "), "KMSLESS_TEST_STOP_AFTER="+strconv.Itoa(stopAfter))
	for k, v := range d.envWith(d.new, d.old) {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, bufio.NewReader(out), &stderr
}

func testRotationKilledHalfwayCompletes(t *testing.T, store string) {
	const keys, versions, stopAfter = 30, 4, 50
	d := newDeployment(t, store, keys, versions)

	// Killed with SIGKILL right after its write of the 50th version.
	cmd, out, stderr := d.child(t, stopAfter, "rotate-root", "-batch", "10")
	line, err := out.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "STOPPED ") {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("the rotation did not reach %d versions: %q %v\n%s", stopAfter, line, err, stderr)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	both := d.wire(t, d.new, d.old)
	counts := rootIDs(t, both.KMS.Store())
	newID, oldID := both.KMS.RootKeyIDs()[0], both.KMS.RootKeyIDs()[1]
	if counts[newID] != stopAfter || counts[newID]+counts[oldID]+counts[""] != keys*versions {
		t.Fatalf("after the kill, versions by root key: %v; want %d under the new key %s", counts, stopAfter, newID)
	}
	// Halfway, an instance with both keys serves every blob and
	// certificate.
	if failed := d.decryptAll(both); failed > 0 {
		t.Fatalf("halfway through the rotation %d of %d blobs fail to decrypt", failed, len(d.blobs))
	}
	if failed := d.signAll(both); failed > 0 {
		t.Fatalf("halfway through the rotation %d of %d certificates fail to sign", failed, len(d.certs))
	}
	both.Close()

	// Run again to the end, in a process of its own, while an instance with
	// both keys keeps decrypting.
	var wg sync.WaitGroup
	stop := make(chan struct{})
	failures := 0
	if !strings.HasPrefix(store, "bolt://") { // bbolt admits one process at a time
		serving := d.wire(t, d.new, d.old)
		defer serving.Close()
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
					failures += d.decryptAll(serving)
				}
			}
		})
	}
	cmd, out, stderr = d.child(t, -1, "rotate-root", "-batch", "10")
	report, _ := io.ReadAll(out)
	err = cmd.Wait()
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("the second run failed: %v\n%s%s", err, report, stderr)
	}
	if failures > 0 {
		t.Fatalf("%d decryptions failed while the rotation ran", failures)
	}
	if !strings.Contains(string(report), fmt.Sprintf("re-wrapped %d versions; all %d versions", keys*versions-stopAfter, keys*versions)) ||
		!strings.Contains(string(report), fmt.Sprintf("re-wrapped %d certificates' private keys; all %d certificates", deploymentCertificates, deploymentCertificates)) {
		t.Fatalf("the second run reported:\n%s", report)
	}

	// Afterwards the old root key can be dropped: every blob decrypts with the
	// new one alone, and every version records it.
	only := d.wire(t, d.new, "")
	if counts := rootIDs(t, only.KMS.Store()); counts[newID] != keys*versions {
		t.Fatalf("after the rotation, versions by root key: %v", counts)
	}
	if failed := d.decryptAll(only); failed > 0 {
		t.Fatalf("with the old root key dropped, %d of %d blobs fail to decrypt", failed, len(d.blobs))
	}
	if failed := d.signAll(only); failed > 0 {
		t.Fatalf("with the old root key dropped, %d of %d certificates fail to sign", failed, len(d.certs))
	}
	only.Close()

	// A run with nothing left to do says so.
	cmd, out, stderr = d.child(t, 0, "rotate-root")
	report, _ = io.ReadAll(out)
	if err := cmd.Wait(); err != nil || !strings.Contains(string(report), "re-wrapped 0 versions") {
		t.Fatalf("a run after the rotation: %v\n%s%s", err, report, stderr)
	}
}

func TestRootRotationKilledHalfwayCompletesOnBolt(t *testing.T) {
	testRotationKilledHalfwayCompletes(t, "bolt://"+filepath.Join(t.TempDir(), "kms.db"))
}

func TestRootRotationKilledHalfwayCompletesOnPostgres(t *testing.T) {
	testRotationKilledHalfwayCompletes(t, storetest.PostgresDatabase(t, "kms_rotate_"))
}
