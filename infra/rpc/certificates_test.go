package rpc_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"
	tjsm2 "github.com/tjfoc/gmsm/sm2"
	tjx509 "github.com/tjfoc/gmsm/x509"
)

// Certificates through Alibaba's Go SDK, with the openssl command as the
// CA and the verifier: it checks the request CreateCertificate answers,
// signs it into a certificate UploadCertificate takes, verifies what
// CertificatePrivateKeySign signs with the certificate's public key, and
// encrypts to that key what CertificatePrivateKeyDecrypt opens.
func TestSDKCertificatesJudgedByOpenSSL(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl is not installed: certificates are not checked against it")
	}
	dir := t.TempDir()
	file := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	openssl := func(args ...string) []byte {
		t.Helper()
		out, err := exec.Command("openssl", args...).CombinedOutput()
		if err != nil {
			t.Fatalf("openssl %v: %v\n%s", args, err, out)
		}
		return out
	}
	caKey, caCert := filepath.Join(dir, "ca.key"), filepath.Join(dir, "ca.pem")
	openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", caKey, "-out", caCert,
		"-subj", "/CN=OpenSSL CA/O=kmsless", "-days", "1")
	caPEM, err := os.ReadFile(caCert)
	if err != nil {
		t.Fatal(err)
	}

	e := newEnv(t)
	for _, tc := range []struct {
		spec, sign string
		sigopts    []string
		encrypt    string
		pkeyopts   []string
	}{
		{"RSA_2048", "RSA_PSS_SHA_256", []string{"-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:digest"},
			"RSAES_OAEP_SHA_256", []string{"-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:sha256", "-pkeyopt", "rsa_mgf1_md:sha256"}},
		{"RSA_2048", "RSA_PKCS1_SHA_256", nil,
			"RSAES_OAEP_SHA_1", []string{"-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:sha1"}},
		{"EC_P256", "ECDSA_SHA_256", nil, "", nil},
	} {
		t.Run(tc.spec+"/"+tc.sign, func(t *testing.T) {
			made, err := e.client.CreateCertificate(&kms.CreateCertificateRequest{KeySpec: tea.String(tc.spec),
				Subject:                 tea.String("CN=svc.example.com,OU=platform,O=kmsless,C=CN"),
				SubjectAlternativeNames: map[string]interface{}{"1": "svc.example.com"}})
			if err != nil {
				t.Fatalf("CreateCertificate: %v", err)
			}
			id := made.Body.CertificateId
			if !strings.HasSuffix(tea.StringValue(made.Body.Arn), ":certificate/"+tea.StringValue(id)) {
				t.Errorf("CreateCertificate's Arn is %s", tea.StringValue(made.Body.Arn))
			}
			csr := file("req.pem", []byte(tea.StringValue(made.Body.Csr)))
			if out := openssl("req", "-in", csr, "-verify", "-noout", "-subject"); !bytes.Contains(out, []byte("CN = svc.example.com")) {
				t.Errorf("openssl reads the request as %s", out)
			}
			cert := filepath.Join(dir, "cert.pem")
			openssl("x509", "-req", "-in", csr, "-CA", caCert, "-CAkey", caKey, "-set_serial", "0x2a", "-days", "1",
				"-copy_extensions", "copy", "-out", cert)
			certPEM, err := os.ReadFile(cert)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.client.UploadCertificate(&kms.UploadCertificateRequest{CertificateId: id,
				Certificate: tea.String(string(certPEM)), CertificateChain: tea.String(string(caPEM))}); err != nil {
				t.Fatalf("UploadCertificate of openssl's certificate: %v", err)
			}
			d, err := e.client.DescribeCertificate(&kms.DescribeCertificateRequest{CertificateId: id})
			if err != nil {
				t.Fatal(err)
			}
			b := d.Body
			if tea.StringValue(b.Status) != "ACTIVE" || tea.StringValue(b.Serial) != "2a" || tea.StringValue(b.Issuer) != "CN=OpenSSL CA,O=kmsless" ||
				tea.StringValue(b.KeySpec) != tc.spec || tea.StringValue(b.SignatureAlgorithm) != "ECDSA-SHA256" ||
				len(b.SubjectAlternativeNames) != 1 || tea.StringValue(b.SubjectAlternativeNames[0]) != "svc.example.com" ||
				!tea.BoolValue(b.ExportablePrivateKey) || tea.StringValue(b.NotAfter) == "" {
				t.Errorf("DescribeCertificate: %s", d.Body)
			}
			got, err := e.client.GetCertificate(&kms.GetCertificateRequest{CertificateId: id})
			if err != nil {
				t.Fatal(err)
			}
			if tea.StringValue(got.Body.Certificate) != string(certPEM) || !samePEM(tea.StringValue(got.Body.CertificateChain), string(caPEM)) {
				t.Errorf("GetCertificate answers other certificates")
			}

			pub := file("pub.pem", openssl("x509", "-in", cert, "-pubkey", "-noout"))
			msg := []byte("signed under a certificate")
			signed, err := e.client.CertificatePrivateKeySign(&kms.CertificatePrivateKeySignRequest{CertificateId: id,
				Algorithm: tea.String(tc.sign), Message: tea.String(base64.StdEncoding.EncodeToString(msg))})
			if err != nil {
				t.Fatal(err)
			}
			sig, err := base64.StdEncoding.DecodeString(tea.StringValue(signed.Body.SignatureValue))
			if err != nil {
				t.Fatal(err)
			}
			verify := append([]string{"dgst", "-sha256", "-verify", pub, "-signature", file("sig", sig)}, tc.sigopts...)
			if out := openssl(append(verify, file("msg", msg))...); !bytes.Contains(out, []byte("Verified OK")) {
				t.Errorf("openssl does not verify the signature: %s", out)
			}
			ok, err := e.client.CertificatePublicKeyVerify(&kms.CertificatePublicKeyVerifyRequest{CertificateId: id, Algorithm: tea.String(tc.sign),
				Message: tea.String(base64.StdEncoding.EncodeToString(msg)), SignatureValue: signed.Body.SignatureValue})
			if err != nil || !tea.BoolValue(ok.Body.SignatureValid) {
				t.Errorf("CertificatePublicKeyVerify = %v, %v", ok, err)
			}

			if tc.encrypt != "" {
				secret := []byte("sealed by openssl to the certificate")
				ct := filepath.Join(dir, "ct")
				openssl(append([]string{"pkeyutl", "-encrypt", "-pubin", "-inkey", pub, "-in", file("pt", secret), "-out", ct}, tc.pkeyopts...)...)
				blob, err := os.ReadFile(ct)
				if err != nil {
					t.Fatal(err)
				}
				opened, err := e.client.CertificatePrivateKeyDecrypt(&kms.CertificatePrivateKeyDecryptRequest{CertificateId: id,
					Algorithm: tea.String(tc.encrypt), CiphertextBlob: tea.String(base64.StdEncoding.EncodeToString(blob))})
				if err != nil || tea.StringValue(opened.Body.Plaintext) != base64.StdEncoding.EncodeToString(secret) {
					t.Fatalf("CertificatePrivateKeyDecrypt of openssl's ciphertext = %v, %v", opened, err)
				}
			}

			if _, err := e.client.UpdateCertificateStatus(&kms.UpdateCertificateStatusRequest{CertificateId: id, Status: tea.String("REVOKED")}); err != nil {
				t.Fatal(err)
			}
			_, err = e.client.CertificatePrivateKeySign(&kms.CertificatePrivateKeySignRequest{CertificateId: id,
				Algorithm: tea.String(tc.sign), Message: tea.String("AA==")})
			sdkError(t, err, "Rejected.Disabled", 409)
			if _, err := e.client.DeleteCertificate(&kms.DeleteCertificateRequest{CertificateId: id}); err != nil {
				t.Fatal(err)
			}
			_, err = e.client.DescribeCertificate(&kms.DescribeCertificateRequest{CertificateId: id})
			sdkError(t, err, "Certificate.NotFound", 404)
		})
	}
}

