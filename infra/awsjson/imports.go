package awsjson

import (
	"encoding/base64"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/kmsless/kmsless/core"
)

// Importing key material over AWS's API runs core's actions of the Alibaba
// API: GetParametersForImport, ImportKeyMaterial, and DeleteKeyMaterial for
// AWS's DeleteImportedKeyMaterial, so that one permission grants the import
// through both protocols.

// codeUnsupportedOperation refuses a wrapping algorithm or key spec of AWS's
// enumeration that this service does not offer, as AWS refuses a parameter
// it does not support: the value is well formed, the service lacks it.
const codeUnsupportedOperation = "UnsupportedOperationException"

// maxValidity is how far on AWS lets imported material's ValidTo be.
const maxValidity = 365 * 24 * time.Hour

// wrapping checks a member against the values core offers, the others of
// AWS's enumeration and anything else. It answers before the key is found
// and authorized, and tells a caller nothing about any key.
func wrapping(name, v string, offered, others []string) error {
	if v == "" {
		return core.Errorf(core.CodeMissingParameter, "The parameter %s is required.", name)
	}
	for _, o := range offered {
		if v == o {
			return nil
		}
	}
	for _, o := range others {
		if v == o {
			return core.Errorf(codeUnsupportedOperation, "The %s %s is not supported here; use one of %v.", name, v, offered)
		}
	}
	return invalid(name, "it must be one of %v", append(offered[:len(offered):len(offered)], others...))
}

// importParametersParams offers what core wraps with: RSA-OAEP, alone or
// wrapping an AES key that wraps the material (RSA_AES_KEY_WRAP), under an
// RSA key of 2048, 3072 or 4096 bits, and SM2PKE under an SM2 key, which
// core pairs. RSAES_PKCS1_V1_5, which core keeps
// for Alibaba's API, AWS no longer offers (since October 2023), nor does
// this service through AWS's.
func importParametersParams(h *handler, in *input) (core.Params, error) {
	p, err := h.keyParams(in)
	if err != nil {
		return nil, err
	}
	if err := wrapping("WrappingAlgorithm", in.WrappingAlgorithm,
		[]string{"RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256", "RSA_AES_KEY_WRAP_SHA_1", "RSA_AES_KEY_WRAP_SHA_256", "SM2PKE"},
		[]string{"RSAES_PKCS1_V1_5"}); err != nil {
		return nil, err
	}
	if err := wrapping("WrappingKeySpec", in.WrappingKeySpec,
		[]string{"RSA_2048", "RSA_3072", "RSA_4096", "SM2"}, nil); err != nil {
		return nil, err
	}
	p["WrappingAlgorithm"], p["WrappingKeySpec"] = in.WrappingAlgorithm, in.WrappingKeySpec
	return p, nil
}

// importParams maps AWS's ExpirationModel and ValidTo onto core's
// KeyMaterialExpireUnix. KEY_MATERIAL_EXPIRES is AWS's default, so a request
// naming neither needs a ValidTo; ValidTo is in the future and at most 365
// days on, as AWS has it, and counts in whole seconds, as keys keep it.
// ImportType, KeyMaterialId and KeyMaterialDescription go to core, which
// decides where the material goes.
func importParams(h *handler, in *input) (core.Params, error) {
	p, err := h.keyParams(in)
	if err != nil {
		return nil, err
	}
	for _, m := range [...]struct {
		name string
		v    []byte
	}{{"ImportToken", in.ImportToken}, {"EncryptedKeyMaterial", in.EncryptedKeyMaterial}} {
		if len(m.v) == 0 {
			return nil, core.Errorf(core.CodeMissingParameter, "The parameter %s is required.", m.name)
		}
		if len(m.v) > 6144 {
			return nil, invalid(m.name, "it is longer than 6144 bytes")
		}
		p[m.name] = base64.StdEncoding.EncodeToString(m.v)
	}
	if in.ImportType != "" {
		p["ImportType"] = in.ImportType
	}
	if err := materialParam(p, in); err != nil {
		return nil, err
	}
	if d := in.KeyMaterialDescription; d != nil {
		if *d == "" {
			return nil, invalid("KeyMaterialDescription", "it must not be empty")
		}
		p["KeyMaterialDescription"] = *d
	}
	switch in.ExpirationModel {
	case "", "KEY_MATERIAL_EXPIRES":
		if in.ValidTo == nil {
			return nil, core.Errorf(core.CodeMissingParameter, "The parameter ValidTo is required when ExpirationModel is KEY_MATERIAL_EXPIRES, its default.")
		}
		v := *in.ValidTo
		now := h.clock.Now()
		if v > float64(now.Add(maxValidity).Unix()) {
			return nil, invalid("ValidTo", "it must be at most 365 days on")
		}
		at := time.Unix(int64(math.Floor(v)), 0)
		if !at.After(now) {
			return nil, invalid("ValidTo", "it must be in the future")
		}
		p["KeyMaterialExpireUnix"] = strconv.FormatInt(at.Unix(), 10)
	case "KEY_MATERIAL_DOES_NOT_EXPIRE":
		if in.ValidTo != nil {
			return nil, invalid("ValidTo", "it must be omitted when ExpirationModel is KEY_MATERIAL_DOES_NOT_EXPIRE")
		}
	default:
		return nil, invalid("ExpirationModel", "it must be KEY_MATERIAL_EXPIRES or KEY_MATERIAL_DOES_NOT_EXPIRE")
	}
	return p, nil
}

// deleteMaterialParams is DeleteImportedKeyMaterial's: it deletes the
// material KeyMaterialId names, or the current one.
func deleteMaterialParams(h *handler, in *input) (core.Params, error) {
	p, err := h.keyParams(in)
	if err != nil {
		return nil, err
	}
	return p, materialParam(p, in)
}

// materialParam reads a KeyMaterialId, 64 lowercase hex digits in AWS's
// model; core refuses one that names none of the key's materials.
func materialParam(p core.Params, in *input) error {
	if in.KeyMaterialId == nil {
		return nil
	}
	id := *in.KeyMaterialId
	if len(id) != 64 || strings.Trim(id, "0123456789abcdef") != "" {
		return invalid("KeyMaterialId", "it must be 64 lowercase hexadecimal digits")
	}
	p["KeyMaterialId"] = id
	return nil
}

// renderImportParameters gives the token as the blob core's base64 text
// encodes, so that it travels as the same text over both APIs.
func renderImportParameters(h *handler, _ core.Params, result any) (any, error) {
	r, ok := result.(core.ImportParameters)
	if !ok {
		return nil, unexpected(result)
	}
	token, err := base64.StdEncoding.DecodeString(r.Token)
	if err != nil {
		return nil, err
	}
	return struct {
		KeyId                  string
		ImportToken, PublicKey []byte
		ParametersValidTo      epoch
	}{h.arns.key(r.KeyID), token, r.PublicKey, epoch(r.ExpiresAt)}, nil
}
