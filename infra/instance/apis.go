package instance

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/alibaba"
)

// api is one API of the instance protocol: the core action it runs, how its
// request message becomes core's parameters, and how core's result becomes
// its response message.
type api struct {
	action string
	params func(message) (core.Params, error)
	render func(requestID string, p core.Params, result any) ([]byte, error)
}

// apis are the APIs of Alibaba's KMS instance SDK (dkms-gcs) this service
// answers, by the name in x-kms-apiname. The Advance ones differ from the
// others in answering the key version: every blob here names its version.
var apis = map[string]*api{
	"Encrypt":                {"Encrypt", encryptParams, renderSealed(false)},
	"AdvanceEncrypt":         {"Encrypt", encryptParams, renderSealed(true)},
	"Decrypt":                {"Decrypt", decryptParams, renderOpened(false)},
	"AdvanceDecrypt":         {"Decrypt", decryptParams, renderOpened(true)},
	"GenerateDataKey":        {"GenerateDataKey", dataKeyParams(2, 3, 4), renderDataKey(false)},
	"AdvanceGenerateDataKey": {"GenerateDataKey", dataKeyParams(0, 2, 3), renderDataKey(true)},
	"Sign":                   {"AsymmetricSign", signParams, renderSignature},
	"Verify":                 {"AsymmetricVerify", verifyParams, renderVerified},
	"GetPublicKey":           {"GetPublicKey", publicKeyParams, renderPublicKey},
	"GenerateRandom":         {"GenerateRandom", randomParams, renderRandom},
	"GetSecretValue":         {"GetSecretValue", secretParams, renderSecret},

	"GenerateDataKeyPair":                        {"GenerateDataKeyPair", pairParams(2, 3, 4, 5), renderPair(true, false)},
	"GenerateDataKeyPairWithoutPlaintext":        {"GenerateDataKeyPairWithoutPlaintext", pairParams(2, 3, 4, 5), renderPair(false, false)},
	"AdvanceGenerateDataKeyPair":                 {"GenerateDataKeyPair", pairParams(0, 2, 3, 4), renderPair(true, true)},
	"AdvanceGenerateDataKeyPairWithoutPlaintext": {"GenerateDataKeyPairWithoutPlaintext", pairParams(0, 2, 3, 4), renderPair(false, true)},
}

func unexpected(result any) error { return fmt.Errorf("instance: unexpected result %T", result) }

func invalid(name, format string, args ...any) error {
	return core.Errorf(core.CodeInvalidParameter, "The parameter %s is invalid: %s.", name, fmt.Sprintf(format, args...))
}

// fields reads the string fields of a message into p by name, leaving out
// those not given; a required one missing is MissingParameter.
func fields(m message, p core.Params, names map[protowire.Number]string, required ...string) error {
	for num, name := range names {
		v, err := m.str(num, name)
		if err != nil {
			return err
		}
		if v != "" {
			p[name] = v
		}
	}
	for _, name := range required {
		if p[name] == "" {
			return core.Errorf(core.CodeMissingParameter, "The parameter %s is required.", name)
		}
	}
	return nil
}

// setBytes puts a bytes field into p in base64, as core reads bytes.
func setBytes(m message, p core.Params, num protowire.Number, name string) error {
	b, err := m.bytes(num, name)
	if err == nil && len(b) > 0 {
		p[name] = base64.StdEncoding.EncodeToString(b)
	}
	return err
}

// aad binds the request's Aad (field num) as the encryption context whose
// one key is empty and whose value is the Aad in base64: the instance API
// authenticates raw bytes where the other two APIs authenticate a context,
// and so a blob sealed here with an Aad opens through them with that
// context too.
func aad(m message, p core.Params, num protowire.Number) error {
	b, err := m.bytes(num, "Aad")
	if err != nil || len(b) == 0 {
		return err
	}
	ctx, err := json.Marshal(map[string]string{"": base64.StdEncoding.EncodeToString(b)})
	if err != nil {
		return err
	}
	p["EncryptionContext"] = string(ctx)
	return nil
}

// gcm reads a symmetric key's Algorithm (field num): AES-GCM or SM4-GCM,
// or none. The service seals only in GCM; core checks the one named is the
// key's, which its spec decides, and the response names the key's.
func gcm(m message, p core.Params, num protowire.Number) error {
	alg, err := m.str(num, "Algorithm")
	switch {
	case err != nil:
		return err
	case alg != "" && alg != "AES_GCM" && alg != "SM4_GCM":
		return invalid("Algorithm", "keys here encrypt in AES_GCM or SM4_GCM, as their spec decides")
	}
	if alg != "" {
		p["Algorithm"] = alg
	}
	return nil
}

