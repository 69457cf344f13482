package core

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"encoding/pem"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/emmansun/gmsm/smx509"
)

// Certificates are Alibaba's Certificates Manager: CreateCertificate makes
// a private key, keeps it wrapped by the root key as a key version's
// material is, and answers a certificate request (CSR) for its public key;
// the caller has a CA sign it and gives the certificate back with
// UploadCertificate. From then on the certificate's private key signs
// (CertificatePrivateKeySign) and decrypts (CertificatePrivateKeyDecrypt)
// inside the service, and its public key verifies and encrypts. The
// certificates themselves are parsed by gmsm's smx509, which reads SM2's
// as well as RSA's and ECDSA's.
//
// Only an ACTIVE certificate signs, decrypts and encrypts; a REVOKED one
// still verifies, as Alibaba documents. PENDING and INACTIVE ones do
// neither. REVOKED is final: a revoked certificate is never trusted again.

// certificateAlgorithms are the algorithms a certificate's key takes, by
// its spec, core's name (Alibaba's CreateCertificate names them RSA_2048,
// EC_P256 and EC_SM2): signing, then encryption.
var certificateAlgorithms = map[string]struct{ sign, encrypt []string }{
	"RSA_2048":      {[]string{"RSA_PKCS1_SHA_256", "RSA_PSS_SHA_256"}, []string{"RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"}},
	"ECC_NIST_P256": {[]string{"ECDSA_SHA_256"}, nil},
	"SM2":           {[]string{"SM2DSA"}, []string{"SM2PKE"}},
}

// certificateSigning lists the signing algorithms of certificates' keys,
// sorted.
var certificateSigning = func() (names []string) {
	for _, a := range certificateAlgorithms {
		names = append(names, a.sign...)
	}
	slices.Sort(names)
	return names
}()

// CertificateARN is the ARN of a certificate.
func (s *Service) CertificateARN(id string) string { return s.arnPrefix + "certificate/" + id }

// CertificateRequested is CreateCertificate's result: the certificate's ID
// and the DER of its request.
type CertificateRequested struct {
	ID, ARN string
	CSR     []byte
}

// CertificateFiles is GetCertificate's result: the DER of the request, of
// the certificate (nil while it is PENDING) and of each certificate of its
// chain.
type CertificateFiles struct {
	ID               string
	CSR, Certificate []byte
	Chain            [][]byte
}

// CertificateDescription is DescribeCertificate's result: the certificate's
// metadata, its private key left out, and what its certificate says (its
// request's subject and public key while it is PENDING).
type CertificateDescription struct {
	Certificate
	ARN                     string
	Subject                 string
	SubjectAlternativeNames []string
	Issuer, Serial          string
	NotBefore, NotAfter     time.Time
	SignatureAlgorithm      string
	SubjectKeyIdentifier    string
	// PublicKey is the DER SubjectPublicKeyInfo.
	PublicKey []byte
}

// CertificateChanged is the result of UploadCertificate,
// UpdateCertificateStatus and DeleteCertificate: the certificate and its
// status after the change ("" once deleted).
type CertificateChanged struct {
	ID, Status string
}

// CertificateSignature is CertificatePrivateKeySign's result.
type CertificateSignature struct {
	ID, Algorithm string
	Value         []byte
}

// CertificateVerdict is CertificatePublicKeyVerify's result.
type CertificateVerdict struct {
	ID, Algorithm string
	Valid         bool
}

// CertificateSealed is CertificatePublicKeyEncrypt's result.
type CertificateSealed struct {
	ID, Algorithm string
	Blob          []byte
}

// CertificateOpened is CertificatePrivateKeyDecrypt's result. The adapter
// clears Plaintext once it has encoded it (Wipe).
type CertificateOpened struct {
	ID, Algorithm string
	Plaintext     []byte
}

func (c *call) certificateStore() (CertificateStore, error) {
	if c.s.certs == nil {
		return nil, internal("no certificate store is configured")
	}
	return c.s.certs, nil
}

