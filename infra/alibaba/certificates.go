package alibaba

import (
	"encoding/base64"
	"encoding/pem"
	"strings"

	"github.com/kmsless/kmsless/core"
)

// certificateResponse is the response to a certificate operation's result,
// and false for a result of another kind.
func certificateResponse(requestID string, result any) (any, bool) {
	switch r := result.(type) {
	case core.CertificateRequested:
		return &CreateCertificateResponse{RequestId: requestID, CertificateId: r.ID, Arn: r.ARN, Csr: pemOf("CERTIFICATE REQUEST", r.CSR)}, true
	case core.CertificateFiles:
		out := &GetCertificateResponse{RequestId: requestID, CertificateId: r.ID, Csr: pemOf("CERTIFICATE REQUEST", r.CSR)}
		if r.Certificate != nil {
			out.Certificate = pemOf("CERTIFICATE", r.Certificate)
		}
		var chain strings.Builder
		for _, der := range r.Chain {
			chain.WriteString(pemOf("CERTIFICATE", der))
		}
		out.CertificateChain = chain.String()
		return out, true
	case core.CertificateDescription:
		out := &DescribeCertificateResponse{RequestId: requestID, CertificateId: r.ID, Arn: r.ARN, KeySpec: core.AlibabaKeySpec(r.KeySpec),
			Status: r.Status, Subject: r.Subject, SubjectAlternativeNames: r.SubjectAlternativeNames, Issuer: r.Issuer,
			Serial: r.Serial, NotBefore: formatTime(r.NotBefore), NotAfter: formatTime(r.NotAfter),
			SignatureAlgorithm: r.SignatureAlgorithm, SubjectKeyIdentifier: r.SubjectKeyIdentifier,
			SubjectPublicKey: pemOf("PUBLIC KEY", r.PublicKey), ExportablePrivateKey: r.Exportable, ProtectionLevel: "SOFTWARE",
			CreatedAt: formatTime(r.CreatedAt), UpdatedAt: formatTime(r.UpdatedAt)}
		if out.SubjectAlternativeNames == nil {
			out.SubjectAlternativeNames = []string{}
		}
		if len(r.Tags) > 0 {
			out.Tags = &SecretTags{Tag: secretTags(r.Tags)}
		}
		return out, true
	case core.CertificateChanged:
		return &EmptyResponse{RequestId: requestID}, true
	case core.CertificateSignature:
		return &CertificateUsedResponse{RequestId: requestID, CertificateId: r.ID, SignatureValue: base64.StdEncoding.EncodeToString(r.Value)}, true
	case core.CertificateVerdict:
		return &CertificateUsedResponse{RequestId: requestID, CertificateId: r.ID, SignatureValid: &r.Valid}, true
	case core.CertificateSealed:
		return &CertificateUsedResponse{RequestId: requestID, CertificateId: r.ID, CiphertextBlob: base64.StdEncoding.EncodeToString(r.Blob)}, true
	case core.CertificateOpened:
		return &CertificateUsedResponse{RequestId: requestID, CertificateId: r.ID, Plaintext: base64.StdEncoding.EncodeToString(r.Plaintext)}, true
	}
	return nil, false
}

// pemOf is der in a PEM block of type typ.
func pemOf(typ string, der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}

// CreateCertificateResponse answers CreateCertificate.
type CreateCertificateResponse struct {
	RequestId     string `json:"RequestId"`
	CertificateId string `json:"CertificateId"`
	Arn           string `json:"Arn"`
	Csr           string `json:"Csr"`
}

// GetCertificateResponse answers GetCertificate.
type GetCertificateResponse struct {
	RequestId        string `json:"RequestId"`
	CertificateId    string `json:"CertificateId"`
	Certificate      string `json:"Certificate"`
	CertificateChain string `json:"CertificateChain"`
	Csr              string `json:"Csr"`
}

// DescribeCertificateResponse answers DescribeCertificate.
type DescribeCertificateResponse struct {
	RequestId               string      `json:"RequestId"`
	CertificateId           string      `json:"CertificateId"`
	Arn                     string      `json:"Arn"`
	KeySpec                 string      `json:"KeySpec"`
	Status                  string      `json:"Status"`
	Subject                 string      `json:"Subject"`
	SubjectAlternativeNames []string    `json:"SubjectAlternativeNames"`
	Issuer                  string      `json:"Issuer"`
	Serial                  string      `json:"Serial"`
	NotBefore               string      `json:"NotBefore"`
	NotAfter                string      `json:"NotAfter"`
	SignatureAlgorithm      string      `json:"SignatureAlgorithm"`
	SubjectKeyIdentifier    string      `json:"SubjectKeyIdentifier"`
	SubjectPublicKey        string      `json:"SubjectPublicKey"`
	ExportablePrivateKey    bool        `json:"ExportablePrivateKey"`
	ProtectionLevel         string      `json:"ProtectionLevel"`
	CreatedAt               string      `json:"CreatedAt"`
	UpdatedAt               string      `json:"UpdatedAt"`
	Tags                    *SecretTags `json:"Tags,omitempty"`
}

// CertificateUsedResponse answers the certificates' cryptographic
// operations: each fills the field of its own.
type CertificateUsedResponse struct {
	RequestId      string `json:"RequestId"`
	CertificateId  string `json:"CertificateId"`
	SignatureValue string `json:"SignatureValue,omitempty"`
	SignatureValid *bool  `json:"SignatureValid,omitempty"`
	CiphertextBlob string `json:"CiphertextBlob,omitempty"`
	Plaintext      string `json:"Plaintext,omitempty"`
}