// noIV refuses an IV a caller chose, and a padding mode, which GCM has not.
// The service draws every IV: one chosen twice under a key that others
// use too would give away GCM's authentication key.
func noIV(m message, ivNum, paddingNum protowire.Number) error {
	iv, err := m.bytes(ivNum, "Iv")
	if err != nil {
		return err
	}
	if len(iv) > 0 {
		return invalid("Iv", "the service draws each IV itself; leave it out")
	}
	pad, err := m.str(paddingNum, "PaddingMode")
	if err == nil && pad != "" {
		return invalid("PaddingMode", "GCM takes no padding; leave it out")
	}
	return err
}

func encryptParams(m message) (core.Params, error) {
	p := core.Params{}
	if err := fields(m, p, map[protowire.Number]string{1: "KeyId"}, "KeyId"); err != nil {
		return nil, err
	}
	if err := setBytes(m, p, 2, "Plaintext"); err != nil {
		return nil, err
	}
	if p["Plaintext"] == "" {
		return nil, core.Errorf(core.CodeMissingParameter, "The parameter Plaintext is required.")
	}
	if err := gcm(m, p, 3); err != nil {
		return nil, err
	}
	if err := noIV(m, 5, 6); err != nil {
		return nil, err
	}
	return p, aad(m, p, 4)
}

// decryptParams reads Decrypt's: the blob, the key it must be under when a
// KeyId is given, and an Iv, which must be the blob's own.
func decryptParams(m message) (core.Params, error) {
	p := core.Params{}
	blob, err := m.bytes(1, "CiphertextBlob")
	if err != nil {
		return nil, err
	}
	if len(blob) == 0 {
		return nil, core.Errorf(core.CodeMissingParameter, "The parameter CiphertextBlob is required.")
	}
	p["CiphertextBlob"] = base64.StdEncoding.EncodeToString(blob)
	if err := fields(m, p, map[protowire.Number]string{2: "KeyId"}); err != nil {
		return nil, err
	}
	if err := gcm(m, p, 3); err != nil {
		return nil, err
	}
	iv, err := m.bytes(5, "Iv")
	if err != nil {
		return nil, err
	}
	if b, perr := core.ParseBlob(blob); len(iv) > 0 && perr == nil && string(iv) != string(b.Nonce()) {
		return nil, invalid("Iv", "it is not the IV the CiphertextBlob was sealed with")
	}
	if pad, err := m.str(6, "PaddingMode"); err != nil || pad != "" {
		return nil, cmp.Or(err, invalid("PaddingMode", "GCM takes no padding; leave it out"))
	}
	return p, aad(m, p, 4)
}

// dataKeyParams reads GenerateDataKey's (Algorithm, NumberOfBytes and Aad
// in fields alg, size and ad; AdvanceGenerateDataKey has no Algorithm).
func dataKeyParams(alg, size, ad protowire.Number) func(message) (core.Params, error) {
	return func(m message) (core.Params, error) {
		p := core.Params{}
		if err := fields(m, p, map[protowire.Number]string{1: "KeyId"}, "KeyId"); err != nil {
			return nil, err
		}
		if alg != 0 {
			if err := gcm(m, p, alg); err != nil {
				return nil, err
			}
		}
		n, err := m.int32(size, "NumberOfBytes")
		if err != nil {
			return nil, err
		}
		if n != 0 {
			p["NumberOfBytes"] = strconv.Itoa(int(n))
		}
		return p, aad(m, p, ad)
	}
}

// pairParams reads the data key pair APIs' (Algorithm, KeyPairSpec,
// KeyFormat and Aad in fields alg, spec, format and ad; the Advance ones
// have no Algorithm). Core checks the spec and the format, DER.
func pairParams(alg, spec, format, ad protowire.Number) func(message) (core.Params, error) {
	return func(m message) (core.Params, error) {
		p := core.Params{}
		if err := fields(m, p, map[protowire.Number]string{1: "KeyId", spec: "KeyPairSpec", format: "KeyFormat"}, "KeyId", "KeyPairSpec"); err != nil {
			return nil, err
		}
		if alg != 0 {
			if err := gcm(m, p, alg); err != nil {
				return nil, err
			}
		}
		return p, aad(m, p, ad)
	}
}