func (c *call) createCertificate() (any, error) {
	subjectText, err := c.required("Subject")
	if err != nil {
		return nil, err
	}
	subject, err := parseDN("Subject", subjectText)
	if err != nil {
		return nil, err
	}
	specName, err := c.required("KeySpec")
	if err != nil {
		return nil, err
	}
	spec := alibabaSpecs[specName]
	if _, ok := certificateAlgorithms[spec]; !ok {
		return nil, invalidParam("KeySpec", "a certificate's key is RSA_2048, EC_P256 or EC_SM2")
	}
	sans, err := parseSANs("SubjectAlternativeNames", c.str("SubjectAlternativeNames"))
	if err != nil {
		return nil, err
	}
	exportable, err := c.bool("ExportablePrivateKey", true)
	if err != nil {
		return nil, err
	}
	// The classic SDK sends a ProtectionLevel; keys here are SOFTWARE.
	if _, err := oneOf(c, "ProtectionLevel", "SOFTWARE", "SOFTWARE"); err != nil {
		return nil, err
	}
	token, err := c.clientToken()
	if err != nil {
		return nil, err
	}
	// A token names the certificate, so that a retry finds the one it made.
	var id string
	if token != "" {
		id = tokenUUID("certificate", c.req.Caller.Name, token)
	} else {
		id = newVersionID()
	}
	want := Certificate{ID: id, KeySpec: spec, Subject: subjectText, SubjectAlternativeNames: sans, Exportable: exportable}
	if err := c.authorize(c.s.CertificateARN(id)); err != nil {
		return nil, err
	}
	st, err := c.certificateStore()
	if err != nil {
		return nil, err
	}
	if token != "" {
		if r, err := c.madeBefore(st, &want, token); !errors.Is(err, ErrNotFound) {
			return r, err
		}
	}
	priv, err := c.newKeyPair(asymmetricSpecs[spec])
	if err != nil {
		return nil, err
	}
	csr, err := smx509.CreateCertificateRequest(c.s.rand, &smx509.CertificateRequest{Subject: subject, DNSNames: sans}, priv)
	if err != nil {
		return nil, internal("certificate request: %w", err)
	}
	der, err := marshalPKCS8(priv)
	defer clear(der)
	if err != nil {
		return nil, internal("certificate key: %w", err)
	}
	wrapped, err := c.s.root.wrap(c.s.rand, id, CertificateKeyVersion, der)
	if err != nil {
		return nil, internal("certificate key: %w", err)
	}
	now := c.s.clock.Now().UTC().Truncate(time.Second)
	cert := Certificate{
		ID: id, KeySpec: spec, Subject: subjectText, SubjectAlternativeNames: sans, Exportable: exportable,
		Status: CertificatePending, Creator: c.req.Caller.Name, CreatedAt: now, UpdatedAt: now,
		PrivateKey: wrapped, RootKeyID: c.s.root.id, CSR: csr, Revision: 1,
	}
	c.changes = true
	if err := st.CreateCertificate(c.ctx, cert); err != nil {
		if token != "" && errors.Is(err, ErrExists) {
			// The same token's request made it in between.
			return c.madeBefore(st, &want, token)
		}
		return nil, storeErr(err)
	}
	return CertificateRequested{ID: id, ARN: c.s.CertificateARN(id), CSR: csr}, nil
}

// madeBefore answers CreateCertificate repeated under its ClientToken, as
// Alibaba's idempotent calls are: the certificate the first call made, when
// it was asked for with the same parameters; ErrNotFound when there is none.
func (c *call) madeBefore(st CertificateStore, want *Certificate, token string) (any, error) {
	got, err := st.GetCertificate(c.ctx, want.ID)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, err
	case err != nil:
		return nil, storeErr(err)
	case got.KeySpec != want.KeySpec || got.Subject != want.Subject || got.Exportable != want.Exportable ||
		!slices.Equal(got.SubjectAlternativeNames, want.SubjectAlternativeNames):
		return nil, Errorf(CodeResourceExist, "The ClientToken %q made a certificate with other parameters.", ClipText(token))
	}
	return CertificateRequested{ID: got.ID, ARN: c.s.CertificateARN(got.ID), CSR: got.CSR}, nil
}