// samePEM reports whether a and b hold the same PEM blocks.
func samePEM(a, b string) bool {
	var ra, rb = []byte(a), []byte(b)
	for {
		var x, y *pem.Block
		x, ra = pem.Decode(ra)
		y, rb = pem.Decode(rb)
		if x == nil || y == nil {
			return x == nil && y == nil
		}
		if !bytes.Equal(x.Bytes, y.Bytes) {
			return false
		}
	}
}

// An EC_SM2 certificate through the SDK: tjfoc's x509 reads the SM2
// request and issues its certificate, and verifies over the message what
// CertificatePrivateKeySign signs; what CertificatePublicKeyEncrypt seals
// to its public key opens; tags set with TagResource are described.
func TestSDKSM2Certificate(t *testing.T) {
	e := newEnv(t)
	made, err := e.client.CreateCertificate(&kms.CreateCertificateRequest{KeySpec: tea.String("EC_SM2"),
		Subject: tea.String("CN=sm2.example.com,OU=kms,O=kmsless,C=CN"), ExportablePrivateKey: tea.Bool(false)})
	if err != nil {
		t.Fatal(err)
	}
	id := made.Body.CertificateId
	req, err := tjx509.ReadCertificateRequestFromPem([]byte(tea.StringValue(made.Body.Csr)))
	if err != nil || req.CheckSignature() != nil {
		t.Fatalf("tjfoc reads no SM2 request that checks: %v", err)
	}
	ecPub := req.PublicKey.(*ecdsa.PublicKey)
	pub := &tjsm2.PublicKey{Curve: tjsm2.P256Sm2(), X: ecPub.X, Y: ecPub.Y}
	caKey, err := tjsm2.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leaf := &tjx509.Certificate{SerialNumber: big.NewInt(7), Subject: req.Subject, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), SignatureAlgorithm: tjx509.SM2WithSM3}
	der, err := tjx509.CreateCertificate(leaf, leaf, pub, caKey)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if _, err := e.client.UploadCertificate(&kms.UploadCertificateRequest{CertificateId: id, Certificate: tea.String(string(certPEM))}); err != nil {
		t.Fatalf("UploadCertificate of an SM2 certificate: %v", err)
	}
	msg := []byte("an SM2 certificate signs")
	signed, err := e.client.CertificatePrivateKeySign(&kms.CertificatePrivateKeySignRequest{CertificateId: id,
		Algorithm: tea.String("SM2DSA"), MessageType: tea.String("RAW"), Message: tea.String(base64.StdEncoding.EncodeToString(msg))})
	if err != nil {
		t.Fatal(err)
	}
	sig, _ := base64.StdEncoding.DecodeString(tea.StringValue(signed.Body.SignatureValue))
	if !pub.Verify(msg, sig) {
		t.Error("tjfoc does not verify the SM2DSA signature over the message")
	}
	sealed, err := e.client.CertificatePublicKeyEncrypt(&kms.CertificatePublicKeyEncryptRequest{CertificateId: id,
		Algorithm: tea.String("SM2PKE"), Plaintext: tea.String(base64.StdEncoding.EncodeToString(msg))})
	if err != nil {
		t.Fatal(err)
	}
	opened, err := e.client.CertificatePrivateKeyDecrypt(&kms.CertificatePrivateKeyDecryptRequest{CertificateId: id,
		Algorithm: tea.String("SM2PKE"), CiphertextBlob: sealed.Body.CiphertextBlob})
	if err != nil || tea.StringValue(opened.Body.Plaintext) != base64.StdEncoding.EncodeToString(msg) {
		t.Fatalf("CertificatePrivateKeyDecrypt of CertificatePublicKeyEncrypt's = %v, %v", opened, err)
	}
	if _, err := e.client.TagResource(&kms.TagResourceRequest{CertificateId: id, Tags: tea.String(`[{"TagKey":"env","TagValue":"prod"}]`)}); err != nil {
		t.Fatal(err)
	}
	d, err := e.client.DescribeCertificate(&kms.DescribeCertificateRequest{CertificateId: id})
	if err != nil {
		t.Fatal(err)
	}
	if tea.StringValue(d.Body.KeySpec) != "EC_SM2" || tea.StringValue(d.Body.SignatureAlgorithm) != "SM2-SM3" ||
		tea.BoolValue(d.Body.ExportablePrivateKey) || !strings.Contains(d.Body.String(), `"TagValue": "prod"`) {
		t.Errorf("DescribeCertificate: %s", d.Body)
	}
}