// signParams and verifyParams read Sign's and Verify's messages, whose
// fields are numbered apart: Verify's Signature is its field 3. A Digest is
// signed as it is; a Message whose MessageType is DIGEST likewise, and a RAW
// one, the default, is hashed with the algorithm's hash here, or by core
// with the key for SM2DSA, or signed itself by the algorithms that sign
// messages.
func signParams(m message) (core.Params, error) {
	return signFields(m, map[string]protowire.Number{"Digest": 2, "Algorithm": 3, "Message": 4, "MessageType": 5})
}

func verifyParams(m message) (core.Params, error) {
	return signFields(m, map[string]protowire.Number{"Digest": 2, "Signature": 3, "Algorithm": 4, "Message": 5, "MessageType": 6})
}

func signFields(m message, num map[string]protowire.Number) (core.Params, error) {
	p := core.Params{}
	if err := fields(m, p, map[protowire.Number]string{1: "KeyId", num["Algorithm"]: "Algorithm"}, "KeyId", "Algorithm"); err != nil {
		return nil, err
	}
	alg, ok := core.SigningAlgorithmNamed(p["Algorithm"])
	if !ok {
		return nil, invalid("Algorithm", "%q is not a signing algorithm of a key here", core.ClipText(p["Algorithm"]))
	}
	if n, ok := num["Signature"]; ok {
		sig, err := m.bytes(n, "Signature")
		if err != nil {
			return nil, err
		}
		if len(sig) == 0 {
			return nil, core.Errorf(core.CodeMissingParameter, "The parameter Signature is required.")
		}
		p["Value"] = base64.StdEncoding.EncodeToString(sig)
	}
	digest, err := m.bytes(num["Digest"], "Digest")
	if err != nil {
		return nil, err
	}
	msg, err := m.bytes(num["Message"], "Message")
	if err != nil {
		return nil, err
	}
	kind, err := m.str(num["MessageType"], "MessageType")
	if err != nil {
		return nil, err
	}
	switch {
	case len(digest) > 0:
		p["Digest"] = base64.StdEncoding.EncodeToString(digest)
	case len(msg) == 0:
		return nil, core.Errorf(core.CodeMissingParameter, "The parameter Digest or Message is required.")
	case kind == "DIGEST":
		p["Digest"] = base64.StdEncoding.EncodeToString(msg)
	case kind != "" && kind != "RAW":
		return nil, invalid("MessageType", "it must be RAW or DIGEST")
	case alg.Message || alg.KeyBound:
		p["Message"] = base64.StdEncoding.EncodeToString(msg)
	default:
		h := alg.Hash.New()
		h.Write(msg)
		p["Digest"] = base64.StdEncoding.EncodeToString(h.Sum(nil))
	}
	if kind != "" {
		p["MessageType"] = kind
	}
	return p, nil
}

func publicKeyParams(m message) (core.Params, error) {
	p := core.Params{}
	return p, fields(m, p, map[protowire.Number]string{1: "KeyId"}, "KeyId")
}

func randomParams(m message) (core.Params, error) {
	n, err := m.int32(1, "Length")
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, core.Errorf(core.CodeMissingParameter, "The parameter Length is required.")
	}
	return core.Params{"NumberOfBytes": strconv.Itoa(int(n))}, nil
}

func secretParams(m message) (core.Params, error) {
	p := core.Params{}
	if err := fields(m, p, map[protowire.Number]string{1: "SecretName", 2: "VersionStage", 3: "VersionId"}, "SecretName"); err != nil {
		return nil, err
	}
	// FetchExtendedConfig (4) asks for a managed secret's configuration:
	// generic secrets, the only kind here, have none.
	_, err := m.bool(4, "FetchExtendedConfig")
	return p, err
}

// iv is the IV a blob was sealed with.
func iv(blob []byte) []byte {
	b, err := core.ParseBlob(blob)
	if err != nil {
		return nil
	}
	return b.Nonce()
}

func renderSealed(advance bool) func(string, core.Params, any) ([]byte, error) {
	return func(id string, _ core.Params, result any) ([]byte, error) {
		s, ok := result.(core.Sealed)
		if !ok {
			return nil, unexpected(result)
		}
		var o out
		o.str(1, s.KeyID)
		o.bytes(2, s.Blob)
		o.bytes(3, iv(s.Blob))
		o.str(4, id)
		o.str(5, s.Cipher)
		if advance {
			o.str(7, s.VersionID)
		}
		return o, nil
	}
}