// loadCertificate reads the certificate CertificateId names, for a caller
// allowed the action on it. A caller whose own policy could not allow the
// action is denied alike whether or not the certificate exists.
func (c *call) loadCertificate() (Certificate, error) {
	id, err := c.required("CertificateId")
	if err != nil {
		return Certificate{}, err
	}
	st, err := c.certificateStore()
	if err != nil {
		return Certificate{}, err
	}
	cert := Certificate{}
	if validUUID(id) {
		cert, err = st.GetCertificate(c.ctx, id)
	} else {
		err = ErrNotFound // no certificate has another kind of ID
	}
	switch {
	case errors.Is(err, ErrNotFound):
		if !c.req.Caller.Policy.mayAllowOn(c.act, c.s.CertificateARN(id)) {
			return Certificate{}, c.denied()
		}
		return Certificate{}, Errorf(CodeCertificateNotFound, "The certificate %q does not exist.", ClipText(id))
	case err != nil:
		return Certificate{}, storeErr(err)
	}
	c.facts.Tags = cert.Tags
	if err := c.authorize(c.s.CertificateARN(cert.ID)); err != nil {
		return Certificate{}, err
	}
	return cert, nil
}

// changeCertificate applies fn to the certificate CertificateId names and
// stores it, again from a fresh read when another change came first. fn
// returns errUnchanged when there is nothing to store.
func (c *call) changeCertificate(fn func(*Certificate) error) (Certificate, error) {
	c.changes = true
	for try := retries(c.ctx); try.again(); {
		cert, err := c.loadCertificate()
		if err != nil {
			return Certificate{}, err
		}
		if err := fn(&cert); errors.Is(err, errUnchanged) {
			return cert, nil
		} else if err != nil {
			return Certificate{}, err
		}
		cert.Revision++
		cert.UpdatedAt = c.s.clock.Now().UTC().Truncate(time.Second)
		err = c.s.certs.UpdateCertificate(c.ctx, cert)
		switch {
		case err == nil:
			return cert, nil
		case errors.Is(err, ErrNotFound):
			return Certificate{}, Errorf(CodeCertificateNotFound, "The certificate %q does not exist.", cert.ID)
		case !errors.Is(err, ErrConflict):
			return Certificate{}, storeErr(err)
		}
	}
	return Certificate{}, Errorf(CodeStateModifiedFailed, "The certificate kept changing; retry.")
}