// A certificate's actions are audited with the certificate among the
// resources and its ID among the response elements, and no record holds a
// message, a signature, a plaintext or a ciphertext.
func TestCertificatesAudited(t *testing.T) {
	a := newAudited(t, filepath.Join(t.TempDir(), "audit.jsonl"))
	made, err := a.client.CreateCertificate(&kms.CreateCertificateRequest{KeySpec: tea.String("EC_SM2"),
		Subject: tea.String("CN=audit.example.com,OU=kms,O=kmsless,C=CN")})
	if err != nil {
		t.Fatal(err)
	}
	id := tea.StringValue(made.Body.CertificateId)
	req, err := tjx509.ReadCertificateRequestFromPem([]byte(tea.StringValue(made.Body.Csr)))
	if err != nil {
		t.Fatal(err)
	}
	ecPub := req.PublicKey.(*ecdsa.PublicKey)
	caKey, err := tjsm2.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leaf := &tjx509.Certificate{SerialNumber: big.NewInt(3), Subject: req.Subject, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), SignatureAlgorithm: tjx509.SM2WithSM3}
	der, err := tjx509.CreateCertificate(leaf, leaf, &tjsm2.PublicKey{Curve: tjsm2.P256Sm2(), X: ecPub.X, Y: ecPub.Y}, caKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.client.UploadCertificate(&kms.UploadCertificateRequest{CertificateId: made.Body.CertificateId,
		Certificate: tea.String(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))}); err != nil {
		t.Fatal(err)
	}
	secret := base64.StdEncoding.EncodeToString([]byte("never in the trail"))
	sealed, err := a.client.CertificatePublicKeyEncrypt(&kms.CertificatePublicKeyEncryptRequest{CertificateId: made.Body.CertificateId,
		Algorithm: tea.String("SM2PKE"), Plaintext: tea.String(secret)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.client.CertificatePrivateKeyDecrypt(&kms.CertificatePrivateKeyDecryptRequest{CertificateId: made.Body.CertificateId,
		Algorithm: tea.String("SM2PKE"), CiphertextBlob: sealed.Body.CiphertextBlob}); err != nil {
		t.Fatal(err)
	}
	signed, err := a.client.CertificatePrivateKeySign(&kms.CertificatePrivateKeySignRequest{CertificateId: made.Body.CertificateId,
		Algorithm: tea.String("SM2DSA"), Message: tea.String(secret)})
	if err != nil {
		t.Fatal(err)
	}
	recs, raw := a.records(t)
	for _, never := range []string{secret, tea.StringValue(sealed.Body.CiphertextBlob), tea.StringValue(signed.Body.SignatureValue)} {
		if strings.Contains(raw, never) {
			t.Errorf("the trail holds %.20s…", never)
		}
	}
	arn := a.kms.CertificateARN(id)
	var names []string
	for _, r := range recs {
		names = append(names, r.EventName)
		if r.ResponseElements["certificateId"] != id || len(r.Resources) != 1 || r.Resources[0].ARN != arn || r.Resources[0].Type != "certificate" {
			t.Errorf("%s: response elements %v, resources %v", r.EventName, r.ResponseElements, r.Resources)
		}
		if wantRW := r.EventName == "CreateCertificate" || r.EventName == "UploadCertificate"; r.ReadOnly == wantRW {
			t.Errorf("%s: readOnly %v", r.EventName, r.ReadOnly)
		}
	}
	want := []string{"CreateCertificate", "UploadCertificate", "CertificatePublicKeyEncrypt", "CertificatePrivateKeyDecrypt", "CertificatePrivateKeySign"}
	if !slices.Equal(names, want) {
		t.Errorf("the trail's events are %v, want %v", names, want)
	}
}