func renderOpened(advance bool) func(string, core.Params, any) ([]byte, error) {
	return func(id string, _ core.Params, result any) ([]byte, error) {
		r, ok := result.(core.Opened)
		if !ok {
			return nil, unexpected(result)
		}
		var o out
		o.str(1, r.KeyID)
		o.bytes(2, r.Plaintext)
		o.str(3, id)
		o.str(4, r.Cipher)
		if advance {
			o.str(6, r.VersionID)
		}
		return o, nil
	}
}

func renderDataKey(advance bool) func(string, core.Params, any) ([]byte, error) {
	return func(id string, _ core.Params, result any) ([]byte, error) {
		d, ok := result.(core.DataKey)
		if !ok {
			return nil, unexpected(result)
		}
		var o out
		o.str(1, d.KeyID)
		o.bytes(2, iv(d.Blob))
		o.bytes(3, d.Plaintext)
		o.bytes(4, d.Blob)
		o.str(5, id)
		o.str(6, d.Cipher)
		if advance {
			o.str(7, d.VersionID)
		}
		return o, nil
	}
}

// renderPair answers the data key pair APIs, whose fields after
// KeyPairSpec are numbered on from where the private key's plaintext is,
// or would be.
func renderPair(plaintext, advance bool) func(string, core.Params, any) ([]byte, error) {
	return func(id string, _ core.Params, result any) ([]byte, error) {
		d, ok := result.(core.DataKeyPair)
		if !ok {
			return nil, unexpected(result)
		}
		var o out
		o.str(1, d.KeyID)
		o.bytes(2, iv(d.Blob))
		o.str(3, d.Spec)
		num := protowire.Number(4)
		if plaintext {
			o.bytes(num, d.PrivateKey)
			num++
		}
		o.bytes(num, d.Blob)
		o.bytes(num+1, d.PublicKey)
		o.str(num+2, id)
		o.str(num+3, d.Cipher)
		if advance {
			o.str(num+4, d.VersionID)
		}
		return o, nil
	}
}

func renderSignature(id string, p core.Params, result any) ([]byte, error) {
	s, ok := result.(core.Signature)
	if !ok {
		return nil, unexpected(result)
	}
	var o out
	o.str(1, s.KeyID)
	o.bytes(2, s.Value)
	o.str(3, id)
	o.str(4, s.Algorithm)
	o.str(5, p["MessageType"])
	return o, nil
}

func renderVerified(id string, p core.Params, result any) ([]byte, error) {
	s, ok := result.(core.SignatureChecked)
	if !ok {
		return nil, unexpected(result)
	}
	var o out
	o.str(1, s.KeyID)
	o.bool(2, s.Valid)
	o.str(3, id)
	o.str(4, s.Algorithm)
	o.str(5, p["MessageType"])
	return o, nil
}

func renderPublicKey(id string, _ core.Params, result any) ([]byte, error) {
	k, ok := result.(core.PublicKey)
	if !ok {
		return nil, unexpected(result)
	}
	var o out
	o.str(1, k.KeyID)
	o.str(2, string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: k.DER})))
	o.str(3, id)
	return o, nil
}

func renderRandom(id string, _ core.Params, result any) ([]byte, error) {
	r, ok := result.(core.Random)
	if !ok {
		return nil, unexpected(result)
	}
	var o out
	o.bytes(1, r.Bytes)
	o.str(2, id)
	return o, nil
}

// renderSecret answers GetSecretValue as the Alibaba API does, in the
// instance API's fields; a generic secret rotates by no schedule here.
// Alibaba's rendering of a secret's value names no ARN, so it is given no
// service.
func renderSecret(id string, _ core.Params, result any) ([]byte, error) {
	resp, err := alibaba.Response(nil, id, result)
	if err != nil {
		return nil, err
	}
	s, ok := resp.(*alibaba.SecretValueResponse)
	if !ok {
		return nil, unexpected(result)
	}
	var o out
	o.str(1, s.SecretName)
	o.str(2, s.SecretType)
	o.str(3, s.SecretData)
	o.str(4, s.SecretDataType)
	o.strs(5, s.VersionStages.VersionStage)
	o.str(6, s.VersionId)
	o.str(7, s.CreateTime)
	o.str(8, id)
	o.str(12, "Disabled")
	return o, nil
}