// uploadCertificate takes the certificate a CA issued for the
// certificate's public key, PEM, and its chain, PEM certificates from the
// issuer's up. The certificate must certify the very public key of the
// request, and the chain's first certificate, if any, must have signed it.
// A PENDING certificate becomes ACTIVE; one uploaded again (a renewal)
// keeps its status.
func (c *call) uploadCertificate() (any, error) {
	text, err := c.required("Certificate")
	if err != nil {
		return nil, err
	}
	certs, err := parsePEMCertificates("Certificate", text)
	if err != nil {
		return nil, err
	}
	if len(certs) != 1 {
		return nil, invalidParam("Certificate", "it holds %d certificates; give one, and its chain as CertificateChain", len(certs))
	}
	var chain []*smx509.Certificate
	if text := c.str("CertificateChain"); text != "" {
		if chain, err = parsePEMCertificates("CertificateChain", text); err != nil {
			return nil, err
		}
		// Each link signed the one before it, the first the certificate.
		issued := certs[0]
		for i, issuer := range chain {
			if err := issued.CheckSignatureFrom(issuer); err != nil {
				return nil, invalidParam("CertificateChain", "its certificate %d did not sign the certificate before it: %v", i+1, err)
			}
			issued = issuer
		}
	}
	changed, err := c.changeCertificate(func(cert *Certificate) error {
		if cert.Status == CertificateRevoked {
			return Errorf(CodeDisabled, "The certificate %q is revoked.", cert.ID)
		}
		csr, err := cert.request()
		if err != nil {
			return err
		}
		if !publicKeysEqual(csr.PublicKey, certs[0].PublicKey) {
			return invalidParam("Certificate", "it certifies another public key than the certificate %q's", cert.ID)
		}
		cert.Certificate = certs[0].Raw
		cert.Chain = nil
		for _, ch := range chain {
			cert.Chain = append(cert.Chain, ch.Raw)
		}
		if cert.Status == CertificatePending {
			cert.Status = CertificateActive
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return CertificateChanged{ID: changed.ID, Status: changed.Status}, nil
}

// request parses the certificate's stored request.
func (cert *Certificate) request() (*smx509.CertificateRequest, error) {
	csr, err := smx509.ParseCertificateRequest(cert.CSR)
	if err != nil {
		return nil, internal("certificate %s: its request: %w", cert.ID, err)
	}
	return csr, nil
}

// parsePEMCertificates reads text as PEM CERTIFICATE blocks, at least one,
// and nothing else.
func parsePEMCertificates(param, text string) ([]*smx509.Certificate, error) {
	var certs []*smx509.Certificate
	rest := []byte(text)
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, invalidParam(param, "it holds a PEM block of type %q; only CERTIFICATE blocks are taken", ClipText(block.Type))
		}
		cert, err := smx509.ParseCertificate(block.Bytes)
		if err != nil {
			// The parser's message may quote the certificate (a URI it cannot
			// read, whole): it is clipped as a caller's text is.
			return nil, invalidParam(param, "a certificate in it does not parse: %s", ClipText(err.Error()))
		}
		certs = append(certs, cert)
	}
	if len(certs) == 0 || len(bytes.TrimSpace(rest)) > 0 {
		return nil, invalidParam(param, "it must be X.509 certificates in PEM, -----BEGIN CERTIFICATE----- and on")
	}
	return certs, nil
}

// publicKeysEqual reports whether a and b are the same public key.
func publicKeysEqual(a, b crypto.PublicKey) bool {
	eq, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && eq.Equal(b)
}

func (c *call) getCertificate() (any, error) {
	cert, err := c.loadCertificate()
	if err != nil {
		return nil, err
	}
	return CertificateFiles{ID: cert.ID, CSR: cert.CSR, Certificate: cert.Certificate, Chain: cert.Chain}, nil
}

func (c *call) describeCertificate() (any, error) {
	cert, err := c.loadCertificate()
	if err != nil {
		return nil, err
	}
	d := CertificateDescription{ARN: c.s.CertificateARN(cert.ID), Subject: cert.Subject, SubjectAlternativeNames: cert.SubjectAlternativeNames}
	if cert.Certificate == nil {
		csr, err := cert.request()
		if err != nil {
			return nil, err
		}
		d.PublicKey = csr.RawSubjectPublicKeyInfo
	} else {
		x, err := smx509.ParseCertificate(cert.Certificate)
		if err != nil {
			return nil, internal("certificate %s: %w", cert.ID, err)
		}
		d.Subject, d.SubjectAlternativeNames = x.Subject.String(), x.DNSNames
		d.Issuer, d.Serial = x.Issuer.String(), x.SerialNumber.Text(16)
		d.NotBefore, d.NotAfter = x.NotBefore.UTC(), x.NotAfter.UTC()
		d.SignatureAlgorithm = certificateSignatureAlgorithm(x)
		// As Alibaba writes it: bytes in capital hex, a space apart.
		d.SubjectKeyIdentifier = fmt.Sprintf("% X", x.SubjectKeyId)
		d.PublicKey = x.RawSubjectPublicKeyInfo
	}
	cert.PrivateKey, cert.CSR, cert.Certificate, cert.Chain = nil, nil, nil, nil
	d.Certificate = cert
	return d, nil
}

// certificateSignatureAlgorithm names the algorithm the issuer signed x
// with as Alibaba does: RSA2048-SHA256 (the issuer's modulus is the
// signature's length), ECDSA-SHA256, SM2-SM3.
func certificateSignatureAlgorithm(x *smx509.Certificate) string {
	switch x.SignatureAlgorithm {
	case smx509.SHA256WithRSA, smx509.SHA384WithRSA, smx509.SHA512WithRSA, smx509.SHA256WithRSAPSS, smx509.SHA384WithRSAPSS, smx509.SHA512WithRSAPSS:
		hash := strings.TrimPrefix(strings.SplitN(x.SignatureAlgorithm.String(), "-", 2)[0], "SHA")
		return fmt.Sprintf("RSA%d-SHA%s", 8*len(x.Signature), hash)
	case smx509.ECDSAWithSHA256:
		return "ECDSA-SHA256"
	case smx509.ECDSAWithSHA384:
		return "ECDSA-SHA384"
	case smx509.ECDSAWithSHA512:
		return "ECDSA-SHA512"
	case smx509.SM2WithSM3:
		return "SM2-SM3"
	}
	return x.SignatureAlgorithm.String()
}

func (c *call) updateCertificateStatus() (any, error) {
	status, err := oneOf(c, "Status", "", CertificateActive, CertificateInactive, CertificateRevoked)
	if err != nil {
		return nil, err
	}
	if status == "" {
		return nil, missingParam("Status")
	}
	changed, err := c.changeCertificate(func(cert *Certificate) error {
		switch {
		case cert.Status == status:
			return errUnchanged
		case cert.Status == CertificatePending:
			return Errorf(CodePendingImport, "The certificate %q is PENDING: UploadCertificate gives it its certificate first.", cert.ID)
		case cert.Status == CertificateRevoked:
			return Errorf(CodeDisabled, "The certificate %q is revoked, for good.", cert.ID)
		}
		cert.Status = status
		return nil
	})
	if err != nil {
		return nil, err
	}
	return CertificateChanged{ID: changed.ID, Status: changed.Status}, nil
}

func (c *call) deleteCertificate() (any, error) {
	c.changes = true
	for try := retries(c.ctx); try.again(); {
		cert, err := c.loadCertificate()
		if err != nil {
			return nil, err
		}
		err = c.s.certs.DeleteCertificate(c.ctx, cert.ID, cert.Revision)
		switch {
		case err == nil, errors.Is(err, ErrNotFound):
			c.s.ring.drop(certificateRef(&cert))
			return CertificateChanged{ID: cert.ID}, nil
		case !errors.Is(err, ErrConflict):
			return nil, storeErr(err)
		}
	}
	return nil, Errorf(CodeStateModifiedFailed, "The certificate kept changing; retry.")
}

// certificateRef is the ref the keyring keeps a certificate's parsed
// private key by: a certificate made again under the same ID (by a restore
// of the store, say) is told apart by its creation time.
func certificateRef(cert *Certificate) VersionRef {
	return VersionRef{KeyID: "certificate/" + cert.ID, VersionID: CertificateKeyVersion, KeyCreated: cert.CreatedAt.Unix()}
}

// certificateKey loads the certificate CertificateId names, which must be
// in one of statuses, and its private key for alg (a signing algorithm if
// signing, else an encryption one), which the key's spec must take. Its
// private key is parsed once per instance, and loading it spends the
// caller's bucket for the spec, as a key's does.
func (c *call) certificateKey(alg string, signing bool, statuses ...string) (Certificate, privateKeyOf, error) {
	cert, err := c.loadCertificate()
	if err != nil {
		return Certificate{}, nil, err
	}
	if !slices.Contains(statuses, cert.Status) {
		code := CodeDisabled
		if cert.Status == CertificatePending {
			code = CodePendingImport
		}
		return Certificate{}, nil, Errorf(code, "The certificate %q is %s.", cert.ID, cert.Status)
	}
	algs, names := certificateAlgorithms[cert.KeySpec].encrypt, "encryption"
	if signing {
		algs, names = certificateAlgorithms[cert.KeySpec].sign, "signing"
	}
	if !slices.Contains(algs, alg) {
		return Certificate{}, nil, invalidParam("Algorithm", "the certificate %q's key (%s) takes the %s algorithms %v", cert.ID, AlibabaKeySpec(cert.KeySpec), names, algs)
	}
	if lim, ok := PrivateKeyLimits[cert.KeySpec]; ok {
		if err := c.s.spend(c.ctx, "private-key-"+cert.KeySpec+":"+c.req.Caller.AccessKeyID, lim); err != nil {
			return Certificate{}, nil, err
		}
	}
	ref := certificateRef(&cert)
	if held, ok := c.s.ring.get(ref); ok {
		return cert, held.(privateKeyOf), nil
	}
	der, err := c.s.roots.open(KeyVersion{KeyID: cert.ID, VersionID: CertificateKeyVersion, Wrapped: cert.PrivateKey, RootKeyID: cert.RootKeyID})
	if err != nil {
		return Certificate{}, nil, internal("certificate %s: %w", cert.ID, err)
	}
	defer clear(der)
	priv, err := parsePKCS8(der)
	held, ok := priv.(privateKeyOf)
	if err != nil || !ok {
		return Certificate{}, nil, internal("certificate %s holds no private key", cert.ID)
	}
	c.s.ring.put(ref, held)
	return cert, held, nil
}

// certificateMessage reads Algorithm, MessageType (RAW, the default, or
// DIGEST) and Message: a RAW message of at most 4096 bytes is hashed here,
// with SHA-256, or for SM2DSA with SM3 over the signer's Z once the key is
// loaded; a DIGEST is the 32 bytes the algorithm signs.
func (c *call) certificateMessage() (signingAlgorithm, []byte, error) {
	alg, err := c.signingAlgorithm(certificateSigning)
	if err != nil {
		return signingAlgorithm{}, nil, err
	}
	kind, err := oneOf(c, "MessageType", "RAW", "RAW", "DIGEST")
	if err != nil {
		return signingAlgorithm{}, nil, err
	}
	if kind == "DIGEST" {
		d, err := c.bytes("Message", alg.digestSize())
		if err != nil || len(d) != alg.digestSize() {
			return signingAlgorithm{}, nil, cmpErr(err, invalidParam("Message", "a DIGEST must be the %d bytes %s signs", alg.digestSize(), alg.name))
		}
		return alg, d, nil
	}
	msg, err := c.bytes("Message", MaxSignMessage)
	if err != nil {
		return signingAlgorithm{}, nil, err
	}
	if alg.sm2 {
		alg.message = true
		return alg, msg, nil
	}
	sum := sha256.Sum256(msg)
	return alg, sum[:], nil
}

func (c *call) certificatePrivateKeySign() (any, error) {
	alg, digest, err := c.certificateMessage()
	if err != nil {
		return nil, err
	}
	cert, priv, err := c.certificateKey(alg.name, true, CertificateActive)
	if err != nil {
		return nil, err
	}
	sig, err := signWith(c.s.rand, priv, alg, digest)
	if err != nil {
		return nil, err
	}
	return CertificateSignature{ID: cert.ID, Algorithm: alg.name, Value: sig}, nil
}

func (c *call) certificatePublicKeyVerify() (any, error) {
	sig, err := c.bytes("SignatureValue", 6144)
	if err != nil {
		return nil, err
	}
	alg, digest, err := c.certificateMessage()
	if err != nil {
		return nil, err
	}
	cert, priv, err := c.certificateKey(alg.name, true, CertificateActive, CertificateRevoked)
	if err != nil {
		return nil, err
	}
	return CertificateVerdict{ID: cert.ID, Algorithm: alg.name, Valid: verifyWith(priv.Public(), alg, digest, sig)}, nil
}

func (c *call) certificatePublicKeyEncrypt() (any, error) {
	hash, alg, err := c.encryptionAlgorithm("Algorithm")
	if err != nil {
		return nil, err
	}
	pt, err := c.bytes("Plaintext", MaxSM2Plaintext)
	defer clear(pt)
	if err != nil {
		return nil, err
	}
	cert, priv, err := c.certificateKey(alg, false, CertificateActive)
	if err != nil {
		return nil, err
	}
	blob, err := sealTo(c.s.rand, priv.Public(), "Plaintext", hash, alg, pt)
	if err != nil {
		return nil, err
	}
	return CertificateSealed{ID: cert.ID, Algorithm: alg, Blob: blob}, nil
}

func (c *call) certificatePrivateKeyDecrypt() (any, error) {
	hash, alg, blob, err := c.asymmetricCiphertext("Algorithm")
	if err != nil {
		return nil, err
	}
	cert, priv, err := c.certificateKey(alg, false, CertificateActive)
	if err != nil {
		return nil, err
	}
	pt, err := openWith(priv, hash, blob)
	if err != nil {
		return nil, err
	}
	return CertificateOpened{ID: cert.ID, Algorithm: alg, Plaintext: pt}, nil
}

// retagCertificate applies fn to the tags of the certificate
// CertificateId names, for TagResource and UntagResource.
func (c *call) retagCertificate(fn func(map[string]string)) error {
	if c.str("KeyId") != "" || c.str("SecretName") != "" {
		return invalidParam("CertificateId", "it names a certificate; give only one of KeyId, SecretName and CertificateId")
	}
	rules := c.req.TagRules
	_, err := c.changeCertificate(func(cert *Certificate) error {
		tags := maps.Clone(cert.Tags)
		if tags == nil {
			tags = map[string]string{}
		}
		fn(tags)
		if maps.Equal(tags, cert.Tags) {
			return errUnchanged
		}
		if len(tags) > rules.perKey() && len(tags) > len(cert.Tags) {
			return rules.tooMany("Tags", "the certificate %q would carry more than %d tags", cert.ID, rules.perKey())
		}
		if len(tags) == 0 {
			tags = nil
		}
		cert.Tags = tags
		return nil
	})
	return err
}

// validUUID reports whether id has a UUID's form: 36 characters, hex digits
// in groups of 8, 4, 4, 4 and 12 joined by hyphens.
func validUUID(id string) bool {
	if len(id) != 36 {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch i {
		case 8, 13, 18, 23:
			if id[i] != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", rune(id[i])) {
				return false
			}
		}
	}
	return true
}
