package core_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"math/big"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	tjsm2 "github.com/tjfoc/gmsm/sm2"
	tjx509 "github.com/tjfoc/gmsm/x509"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/store/memory"
)

// The judges of certificates are other implementations of X.509: Go's
// crypto/x509 for RSA and P-256, tjfoc's for SM2. Each reads the request
// the service writes, acts as the CA that certifies it, and checks what the
// certificate's private key signs with the public key its certificate
// names.

// testCA is a CA that issues the certificates of the tests.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newTestCA(t *testing.T) *testCA { return newCA(t, nil) }

// sub is a CA that ca certifies.
func (ca *testCA) sub(t *testing.T) *testCA { return newCA(t, ca) }

// newCA is a CA that parent certifies, or a root when parent is nil.
func newCA(t *testing.T, parent *testCA) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA", Organization: []string{"kmsless"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	issuer, issuerKey := tmpl, key
	if parent != nil {
		tmpl.Subject.CommonName = "test sub-CA"
		issuer, issuerKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer, &key.PublicKey, issuerKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert, key}
}

// issue certifies the public key of a request Go's x509 reads.
func (ca *testCA) issue(t *testing.T, csr *x509.CertificateRequest, serial int64) []byte {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: csr.Subject, DNSNames: csr.DNSNames,
		NotBefore: time.Now().Add(-time.Minute).Truncate(time.Second), NotAfter: time.Now().Add(time.Hour).Truncate(time.Second),
		SubjectKeyId: []byte{1, 2, 3, 4}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, csr.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func pemCert(der []byte) string {
	return "-----BEGIN CERTIFICATE-----\n" + base64.StdEncoding.EncodeToString(der) + "\n-----END CERTIFICATE-----\n"
}

// createCertificate makes a certificate of spec and returns its ID and
// request's DER.
func createCertificate(t *testing.T, s *core.Service, spec string, more ...string) (string, []byte) {
	t.Helper()
	p := core.Params{"KeySpec": spec, "Subject": `CN=app.example.com,OU=kms\, keys,O=kmsless,C=CN,ST=Zhejiang,L=Hangzhou`}
	for i := 0; i+1 < len(more); i += 2 {
		p[more[i]] = more[i+1]
	}
	out, err := do(t, s, "CreateCertificate", p)
	if err != nil {
		t.Fatalf("CreateCertificate(%s): %v", spec, err)
	}
	r := out.(core.CertificateRequested)
	if r.ARN != s.CertificateARN(r.ID) || len(r.ID) != 36 {
		t.Fatalf("CreateCertificate: ID %q, ARN %q", r.ID, r.ARN)
	}
	return r.ID, r.CSR
}

func certStatus(t *testing.T, s *core.Service, id string) core.CertificateDescription {
	t.Helper()
	out, err := do(t, s, "DescribeCertificate", core.Params{"CertificateId": id})
	if err != nil {
		t.Fatalf("DescribeCertificate: %v", err)
	}
	return out.(core.CertificateDescription)
}

// A certificate of each spec goes from request to use: Go's x509 reads its
// request and issues its certificate, which the service takes only for the
// request's own public key; then the private key signs what the
// certificate's public key verifies, and opens what anyone encrypts to it.
func TestCertificateLifecycle(t *testing.T) {
	for _, tc := range []struct {
		spec, sign, encrypt string
		hash                crypto.Hash
	}{
		{"RSA_2048", "RSA_PSS_SHA_256", "RSAES_OAEP_SHA_256", crypto.SHA256},
		{"RSA_2048", "RSA_PKCS1_SHA_256", "RSAES_OAEP_SHA_1", crypto.SHA1},
		{"EC_P256", "ECDSA_SHA_256", "", 0},
	} {
		t.Run(tc.spec+"/"+tc.sign, func(t *testing.T) {
			s, _ := memService(t, core.Config{})
			ca := newTestCA(t)
			id, csrDER := createCertificate(t, s, tc.spec, "SubjectAlternativeNames", `["app.example.com","*.app.example.com"]`, "ExportablePrivateKey", "false")
			csr, err := x509.ParseCertificateRequest(csrDER)
			if err != nil {
				t.Fatalf("the judge reads no request: %v", err)
			}
			if err := csr.CheckSignature(); err != nil {
				t.Fatalf("the request's signature: %v", err)
			}
			if got := csr.Subject.String(); got != `CN=app.example.com,OU=kms\, keys,O=kmsless,L=Hangzhou,ST=Zhejiang,C=CN` {
				t.Errorf("the request's subject is %q", got)
			}
			if !slices.Equal(csr.DNSNames, []string{"app.example.com", "*.app.example.com"}) {
				t.Errorf("the request's DNS names are %v", csr.DNSNames)
			}

			d := certStatus(t, s, id)
			if d.Status != core.CertificatePending || d.Exportable || d.Issuer != "" || !bytes.Equal(d.PublicKey, csr.RawSubjectPublicKeyInfo) {
				t.Errorf("a new certificate is described as %+v", d)
			}
			digest := base64.StdEncoding.EncodeToString(make([]byte, 32))
			_, err = do(t, s, "CertificatePrivateKeySign", core.Params{"CertificateId": id, "Algorithm": tc.sign, "MessageType": "DIGEST", "Message": digest})
			mustCode(t, err, core.CodePendingImport)

			// A certificate of another key is refused, and leaves the
			// certificate PENDING.
			other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			_, err = do(t, s, "UploadCertificate", core.Params{"CertificateId": id, "Certificate": pemCert(ca.issue(t, &x509.CertificateRequest{Subject: csr.Subject, PublicKey: &other.PublicKey}, 9))})
			mustCode(t, err, core.CodeInvalidParameter)
			// So is a chain whose first certificate did not sign it.
			issued := ca.issue(t, csr, 77)
			_, err = do(t, s, "UploadCertificate", core.Params{"CertificateId": id, "Certificate": pemCert(issued), "CertificateChain": pemCert(newTestCA(t).cert.Raw)})
			mustCode(t, err, core.CodeInvalidParameter)
			if d := certStatus(t, s, id); d.Status != core.CertificatePending {
				t.Fatalf("after refused uploads the certificate is %s", d.Status)
			}

			if _, err := do(t, s, "UploadCertificate", core.Params{"CertificateId": id, "Certificate": pemCert(issued), "CertificateChain": pemCert(ca.cert.Raw)}); err != nil {
				t.Fatalf("UploadCertificate: %v", err)
			}
			got, err := do(t, s, "GetCertificate", core.Params{"CertificateId": id})
			if err != nil {
				t.Fatal(err)
			}
			files := got.(core.CertificateFiles)
			if !bytes.Equal(files.Certificate, issued) || len(files.Chain) != 1 || !bytes.Equal(files.Chain[0], ca.cert.Raw) || !bytes.Equal(files.CSR, csrDER) {
				t.Errorf("GetCertificate answers other files")
			}
			d = certStatus(t, s, id)
			if d.Status != core.CertificateActive || d.Issuer != "CN=test CA,O=kmsless" || d.Serial != "4d" ||
				d.SignatureAlgorithm != "ECDSA-SHA256" || d.SubjectKeyIdentifier != "01 02 03 04" ||
				!d.NotAfter.After(time.Now()) || d.NotBefore.IsZero() || d.KeySpec == "" || len(d.SubjectAlternativeNames) != 2 {
				t.Errorf("an uploaded certificate is described as %+v", d)
			}

			// The private key signs a RAW message (hashed here) and a
			// DIGEST; the certificate's public key verifies both.
			cert, _ := x509.ParseCertificate(issued)
			msg := []byte("the quick brown fox")
			sum := sha256.Sum256(msg)
			for _, p := range []core.Params{
				{"Message": base64.StdEncoding.EncodeToString(msg)},
				{"MessageType": "DIGEST", "Message": base64.StdEncoding.EncodeToString(sum[:])},
			} {
				p["CertificateId"], p["Algorithm"] = id, tc.sign
				out, err := do(t, s, "CertificatePrivateKeySign", p)
				if err != nil {
					t.Fatalf("CertificatePrivateKeySign %v: %v", p, err)
				}
				sig := out.(core.CertificateSignature).Value
				if err := verifyJudged(cert.PublicKey, tc.sign, sum[:], sig); err != nil {
					t.Errorf("the judge refuses the signature of %v: %v", p, err)
				}
				p["SignatureValue"] = base64.StdEncoding.EncodeToString(sig)
				if out, err := do(t, s, "CertificatePublicKeyVerify", p); err != nil || !out.(core.CertificateVerdict).Valid {
					t.Errorf("CertificatePublicKeyVerify of its own signature = %v, %v", out, err)
				}
				sig[len(sig)/2] ^= 1
				p["SignatureValue"] = base64.StdEncoding.EncodeToString(sig)
				if out, err := do(t, s, "CertificatePublicKeyVerify", p); err != nil || out.(core.CertificateVerdict).Valid {
					t.Errorf("CertificatePublicKeyVerify of a changed signature = %v, %v", out, err)
				}
			}

			if tc.encrypt == "" {
				_, err := do(t, s, "CertificatePublicKeyEncrypt", core.Params{"CertificateId": id, "Algorithm": "SM2PKE", "Plaintext": "AA=="})
				mustCode(t, err, core.CodeInvalidParameter)
			} else {
				// What anyone seals to the certificate's public key opens,
				// and what the service seals opens too.
				secret := []byte("a data key, say")
				hash := sha256.New()
				if tc.hash == crypto.SHA1 {
					hash = sha1.New()
				}
				blob, err := rsa.EncryptOAEP(hash, rand.Reader, cert.PublicKey.(*rsa.PublicKey), secret, nil)
				if err != nil {
					t.Fatal(err)
				}
				out, err := do(t, s, "CertificatePrivateKeyDecrypt", core.Params{"CertificateId": id, "Algorithm": tc.encrypt, "CiphertextBlob": base64.StdEncoding.EncodeToString(blob)})
				if err != nil || !bytes.Equal(out.(core.CertificateOpened).Plaintext, secret) {
					t.Fatalf("CertificatePrivateKeyDecrypt = %v, %v", out, err)
				}
				out, err = do(t, s, "CertificatePublicKeyEncrypt", core.Params{"CertificateId": id, "Algorithm": tc.encrypt, "Plaintext": base64.StdEncoding.EncodeToString(secret)})
				if err != nil {
					t.Fatal(err)
				}
				out, err = do(t, s, "CertificatePrivateKeyDecrypt", core.Params{"CertificateId": id, "Algorithm": tc.encrypt, "CiphertextBlob": base64.StdEncoding.EncodeToString(out.(core.CertificateSealed).Blob)})
				if err != nil || !bytes.Equal(out.(core.CertificateOpened).Plaintext, secret) {
					t.Fatalf("a round trip through the service = %v, %v", out, err)
				}
				_, err = do(t, s, "CertificatePublicKeyEncrypt", core.Params{"CertificateId": id, "Algorithm": tc.encrypt, "Plaintext": base64.StdEncoding.EncodeToString(make([]byte, 215))})
				mustCode(t, err, core.CodeInvalidParameter)
			}

			signReq := core.Params{"CertificateId": id, "Algorithm": tc.sign, "Message": "AA=="}
			status := func(to string) error {
				_, err := do(t, s, "UpdateCertificateStatus", core.Params{"CertificateId": id, "Status": to})
				return err
			}
			if err := status(core.CertificateInactive); err != nil {
				t.Fatal(err)
			}
			_, err = do(t, s, "CertificatePrivateKeySign", signReq)
			mustCode(t, err, core.CodeDisabled)
			if err := status(core.CertificateActive); err != nil {
				t.Fatal(err)
			}
			out, err := do(t, s, "CertificatePrivateKeySign", signReq)
			if err != nil {
				t.Fatal(err)
			}
			verifyReq := core.Params{"CertificateId": id, "Algorithm": tc.sign, "Message": "AA==", "SignatureValue": base64.StdEncoding.EncodeToString(out.(core.CertificateSignature).Value)}
			if err := status(core.CertificateRevoked); err != nil {
				t.Fatal(err)
			}
			_, err = do(t, s, "CertificatePrivateKeySign", signReq)
			mustCode(t, err, core.CodeDisabled)
			if out, err := do(t, s, "CertificatePublicKeyVerify", verifyReq); err != nil || !out.(core.CertificateVerdict).Valid {
				t.Errorf("a revoked certificate verifies: %v, %v", out, err)
			}
			mustCode(t, status(core.CertificateActive), core.CodeDisabled)
			_, err = do(t, s, "UploadCertificate", core.Params{"CertificateId": id, "Certificate": pemCert(issued)})
			mustCode(t, err, core.CodeDisabled)

			if _, err := do(t, s, "DeleteCertificate", core.Params{"CertificateId": id}); err != nil {
				t.Fatal(err)
			}
			_, err = do(t, s, "DescribeCertificate", core.Params{"CertificateId": id})
			mustCode(t, err, core.CodeCertificateNotFound)
			_, err = do(t, s, "CertificatePublicKeyVerify", verifyReq)
			mustCode(t, err, core.CodeCertificateNotFound)
		})
	}
}

// verifyJudged checks sig, by the certificates' algorithm alg, of digest
// under pub with Go's crypto alone.
func verifyJudged(pub crypto.PublicKey, alg string, digest, sig []byte) error {
	switch alg {
	case "RSA_PSS_SHA_256":
		return rsa.VerifyPSS(pub.(*rsa.PublicKey), crypto.SHA256, digest, sig, nil)
	case "RSA_PKCS1_SHA_256":
		return rsa.VerifyPKCS1v15(pub.(*rsa.PublicKey), crypto.SHA256, digest, sig)
	case "ECDSA_SHA_256":
		if !ecdsa.VerifyASN1(pub.(*ecdsa.PublicKey), digest, sig) {
			return errBadSignature
		}
		return nil
	}
	return errBadSignature
}

var errBadSignature = core.Errorf("BadSignature", "the signature does not verify")

// An SM2 certificate's request, certificate and signatures are SM2's own:
// tjfoc's x509 reads the request (signed SM2-with-SM3) and issues the
// certificate, and verifies over the message, with the default ID, what the
// private key signs; and what it encrypts with the certificate's public key
// opens.
func TestSM2Certificate(t *testing.T) {
	s, _ := memService(t, core.Config{})
	id, csrDER := createCertificate(t, s, "EC_SM2")
	csr, err := tjx509.ParseCertificateRequest(csrDER)
	if err != nil {
		t.Fatalf("tjfoc reads no SM2 request: %v", err)
	}
	if err := csr.CheckSignature(); err != nil || csr.SignatureAlgorithm != tjx509.SM2WithSM3 {
		t.Fatalf("the request's signature (%v): %v", csr.SignatureAlgorithm, err)
	}
	pub := csr.PublicKey.(*ecdsa.PublicKey)
	sm2Pub := &tjsm2.PublicKey{Curve: tjsm2.P256Sm2(), X: pub.X, Y: pub.Y}

	caKey, err := tjsm2.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &tjx509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "SM2 CA"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true, SignatureAlgorithm: tjx509.SM2WithSM3}
	caDER, err := tjx509.CreateCertificate(caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := tjx509.ParseCertificate(caDER)
	leaf := &tjx509.Certificate{SerialNumber: big.NewInt(2), Subject: csr.Subject, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), SignatureAlgorithm: tjx509.SM2WithSM3}
	leafDER, err := tjx509.CreateCertificate(leaf, ca, sm2Pub, caKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := do(t, s, "UploadCertificate", core.Params{"CertificateId": id, "Certificate": pemCert(leafDER), "CertificateChain": pemCert(caDER)}); err != nil {
		t.Fatalf("UploadCertificate of tjfoc's SM2 certificate: %v", err)
	}
	d := certStatus(t, s, id)
	if d.Status != core.CertificateActive || d.SignatureAlgorithm != "SM2-SM3" || d.KeySpec != "SM2" {
		t.Errorf("the SM2 certificate is described as %+v", d)
	}

	msg := []byte("SM2 signs this")
	out, err := do(t, s, "CertificatePrivateKeySign", core.Params{"CertificateId": id, "Algorithm": "SM2DSA", "Message": base64.StdEncoding.EncodeToString(msg)})
	if err != nil {
		t.Fatal(err)
	}
	if !sm2Pub.Verify(msg, out.(core.CertificateSignature).Value) {
		t.Errorf("tjfoc refuses the SM2DSA signature of a RAW message")
	}
	e := sm2Digest(t, sm2Pub, msg)
	out, err = do(t, s, "CertificatePrivateKeySign", core.Params{"CertificateId": id, "Algorithm": "SM2DSA", "MessageType": "DIGEST", "Message": base64.StdEncoding.EncodeToString(e)})
	if err != nil {
		t.Fatal(err)
	}
	if !sm2Pub.Verify(msg, out.(core.CertificateSignature).Value) {
		t.Errorf("tjfoc refuses the SM2DSA signature of a DIGEST, e")
	}
	_, err = do(t, s, "CertificatePrivateKeySign", core.Params{"CertificateId": id, "Algorithm": "ECDSA_SHA_256", "Message": "AA=="})
	mustCode(t, err, core.CodeInvalidParameter)

	secret := []byte("sealed to the certificate")
	blob, err := tjsm2.EncryptAsn1(sm2Pub, secret, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	opened, err := do(t, s, "CertificatePrivateKeyDecrypt", core.Params{"CertificateId": id, "Algorithm": "SM2PKE", "CiphertextBlob": base64.StdEncoding.EncodeToString(blob)})
	if err != nil || !bytes.Equal(opened.(core.CertificateOpened).Plaintext, secret) {
		t.Fatalf("CertificatePrivateKeyDecrypt of tjfoc's SM2PKE = %v, %v", opened, err)
	}
}

// A subject is RFC 2253's string with CN, C, O and OU; anything else is
// refused before a key is made.
func TestCertificateRefusesBadRequests(t *testing.T) {
	s, store := memService(t, core.Config{})
	good := "CN=a,OU=b,O=c,C=CN"
	for _, p := range []core.Params{
		{"KeySpec": "RSA_2048"},
		{"Subject": good},
		{"Subject": good, "KeySpec": "RSA_3072"},
		{"Subject": good, "KeySpec": "EC_P256K"},
		{"Subject": "CN=a,O=c,C=CN", "KeySpec": "EC_P256"},
		{"Subject": "CN=a,OU=b,O=c,C=China", "KeySpec": "EC_P256"},
		{"Subject": "CN=a+UID=x,OU=b,O=c,C=CN", "KeySpec": "EC_P256"},
		{"Subject": "CN=a,CN=b,OU=b,O=c,C=CN", "KeySpec": "EC_P256"},
		{"Subject": "CN=a,OU=b,O=c,C=CN,DC=example", "KeySpec": "EC_P256"},
		{"Subject": "CN=#04024869,OU=b,O=c,C=CN", "KeySpec": "EC_P256"},
		{"Subject": `CN=a\,OU=b,O=c,C=CN`, "KeySpec": "EC_P256"},
		{"Subject": good, "KeySpec": "EC_P256", "SubjectAlternativeNames": `["not a name"]`},
		{"Subject": good, "KeySpec": "EC_P256", "SubjectAlternativeNames": `"a.example.com"`},
		{"Subject": good, "KeySpec": "EC_P256", "SubjectAlternativeNames": `["1","2","3","4","5","6","7","8","9","a","b"]`},
		{"Subject": good, "KeySpec": "EC_P256", "ExportablePrivateKey": "maybe"},
		{"Subject": good, "KeySpec": "EC_P256", "ClientToken": strings.Repeat("t", 65)},
		{"Subject": good, "KeySpec": "EC_P256", "ClientToken": "two\nlines"},
	} {
		_, err := do(t, s, "CreateCertificate", p)
		var ke *core.Error
		if !errors.As(err, &ke) || (ke.Code != core.CodeInvalidParameter && ke.Code != core.CodeMissingParameter) {
			t.Errorf("CreateCertificate %v = %v, want InvalidParameter or MissingParameter", p, err)
		}
	}
	if left, _ := store.ListCertificatesAfter(t.Context(), "", 0); len(left) != 0 {
		t.Errorf("refused requests left %d certificates", len(left))
	}
	// The Go SDK sends its map of names as an object: its values count, in
	// the order of their keys.
	_, csrDER := createCertificate(t, s, "EC_P256", "SubjectAlternativeNames", `{"b":"two.example.com","a":"one.example.com"}`)
	csr, err := x509.ParseCertificateRequest(csrDER)
	if err != nil || !slices.Equal(csr.DNSNames, []string{"one.example.com", "two.example.com"}) {
		t.Errorf("the SDK's object of names gives a request for %v (%v)", csr.DNSNames, err)
	}
	for _, id := range []string{"", "not-a-uuid", "00000000-0000-0000-0000-000000000000"} {
		_, err := do(t, s, "DescribeCertificate", core.Params{"CertificateId": id})
		if id == "" {
			mustCode(t, err, core.CodeMissingParameter)
		} else {
			mustCode(t, err, core.CodeCertificateNotFound)
		}
	}
}

// A chain is checked link by link: each certificate of it signed the one
// before it, the first the certificate, as Alibaba orders a chain from the
// sub-CAs to the root.
func TestCertificateChainIsCheckedWhole(t *testing.T) {
	s, _ := memService(t, core.Config{})
	root := newTestCA(t)
	sub := root.sub(t)
	id, csrDER := createCertificate(t, s, "EC_P256")
	csr, err := x509.ParseCertificateRequest(csrDER)
	if err != nil {
		t.Fatal(err)
	}
	leaf := pemCert(sub.issue(t, csr, 5))
	for _, chain := range []string{
		pemCert(root.cert.Raw) + pemCert(sub.cert.Raw), // out of order
		pemCert(sub.cert.Raw) + pemCert(newTestCA(t).cert.Raw),
		pemCert(sub.cert.Raw) + pemCert(root.sub(t).cert.Raw),
	} {
		_, err := do(t, s, "UploadCertificate", core.Params{"CertificateId": id, "Certificate": leaf, "CertificateChain": chain})
		mustCode(t, err, core.CodeInvalidParameter)
	}
	if d := certStatus(t, s, id); d.Status != core.CertificatePending {
		t.Fatalf("after refused chains the certificate is %s", d.Status)
	}
	if _, err := do(t, s, "UploadCertificate", core.Params{"CertificateId": id, "Certificate": leaf, "CertificateChain": pemCert(sub.cert.Raw) + pemCert(root.cert.Raw)}); err != nil {
		t.Fatalf("UploadCertificate with its chain to the root: %v", err)
	}
}

// CreateCertificate repeated under its ClientToken answers the certificate
// the first call made, however the calls interleave, and makes no other; the
// same token is another caller's own, and asking it for other parameters is
// refused.
func TestCertificateClientToken(t *testing.T) {
	s, store := memService(t, core.Config{})
	count := func() int {
		t.Helper()
		all, err := store.ListCertificatesAfter(t.Context(), "", 0)
		if err != nil {
			t.Fatal(err)
		}
		return len(all)
	}
	id, csr := createCertificate(t, s, "EC_P256", "ClientToken", "order-7")
	again, csrAgain := createCertificate(t, s, "EC_P256", "ClientToken", "order-7")
	if again != id || !bytes.Equal(csrAgain, csr) || count() != 1 {
		t.Fatalf("a repeated call made %s (first %s), %d certificates in all", again, id, count())
	}
	if other, _ := createCertificate(t, s, "EC_P256"); other == id || count() != 2 {
		t.Fatalf("a call without a token was answered %s", other)
	}

	ids, errs := make([]string, 8), make([]error, 8)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() {
			var out any
			out, errs[i] = do(t, s, "CreateCertificate", core.Params{"KeySpec": "RSA_2048", "Subject": "CN=a,OU=b,O=c,C=CN", "ClientToken": "batch"})
			if errs[i] == nil {
				ids[i] = out.(core.CertificateRequested).ID
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil || ids[0] == id || slices.ContainsFunc(ids, func(x string) bool { return x != ids[0] }) || count() != 3 {
		t.Fatalf("eight calls at once under one token made %v (%v), %d certificates in all", ids, err, count())
	}

	mustCode(t, func() error {
		_, err := do(t, s, "CreateCertificate", core.Params{"KeySpec": "EC_P256", "Subject": "CN=other,OU=b,O=c,C=CN", "ClientToken": "order-7"})
		return err
	}(), core.CodeResourceExist)
	someone := &core.Principal{Name: "someone", AccessKeyID: "LTAIsomeone", Secret: core.NewSecret("s"), Policy: core.MustPolicy(
		core.Statement{Effect: "Allow", Action: []string{"kms:*"}, Resource: []string{"*"}},
	)}
	out, err := s.Handle(t.Context(), &core.Request{ID: "r", Action: "CreateCertificate", Caller: someone,
		Params: core.Params{"KeySpec": "EC_P256", "Subject": "CN=other,OU=b,O=c,C=CN", "ClientToken": "order-7"}})
	if err != nil || out.(core.CertificateRequested).ID == id || count() != 4 {
		t.Fatalf("another caller's token order-7 = %v, %v", out, err)
	}
}

// A certificate is a resource of its own: a caller's policy names it by
// its ARN and reads its tags, and a caller no policy could allow is told
// nothing of whether it exists.
func TestCertificatePermissionsAndTags(t *testing.T) {
	s, _ := memService(t, core.Config{})
	id, _ := createCertificate(t, s, "EC_P256")
	if _, err := do(t, s, "TagResource", core.Params{"CertificateId": id, "Tags": `[{"TagKey":"team","TagValue":"pay"}]`}); err != nil {
		t.Fatalf("TagResource of a certificate: %v", err)
	}
	if d := certStatus(t, s, id); d.Tags["team"] != "pay" {
		t.Fatalf("the certificate's tags are %v", d.Tags)
	}
	arn := s.CertificateARN(id)
	reader := &core.Principal{Name: "reader", AccessKeyID: "LTAIreader", Secret: core.NewSecret("s"), Policy: core.MustPolicy(
		core.Statement{Effect: "Allow", Action: []string{"kms:DescribeCertificate"}, Resource: []string{arn}},
	)}
	tagged := &core.Principal{Name: "tagged", AccessKeyID: "LTAItagged", Secret: core.NewSecret("s"), Policy: core.MustPolicy(
		core.Statement{Effect: "Allow", Action: []string{"kms:DescribeCertificate", "kms:CertificatePrivateKeySign"}, Resource: []string{"*"},
			Condition: []core.Condition{{Operator: "StringEquals", Key: "kms:tag/team", Values: []string{"ops"}}}},
	)}
	as := func(p *core.Principal, action string, params core.Params) error {
		_, err := s.Handle(t.Context(), &core.Request{ID: "r", Action: action, Params: params, Caller: p})
		return err
	}
	if err := as(reader, "DescribeCertificate", core.Params{"CertificateId": id}); err != nil {
		t.Errorf("a caller allowed on the certificate's ARN: %v", err)
	}
	mustCode(t, as(reader, "CertificatePrivateKeySign", core.Params{"CertificateId": id, "Algorithm": "ECDSA_SHA_256", "Message": "AA=="}), core.CodeNoPermission)
	mustCode(t, as(reader, "DescribeCertificate", core.Params{"CertificateId": "00000000-0000-4000-8000-000000000000"}), core.CodeNoPermission)
	mustCode(t, as(reader, "CreateCertificate", core.Params{"KeySpec": "EC_P256", "Subject": "CN=a,OU=b,O=c,C=CN"}), core.CodeNoPermission)
	mustCode(t, as(tagged, "DescribeCertificate", core.Params{"CertificateId": id}), core.CodeNoPermission)
	if _, err := do(t, s, "TagResource", core.Params{"CertificateId": id, "Tags": `[{"TagKey":"team","TagValue":"ops"}]`}); err != nil {
		t.Fatal(err)
	}
	if err := as(tagged, "DescribeCertificate", core.Params{"CertificateId": id}); err != nil {
		t.Errorf("a caller whose condition reads the certificate's tag: %v", err)
	}
	if _, err := do(t, s, "UntagResource", core.Params{"CertificateId": id, "TagKeys": `["team"]`}); err != nil {
		t.Fatal(err)
	}
	if d := certStatus(t, s, id); len(d.Tags) != 0 {
		t.Errorf("after UntagResource the certificate's tags are %v", d.Tags)
	}
}

// A certificate's private key is wrapped by the root key as a key's
// material is, and a root rotation re-wraps it: after RewrapRoot, a service
// that knows only the new root key signs with it, and one that knows only
// the old one no longer opens it.
func TestCertificateKeysFollowARootRotation(t *testing.T) {
	store := memory.New()
	oldRoot, newRoot := randomRoot(t), randomRoot(t)
	service := func(current *core.RootKey, previous ...*core.RootKey) *core.Service {
		s, err := core.New(core.Config{Store: store, Certificates: store, Root: current, PreviousRoots: previous})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := service(oldRoot)
	id, csrDER := createCertificate(t, before, "EC_P256")
	csr, err := x509.ParseCertificateRequest(csrDER)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := do(t, before, "UploadCertificate", core.Params{"CertificateId": id, "Certificate": pemCert(newTestCA(t).issue(t, csr, 5))}); err != nil {
		t.Fatal(err)
	}
	p, err := service(newRoot, oldRoot).RewrapRoot(t.Context(), core.RewrapOptions{})
	if err != nil || p.CertificatesRewrapped != 1 || p.Certificates != 1 {
		t.Fatalf("RewrapRoot = %+v, %v; want the certificate's key re-wrapped", p, err)
	}
	sign := core.Params{"CertificateId": id, "Algorithm": "ECDSA_SHA_256", "Message": "AA=="}
	if _, err := do(t, service(newRoot), "CertificatePrivateKeySign", sign); err != nil {
		t.Errorf("a service of the new root key alone: %v", err)
	}
	_, err = do(t, service(oldRoot), "CertificatePrivateKeySign", sign)
	mustCode(t, err, core.CodeInternalFailure)
	if p, err := service(newRoot, oldRoot).RewrapRoot(t.Context(), core.RewrapOptions{}); err != nil || p.CertificatesRewrapped != 0 || p.Certificates != 1 {
		t.Errorf("a second RewrapRoot = %+v, %v; want nothing left", p, err)
	}
}

// A certificate that does not parse is refused naming the parser's fault in
// a bounded message, though the fault quotes the certificate: Go's x509
// quotes a URI it cannot read whole, and twice.
func TestAnUnreadableCertificateIsRefusedInABoundedMessage(t *testing.T) {
	s, _ := memService(t, core.Config{})
	id, _ := createCertificate(t, s, "EC_P256")
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), URIs: []*url.URL{{Scheme: "http", Host: "a b", Path: "/" + strings.Repeat("a", 30000)}}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []core.Params{
		{"CertificateId": id, "Certificate": pemCert(der)},
		{"CertificateId": id, "Certificate": pemCert(newTestCA(t).cert.Raw), "CertificateChain": pemCert(der)},
	} {
		_, err = do(t, s, "UploadCertificate", p)
		if e := mustCode(t, err, core.CodeInvalidParameter); !strings.Contains(e.Message, "does not parse") || len(e.Message) > 300 {
			t.Fatalf("refused in a message of %d bytes: %.300s", len(e.Message), e.Message)
		}
	}
}
