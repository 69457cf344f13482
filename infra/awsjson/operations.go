package awsjson

import (
	"cmp"
	_ "crypto/sha256" // the hashes of signingAlgorithms
	_ "crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/kmsless/kmsless/core"
)

// input is every request member the operations read, typed as AWS's model
// types them: blobs are base64 in JSON ([]byte), contexts are objects of
// strings. A member of the wrong type is a SerializationException, as AWS
// answers it; members no operation reads are ignored.
type input struct {
	KeyId, SourceKeyId, DestinationKeyId, TargetKeyId  *string
	AliasName, Description, PolicyName, Policy, Marker *string

	KeySpec, CustomerMasterKeySpec, KeyUsage, Origin, CustomKeyStoreId string
	CustomKeyStoreName, ReplicaRegion, PrimaryRegion                   string
	XksKeyId                                                           *string
	KeyPairSpec                                                        string
	EncryptionAlgorithm, SourceEncryptionAlgorithm                     string
	DestinationEncryptionAlgorithm, IncludeKeyMaterial                 string

	EncryptionContext, SourceEncryptionContext, DestinationEncryptionContext map[string]string

	Plaintext, CiphertextBlob  []byte
	Recipient                  json.RawMessage
	Message, Mac, Signature    []byte
	MacAlgorithm               string
	MessageType                string
	SigningAlgorithm           string
	KeyAgreementAlgorithm      string
	PublicKey                  []byte
	EncapsulationAlgorithm     string
	SharedSecretCiphertextBlob []byte

	NumberOfBytes, PendingWindowInDays, RotationPeriodInDays, Limit *int
	DryRun, MultiRegion, BypassPolicyLockoutSafetyCheck             *bool
	GrantTokens, TagKeys, DryRunModifiers, ResourceOwners           []string
	Tags                                                            []tag

	WrappingAlgorithm, WrappingKeySpec, ExpirationModel, ImportType string
	ImportToken, EncryptedKeyMaterial                               []byte
	ValidTo                                                         *float64
	KeyMaterialId, KeyMaterialDescription                           *string

	GranteePrincipal, RetiringPrincipal, Name, GrantId, GrantToken *string
	GranteeServicePrincipal, RetiringServicePrincipal              *string
	Operations                                                     []string
	Constraints                                                    *grantConstraints
}

// tag is AWS's Tag: both members are required, and the value may be empty.
type tag struct{ TagKey, TagValue *string }

// operation is one AWS operation: the core action it runs, how its members
// become core's parameters, and how core's result becomes its response.
type operation struct {
	action string
	params func(*handler, *input) (core.Params, error)
	render func(*handler, core.Params, any) (any, error)
}

// operations is the table of AWS operations, by the name after TargetPrefix.
// Where Alibaba's API has the same operation, the core action is that one, so
// a policy grants both protocols alike; the rest are core actions of their
// own, named as AWS names them.
var operations map[string]*operation

func init() {
	keyOnly := func(h *handler, in *input) (core.Params, error) { return h.keyParams(in) }
	keyWithTokens := func(h *handler, in *input) (core.Params, error) {
		p, err := h.keyParams(in)
		if err != nil {
			return nil, err
		}
		return p, grantTokens(p, in)
	}
	operations = map[string]*operation{
		"CreateKey":            {"CreateKey", createKeyParams, renderMetadata},
		"DescribeKey":          {"DescribeKey", keyWithTokens, renderMetadata},
		"ListKeys":             {"ListKeys", keysParams, renderKeys},
		"EnableKey":            {"EnableKey", keyOnly, renderNothing},
		"DisableKey":           {"DisableKey", keyOnly, renderNothing},
		"ScheduleKeyDeletion":  {"ScheduleKeyDeletion", scheduleParams, renderScheduled},
		"CancelKeyDeletion":    {"CancelKeyDeletion", cancelParams, renderKeyID},
		"UpdateKeyDescription": {"UpdateKeyDescription", descriptionParams, renderNothing},
		"CreateAlias":          {"CreateAlias", namingAliasParams, renderNothing},
		"UpdateAlias":          {"UpdateAlias", namingAliasParams, renderNothing},
		"DeleteAlias":          {"DeleteAlias", aliasParams, renderNothing},
		"ListAliases":          {"ListAliases", listAliasesParams, renderAliases},

		"Encrypt":                         {"Encrypt", encryptParams, renderSealed},
		"Decrypt":                         {"Decrypt", decryptParams, renderOpened},
		"ReEncrypt":                       {"ReEncrypt", reEncryptParams, renderResealed},
		"GenerateDataKey":                 {"GenerateDataKey", dataKeyParams, renderDataKey},
		"GenerateDataKeyWithoutPlaintext": {"GenerateDataKeyWithoutPlaintext", dataKeyParams, renderSealedDataKey},
		"GenerateRandom":                  {"GenerateRandom", randomParams, renderRandom},

		"GenerateDataKeyPair":                 {"GenerateDataKeyPair", keyPairParams, renderDataKeyPair},
		"GenerateDataKeyPairWithoutPlaintext": {"GenerateDataKeyPairWithoutPlaintext", keyPairParams, renderDataKeyPair},

		"GenerateMac": {"GenerateMac", macParams, renderMac},
		"VerifyMac":   {"VerifyMac", macParams, renderMacVerified},

		"GetPublicKey": {"GetPublicKey", publicKeyParams, renderPublicKey},
		"Sign":         {"AsymmetricSign", signParams, renderSignature},
		"Verify":       {"AsymmetricVerify", verifyParams, renderSignatureChecked},

		"DeriveSharedSecret": {"DeriveSharedSecret", deriveParams, renderSharedSecret},
		"Encapsulate":        {"Encapsulate", encapsulationParams, renderEncapsulated},
		"Decapsulate":        {"Decapsulate", encapsulationParams, renderDecapsulated},

		"EnableKeyRotation":    {"EnableKeyRotation", rotationParams, renderNothing},
		"DisableKeyRotation":   {"DisableKeyRotation", keyOnly, renderNothing},
		"GetKeyRotationStatus": {"GetKeyRotationStatus", keyOnly, renderRotationStatus},
		"RotateKeyOnDemand":    {"RotateKeyOnDemand", keyOnly, renderKeyID},
		"ListKeyRotations":     {"ListKeyRotations", rotationsParams, renderRotations},
		"GetKeyPolicy":         {"GetKeyPolicy", policyParams, renderPolicy},
		"PutKeyPolicy":         {"SetKeyPolicy", policyParams, renderNothing},
		"ListKeyPolicies":      {"ListKeyPolicies", keyPageParams, renderPolicyNames},
		"GetKeyLastUsage":      {"GetKeyLastUsage", keyIDParams, renderKeyLastUsage},

		"GetParametersForImport":    {"GetParametersForImport", importParametersParams, renderImportParameters},
		"ImportKeyMaterial":         {"ImportKeyMaterial", importParams, renderMaterial},
		"DeleteImportedKeyMaterial": {"DeleteKeyMaterial", deleteMaterialParams, renderMaterial},

		"TagResource":      {"TagResource", tagParams, renderNothing},
		"UntagResource":    {"UntagResource", untagParams, renderNothing},
		"ListResourceTags": {"ListResourceTags", tagPageParams, renderTags},

		"CreateGrant":         {"CreateGrant", createGrantParams, renderGrantCreated},
		"ListGrants":          {"ListGrants", listGrantsParams, renderGrants},
		"ListRetirableGrants": {"ListRetirableGrants", retirableGrantsParams, renderGrants},
		"RetireGrant":         {"RetireGrant", retireGrantParams, renderNothing},
		"RevokeGrant":         {"RevokeGrant", revokeGrantParams, renderNothing},

		"ReplicateKey":             {"ReplicateKey", regionParams("ReplicaRegion", func(in *input) string { return in.ReplicaRegion }), renderNothing},
		"UpdatePrimaryRegion":      {"UpdatePrimaryRegion", regionParams("PrimaryRegion", func(in *input) string { return in.PrimaryRegion }), renderNothing},
		"DescribeCustomKeyStores":  {"DescribeCustomKeyStores", customKeyStoresParams, renderCustomKeyStores},
		"CreateCustomKeyStore":     {"CreateCustomKeyStore", customKeyStoreParams, renderNothing},
		"ConnectCustomKeyStore":    {"ConnectCustomKeyStore", customKeyStoreParams, renderNothing},
		"DisconnectCustomKeyStore": {"DisconnectCustomKeyStore", customKeyStoreParams, renderNothing},
		"UpdateCustomKeyStore":     {"UpdateCustomKeyStore", customKeyStoreParams, renderNothing},
		"DeleteCustomKeyStore":     {"DeleteCustomKeyStore", customKeyStoreParams, renderNothing},
	}
	aliasesByKey = &operation{"ListAliasesByKeyId", listAliasesParams, renderAliases}
	asymmetricEncrypt = &operation{"AsymmetricEncrypt", asymmetricEncryptParams, renderSealed}
	asymmetricDecrypt = &operation{"AsymmetricDecrypt", asymmetricDecryptParams, renderOpened}
	operationOf = map[string]string{asymmetricEncrypt.action: "Encrypt", asymmetricDecrypt.action: "Decrypt"}
	for name, op := range operations {
		if op.action != name {
			operationOf[op.action] = name
		}
	}
}

// operationOf is the AWS operation that runs each core action whose name
// is not AWS's.
var operationOf map[string]string

// aliasesByKey is ListAliases with a KeyId: Alibaba's ListAliasesByKeyId, and
// authorized as that action on the key. asymmetricEncrypt and
// asymmetricDecrypt are Encrypt and Decrypt with an RSAES or SM2PKE
// algorithm: Alibaba's AsymmetricEncrypt and AsymmetricDecrypt, authorized
// as those.
var aliasesByKey, asymmetricEncrypt, asymmetricDecrypt *operation

// variant is the operation a request to op runs, which its members decide
// for ListAliases (with a KeyId) and Encrypt and Decrypt (with an RSAES or
// SM2PKE algorithm).
func (op *operation) variant(in *input) *operation {
	asymmetric := slices.Contains(asymmetricAlgorithms, in.EncryptionAlgorithm)
	switch {
	case op.action == "ListAliases" && in.KeyId != nil:
		return aliasesByKey
	case op.action == "Encrypt" && asymmetric:
		return asymmetricEncrypt
	case op.action == "Decrypt" && asymmetric:
		return asymmetricDecrypt
	}
	return op
}

func invalid(name, format string, args ...any) error {
	return core.Errorf(core.CodeInvalidParameter, "The parameter %s is invalid: %s.", name, fmt.Sprintf(format, args...))
}

// maxKeyRef is the longest key reference (KeyId, SourceKeyId, …) AWS's
// model takes.
const maxKeyRef = 2048

// ref sets core's parameter to the key an AWS member names, in core's
// spelling. AWS's model takes any string of 1 to 2048 characters there: one
// that no key or alias here could have, in any of AWS's spellings, names
// nothing, and is answered as AWS answers a key it does not have
// (NotFoundException, "Invalid keyId"), as local-kms does too, rather than
// as a malformed request. Core's refusal of such a reference is the Alibaba
// API's, whose model is narrower; an ARN of Alibaba's spelling goes to core
// as it is.
func (h *handler) ref(p core.Params, name string, v *string) error {
	if v == nil {
		return nil
	}
	if *v == "" || utf8.RuneCountInString(*v) > maxKeyRef {
		return invalid(name, "it must be 1 to %d characters", maxKeyRef)
	}
	r, err := h.arns.ref(*v)
	if err != nil {
		if core.AsError(err).Code != core.CodeInvalidParameter {
			return err
		}
		r = "" // a key ARN that ends in an alias: no key's
	}
	if !strings.HasPrefix(r, "acs:") && !core.ValidKeyRef(r) {
		if strings.HasPrefix(r, "alias/") {
			return core.Errorf(core.CodeAliasNotFound, "The alias %q does not exist.", core.ClipText(*v))
		}
		return core.Errorf(core.CodeKeyNotFound, "The key %q does not exist.", core.ClipText(*v))
	}
	p[name] = r
	return nil
}

func (h *handler) keyParams(in *input) (core.Params, error) {
	p := core.Params{}
	if in.KeyId == nil {
		return nil, core.Errorf(core.CodeMissingParameter, "The parameter KeyId is required.")
	}
	return p, h.ref(p, "KeyId", in.KeyId)
}

// keyUsages are the KeyUsage values AWS documents for each KeySpec of
// CreateKey. Only SYMMETRIC_DEFAULT, the default, takes none.
var keyUsages = map[string][]string{
	"SYMMETRIC_DEFAULT":     {"ENCRYPT_DECRYPT"},
	"RSA_2048":              {"ENCRYPT_DECRYPT", "SIGN_VERIFY"},
	"RSA_3072":              {"ENCRYPT_DECRYPT", "SIGN_VERIFY"},
	"RSA_4096":              {"ENCRYPT_DECRYPT", "SIGN_VERIFY"},
	"ECC_NIST_P256":         {"SIGN_VERIFY", "KEY_AGREEMENT"},
	"ECC_NIST_P384":         {"SIGN_VERIFY", "KEY_AGREEMENT"},
	"ECC_NIST_P521":         {"SIGN_VERIFY", "KEY_AGREEMENT"},
	"ECC_NIST_EDWARDS25519": {"SIGN_VERIFY"},
	"ECC_SECG_P256K1":       {"SIGN_VERIFY"},
	"HMAC_224":              {"GENERATE_VERIFY_MAC"},
	"HMAC_256":              {"GENERATE_VERIFY_MAC"},
	"HMAC_384":              {"GENERATE_VERIFY_MAC"},
	"HMAC_512":              {"GENERATE_VERIFY_MAC"},
	"SM2":                   {"ENCRYPT_DECRYPT", "SIGN_VERIFY", "KEY_AGREEMENT"},
	"ML_DSA_44":             {"SIGN_VERIFY"},
	"ML_DSA_65":             {"SIGN_VERIFY"},
	"ML_DSA_87":             {"SIGN_VERIFY"},
	"ML_KEM_512":            {"ENCAPSULATE_DECAPSULATE"},
	"ML_KEM_768":            {"ENCAPSULATE_DECAPSULATE"},
	"ML_KEM_1024":           {"ENCAPSULATE_DECAPSULATE"},
}

// madeKeySpecs are the KeySpec values of AWS's that keys here are made in:
// the symmetric encryption key, core's default, and the HMAC and asymmetric
// keys AWS names as core does. An Aliyun_SM4 key, which AWS does not make,
// is made through Alibaba's API and used through either.
var madeKeySpecs = append([]string{"SYMMETRIC_DEFAULT"}, slices.DeleteFunc(core.KeySpecs(), func(spec string) bool {
	_, aws := keyUsages[spec]
	return !aws
})...)

// usages are AWS's KeyUsage values of the keys made here, and core's
// spelling of each (core.AWSKeyUsage the other way).
var usages = map[string]string{
	"ENCRYPT_DECRYPT": core.UsageEncrypt, "SIGN_VERIFY": core.UsageSign, "GENERATE_VERIFY_MAC": core.UsageMAC,
	"KEY_AGREEMENT": core.UsageKeyAgreement, "ENCAPSULATE_DECAPSULATE": core.UsageEncapsulate,
}

// keySpec checks CreateKey's KeySpec (or CustomerMasterKeySpec, its
// deprecated name) and KeyUsage as AWS does: one name of the spec at most, a
// spec and a usage of AWS's, and a usage the spec takes, given unless the
// spec is SYMMETRIC_DEFAULT; each of these is a ValidationException. A key
// AWS would make but this service does not (none, today) is refused as
// UnsupportedOperationException: the request is well formed, and the
// service lacks what it asks for.
func keySpec(in *input) error {
	spec := cmp.Or(in.KeySpec, in.CustomerMasterKeySpec, "SYMMETRIC_DEFAULT")
	usages, ok := keyUsages[spec]
	switch {
	case in.KeySpec != "" && in.CustomerMasterKeySpec != "":
		return core.Errorf(core.CodeInvalidParameter, "Give KeySpec or CustomerMasterKeySpec, not both; CustomerMasterKeySpec is the deprecated name of KeySpec.")
	case !ok:
		return invalid(cmp.Or(specName(in), "KeySpec"), "%q is not one of AWS's key specs", core.ClipText(spec))
	case in.KeyUsage == "" && spec != "SYMMETRIC_DEFAULT":
		return core.Errorf(core.CodeMissingParameter, "The parameter KeyUsage is required with the %s %s; it takes %s.", specName(in), spec, strings.Join(usages, " or "))
	case in.KeyUsage != "" && !slices.Contains(usages, in.KeyUsage):
		if !slices.Contains([]string{"ENCRYPT_DECRYPT", "SIGN_VERIFY", "GENERATE_VERIFY_MAC", "KEY_AGREEMENT", "ENCAPSULATE_DECAPSULATE"}, in.KeyUsage) {
			return invalid("KeyUsage", "%q is not one of AWS's key usages", core.ClipText(in.KeyUsage))
		}
		return core.Errorf(core.CodeInvalidParameter, "The KeyUsage %s is not compatible with the KeySpec %s, which takes %s.", in.KeyUsage, spec, strings.Join(usages, " or "))
	case !slices.Contains(madeKeySpecs, spec):
		return core.Errorf(codeUnsupportedOperation, "This service makes keys of KeySpec %s, not %s keys for %s.", strings.Join(madeKeySpecs, ", "), spec, in.KeyUsage)
	}
	if in.KeyUsage != "" && !core.Makes(core.KeyKind{Spec: spec, Usage: in.KeyUsage}) {
		return core.Errorf(codeUnsupportedOperation, "This service makes no %s keys for %s.", spec, in.KeyUsage)
	}
	return nil
}

// specName is the member the caller named the key spec by, if any.
func specName(in *input) string {
	switch {
	case in.KeySpec != "":
		return "KeySpec"
	case in.CustomerMasterKeySpec != "":
		return "CustomerMasterKeySpec"
	}
	return ""
}

func createKeyParams(h *handler, in *input) (core.Params, error) {
	if err := keySpec(in); err != nil {
		return nil, err
	}
	switch {
	case in.MultiRegion != nil && *in.MultiRegion:
		return nil, invalid("MultiRegion", "multi-Region keys are not supported")
	case in.CustomKeyStoreId != "":
		return nil, invalid("CustomKeyStoreId", "custom key stores are not supported")
	case in.XksKeyId != nil:
		return nil, invalid("XksKeyId", "external key stores are not supported")
	}
	p := core.Params{}
	if in.Description != nil {
		p["Description"] = *in.Description
	}
	policy(p, in)
	// An HMAC or asymmetric key's spec is core's name too; its usage is
	// in core's spelling.
	if spec := cmp.Or(in.KeySpec, in.CustomerMasterKeySpec); spec != "" && spec != "SYMMETRIC_DEFAULT" {
		p["KeySpec"], p["KeyUsage"] = spec, usages[in.KeyUsage]
	}
	// EXTERNAL is core's Origin for a key whose material the caller imports,
	// spelled alike in both APIs.
	switch in.Origin {
	case "", "AWS_KMS":
	case core.OriginExternal:
		p["Origin"] = core.OriginExternal
	default:
		return nil, invalid("Origin", "this service makes AWS_KMS and EXTERNAL keys only")
	}
	if in.Tags != nil {
		return p, setTags(p, in.Tags)
	}
	return p, nil
}

// cancelParams asks core to leave the key Disabled, as AWS does.
func cancelParams(h *handler, in *input) (core.Params, error) {
	p, err := h.keyParams(in)
	if err != nil {
		return nil, err
	}
	p["RestoreState"] = string(core.KeyDisabled)
	return p, nil
}

func descriptionParams(h *handler, in *input) (core.Params, error) {
	p, err := h.keyParams(in)
	if err != nil {
		return nil, err
	}
	if in.Description == nil {
		return nil, core.Errorf(core.CodeMissingParameter, "The parameter Description is required.")
	}
	p["Description"] = *in.Description
	return p, nil
}

// regionParams reads KeyId and a region member, name (ReplicateKey's
// ReplicaRegion, UpdatePrimaryRegion's PrimaryRegion), which core requires.
func regionParams(name string, region func(*input) string) func(*handler, *input) (core.Params, error) {
	return func(h *handler, in *input) (core.Params, error) {
		p, err := h.keyParams(in)
		if err != nil {
			return nil, err
		}
		p[name] = region(in)
		return p, nil
	}
}

// customKeyStoreParams reads the custom key store members core reads: its
// ID, or its name.
func customKeyStoreParams(h *handler, in *input) (core.Params, error) {
	return core.Params{"CustomKeyStoreId": in.CustomKeyStoreId, "CustomKeyStoreName": in.CustomKeyStoreName}, nil
}

// customKeyStoresParams is customKeyStoreParams with DescribeCustomKeyStores'
// Limit and Marker: this service lists no custom key store, so it made no
// marker.
func customKeyStoresParams(h *handler, in *input) (core.Params, error) {
	p, _ := customKeyStoreParams(h, in)
	return p, positionParams(p, in, 1000, 1000, func(string) bool { return false })
}

// scheduleParams keeps AWS's window, 7 to 30 days, default 30.
func scheduleParams(h *handler, in *input) (core.Params, error) {
	p, err := h.keyParams(in)
	if err != nil {
		return nil, err
	}
	days := 30
	if in.PendingWindowInDays != nil {
		days = *in.PendingWindowInDays
	}
	if days < 7 || days > 30 {
		return nil, invalid("PendingWindowInDays", "it must be from 7 to 30")
	}
	p["PendingWindowInDays"] = strconv.Itoa(days)
	return p, nil
}

func aliasParams(h *handler, in *input) (core.Params, error) {
	p := core.Params{}
	if in.AliasName == nil {
		return nil, core.Errorf(core.CodeMissingParameter, "The parameter AliasName is required.")
	}
	name, err := h.arns.ref(*in.AliasName)
	if err != nil {
		return nil, err
	}
	p["AliasName"] = name
	return p, h.ref(p, "KeyId", in.TargetKeyId)
}

// namingAliasParams are aliasParams for the operations that point an alias
// at a key. AWS reserves alias/aws/ for its managed keys and refuses it as
// NotAuthorizedException; kmsless refuses it alike, so that no caller can
// make a name AWS tools take for an AWS managed key. The rest of the naming
// rule is core's, which both protocols share; its two narrowings of AWS's
// rule are explained here in AWS's terms.
func namingAliasParams(h *handler, in *input) (core.Params, error) {
	p, err := aliasParams(h, in)
	if err != nil {
		return nil, err
	}
	name := p["AliasName"]
	switch {
	case strings.HasPrefix(name, "alias/aws/"):
		return nil, core.Errorf(codeNotAuthorized, "The alias %q begins with alias/aws/, which is reserved for AWS managed keys.", core.ClipText(name))
	case strings.HasPrefix(name, "alias/acs/"):
		return nil, invalid("AliasName", "the alias/acs/ prefix is reserved by Alibaba Cloud KMS, whose API serves the same aliases")
	case strings.ContainsRune(name, ':'):
		return nil, invalid("AliasName", "it may not contain ':', which the Alibaba Cloud KMS API serving the same aliases does not allow")
	}
	return p, nil
}

// limitOf reads AWS's Limit: 1 to most, def when absent.
func limitOf(in *input, def, most int) (int, error) {
	if in.Limit == nil {
		return def, nil
	}
	if *in.Limit < 1 || *in.Limit > most {
		return 0, invalid("Limit", "it must be from 1 to %d", most)
	}
	return *in.Limit, nil
}

// badMarker answers a Marker this service did not return.
func badMarker() error {
	return core.Errorf(codeInvalidMarker, "The Marker must be a NextMarker this service returned.")
}

// pageOf reads AWS's Limit (1 to most, default def) and Marker. The marker
// is the next page's number, as moreOf makes it; any other is refused.
func pageOf(in *input, def, most int) (size, num int, err error) {
	if size, err = limitOf(in, def, most); err != nil {
		return 0, 0, err
	}
	num = 1
	if in.Marker != nil {
		n, err := strconv.Atoi(*in.Marker)
		if err != nil || n < 2 || n > maxPage {
			return 0, 0, badMarker()
		}
		num = n
	}
	return size, num, nil
}

// maxPage bounds the page a Marker names: core pages no further, and a
// page's number times its size then fits an int of 64 bits.
const maxPage = 1 << 30

// page maps AWS's Limit and Marker onto core's pages: a Limit above core's
// largest page (100) gets pages of 100, which AWS allows ("fewer than the
// limit").
func page(p core.Params, in *input) error {
	size, num, err := pageOf(in, 100, 1000)
	if err != nil {
		return err
	}
	p["PageSize"], p["PageNumber"] = strconv.Itoa(min(size, 100)), strconv.Itoa(num)
	return nil
}

// positionParams reads a listing's Limit (def by default, 1 to most; core
// pages at most 100) and its Marker: a position that core pages after rather
// than by number, so that an item made or deleted between pages moves no
// other out of a walk. valid tells a marker this service made. Marker, which
// core does not read, stays in the parameters for the request's log and for
// the position the handler hands core (keysAfter, aliasesAfter).
func positionParams(p core.Params, in *input, def, most int, valid func(string) bool) error {
	size, err := limitOf(in, def, most)
	if err != nil {
		return err
	}
	p["PageSize"] = strconv.Itoa(min(size, 100))
	if in.Marker != nil {
		if !valid(*in.Marker) {
			return badMarker()
		}
		p["Marker"] = *in.Marker
	}
	return nil
}

// keysParams reads ListKeys' Limit and Marker, a key's position
// (core.KeyPosition.Token, paged after by Request.KeysAfter), and its
// ResourceOwners: SELF, the caller's own keys (as without it), and
// OTHER_ACCOUNTS_VIA_RAM, keys other accounts share with the caller through
// AWS RAM, of which this service, one account, has none. Asked for those
// alone, core lists nothing (SharedOnly), and no marker can come from that
// listing.
func keysParams(h *handler, in *input) (core.Params, error) {
	p := core.Params{}
	if err := positionParams(p, in, 100, 1000, func(m string) bool {
		_, ok := core.ParseKeyPosition(m)
		return ok
	}); err != nil {
		return nil, err
	}
	if in.ResourceOwners == nil {
		return p, nil
	}
	if len(in.ResourceOwners) == 0 || len(in.ResourceOwners) > 2 {
		return nil, invalid("ResourceOwners", "it must name one or two of SELF and OTHER_ACCOUNTS_VIA_RAM")
	}
	for _, o := range in.ResourceOwners {
		if o != "SELF" && o != "OTHER_ACCOUNTS_VIA_RAM" {
			return nil, invalid("ResourceOwners", "%q is not SELF or OTHER_ACCOUNTS_VIA_RAM", core.ClipText(o))
		}
	}
	if !slices.Contains(in.ResourceOwners, "SELF") {
		if in.Marker != nil {
			return nil, badMarker()
		}
		p["SharedOnly"] = "true"
	}
	return p, nil
}

// keysAfter is the position a ListKeys page starts after: its marker's,
// which keysParams checked, or the zero position, before every key.
func keysAfter(p core.Params) *core.KeyPosition {
	after, _ := core.ParseKeyPosition(p["Marker"])
	return &after
}

func keyPageParams(h *handler, in *input) (core.Params, error) {
	p, err := h.keyParams(in)
	if err != nil {
		return nil, err
	}
	return p, page(p, in)
}

// rotationsParams reads IncludeKeyMaterial: by default (ROTATIONS_ONLY) the
// key materials rotations made; ALL_KEY_MATERIAL adds the first, which the
// key was made with, and imported material pending rotation.
func rotationsParams(h *handler, in *input) (core.Params, error) {
	p, err := keyPageParams(h, in)
	if err != nil {
		return nil, err
	}
	switch in.IncludeKeyMaterial {
	case "", "ROTATIONS_ONLY":
	case "ALL_KEY_MATERIAL":
		p["AllKeyMaterial"] = "true"
	default:
		return nil, invalid("IncludeKeyMaterial", "it must be ROTATIONS_ONLY or ALL_KEY_MATERIAL")
	}
	return p, nil
}

// keyNotAlias refuses an alias name or alias ARN in the KeyId of an
// operation (op) that AWS documents as taking a key ID or key ARN there.
func keyNotAlias(p core.Params, in *input, op string) error {
	if strings.HasPrefix(p["KeyId"], "alias/") {
		return core.Errorf(core.CodeKeyNotFound, "The KeyId %q names an alias, and %s takes a key ID or key ARN there; give the key the alias names (DescribeKey tells it).", core.ClipText(*in.KeyId), op)
	}
	return nil
}

// keyIDParams reads GetKeyLastUsage's KeyId, a key ID or key ARN.
func keyIDParams(h *handler, in *input) (core.Params, error) {
	p, err := h.keyParams(in)
	if err != nil {
		return nil, err
	}
	return p, keyNotAlias(p, in, "GetKeyLastUsage")
}

// listAliasesParams reads ListAliases' KeyId, its Limit and its Marker, an
// alias's position (core.AliasPosition.Token, paged after by
// Request.AliasesAfter). AWS documents KeyId as a key ID or key ARN, not an
// alias, as local-kms reads it too: an alias name or alias ARN there names
// no key, whether or not the alias exists, which the refusal therefore
// does not tell.
func listAliasesParams(h *handler, in *input) (core.Params, error) {
	p := core.Params{}
	if err := h.ref(p, "KeyId", in.KeyId); err != nil {
		return nil, err
	}
	if err := keyNotAlias(p, in, "ListAliases"); err != nil {
		return nil, err
	}
	// AWS's bounds for ListAliases, not ListKeys': 1 to 100, 50 by default.
	return p, positionParams(p, in, 50, 100, func(m string) bool {
		_, ok := core.ParseAliasPosition(m)
		return ok
	})
}

// aliasesAfter is the position a ListAliases page starts after: its
// marker's, which listAliasesParams checked, or the zero position, before
// every alias.
func aliasesAfter(p core.Params) *core.AliasPosition {
	after, _ := core.ParseAliasPosition(p["Marker"])
	return &after
}

// context sets an encryption context member as core's JSON text.
func setContext(p core.Params, name string, ctx map[string]string) error {
	if ctx == nil {
		return nil
	}
	b, err := json.Marshal(ctx)
	if err != nil {
		return invalid(name, "it must be an object of strings")
	}
	p[name] = string(b)
	return nil
}

// cryptoCommon reads what every cryptographic operation may carry: DryRun,
// GrantTokens (grantTokens), and a Recipient, which is refused.
func cryptoCommon(p core.Params, in *input) error {
	if err := refuseRecipient(in); err != nil {
		return err
	}
	if err := grantTokens(p, in); err != nil {
		return err
	}
	if in.DryRun != nil {
		p["DryRun"] = strconv.FormatBool(*in.DryRun)
	}
	return nil
}

// grantTokens reads GrantTokens, checked for shape and each one this
// service issued, with which core reads grants from the store rather than
// from what the instance keeps of them.
func grantTokens(p core.Params, in *input) error {
	if len(in.GrantTokens) > 10 {
		return invalid("GrantTokens", "at most 10 are accepted")
	}
	for _, t := range in.GrantTokens {
		if t == "" || len(t) > 8192 {
			return invalid("GrantTokens", "each must be 1 to 8192 characters")
		}
		if err := core.CheckGrantToken(t); err != nil {
			return err
		}
	}
	if len(in.GrantTokens) > 0 {
		b, _ := json.Marshal(in.GrantTokens) // strings only
		p["GrantTokens"] = string(b)
	}
	return nil
}

// refuseRecipient refuses a Recipient, a Nitro enclave's attestation: AWS
// then returns the plaintext encrypted for the enclave alone, and none in
// Plaintext, so that the host relaying the answer never sees it. There is
// no attestation here to check, and answering in the clear would hand the
// plaintext to the very host it is kept from. Operations without the member
// (Encrypt, ReEncrypt) refuse it as well: no SDK sends it to them.
func refuseRecipient(in *input) error {
	if len(in.Recipient) > 0 {
		return invalid("Recipient", "Nitro Enclaves attestation is not supported")
	}
	return nil
}

// asymmetricAlgorithms are AWS's asymmetric EncryptionAlgorithm values,
// which core takes with the asymmetric key they need: Encrypt and Decrypt
// with one are another operation (variant), and ReEncrypt passes them on.
var asymmetricAlgorithms = []string{"RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256", "SM2PKE"}

// symmetric checks an EncryptionAlgorithm member that is not one of
// asymmetricAlgorithms: SYMMETRIC_DEFAULT or none, else not an algorithm at
// all (ValidationException).
func symmetric(name, v string) error {
	if v == "" || v == symmetricDefault {
		return nil
	}
	return invalid(name, "it must be one of SYMMETRIC_DEFAULT, RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256 and SM2PKE")
}

func encryptParams(h *handler, in *input) (core.Params, error) {
	p, err := h.keyParams(in)
	if err != nil {
		return nil, err
	}
	if err := cryptoCommon(p, in); err != nil {
		return nil, err
	}
	if err := symmetric("EncryptionAlgorithm", in.EncryptionAlgorithm); err != nil {
		return nil, err
	}
	if len(in.Plaintext) < 1 || len(in.Plaintext) > 4096 {
		return nil, invalid("Plaintext", "it must be 1 to 4096 bytes")
	}
	p["Plaintext"] = base64.StdEncoding.EncodeToString(in.Plaintext)
	return p, setContext(p, "EncryptionContext", in.EncryptionContext)
}

// blob reads CiphertextBlob and DryRunModifiers, which Decrypt and
// ReEncrypt take. Core requires the blob unless a DryRun ignores it
// (IGNORE_CIPHERTEXT), and checks the modifiers.
func blob(p core.Params, in *input) error {
	if len(in.DryRunModifiers) > 0 {
		p["DryRunModifiers"] = strings.Join(in.DryRunModifiers, ",")
	}
	b := in.CiphertextBlob
	if len(b) == 0 {
		return nil
	}
	if len(b) > 6144 {
		return invalid("CiphertextBlob", "it is longer than 6144 bytes")
	}
	p["CiphertextBlob"] = base64.StdEncoding.EncodeToString(b)
	return nil
}

func decryptParams(h *handler, in *input) (core.Params, error) {
	p := core.Params{}
	if err := h.ref(p, "KeyId", in.KeyId); err != nil {
		return nil, err
	}
	if err := cryptoCommon(p, in); err != nil {
		return nil, err
	}
	if err := symmetric("EncryptionAlgorithm", in.EncryptionAlgorithm); err != nil {
		return nil, err
	}
	if err := blob(p, in); err != nil {
		return nil, err
	}
	return p, setContext(p, "EncryptionContext", in.EncryptionContext)
}

func reEncryptParams(h *handler, in *input) (core.Params, error) {
	p := core.Params{}
	if in.DestinationKeyId == nil {
		return nil, core.Errorf(core.CodeMissingParameter, "The parameter DestinationKeyId is required.")
	}
	if err := h.ref(p, "DestinationKeyId", in.DestinationKeyId); err != nil {
		return nil, err
	}
	if err := h.ref(p, "SourceKeyId", in.SourceKeyId); err != nil {
		return nil, err
	}
	if err := cryptoCommon(p, in); err != nil {
		return nil, err
	}
	// An asymmetric algorithm on either side goes to core, which holds the
	// key it names to it.
	for _, m := range []struct{ name, v string }{
		{"SourceEncryptionAlgorithm", in.SourceEncryptionAlgorithm},
		{"DestinationEncryptionAlgorithm", in.DestinationEncryptionAlgorithm},
	} {
		if slices.Contains(asymmetricAlgorithms, m.v) {
			p[m.name] = m.v
		} else if err := symmetric(m.name, m.v); err != nil {
			return nil, err
		}
	}
	if p["SourceEncryptionAlgorithm"] != "" {
		if err := symmetricBlob("SourceEncryptionAlgorithm", in.SourceEncryptionAlgorithm, in.SourceKeyId, in.CiphertextBlob); err != nil {
			return nil, err
		}
	}
	if err := blob(p, in); err != nil {
		return nil, err
	}
	if err := setContext(p, "SourceEncryptionContext", in.SourceEncryptionContext); err != nil {
		return nil, err
	}
	return p, setContext(p, "DestinationEncryptionContext", in.DestinationEncryptionContext)
}

// dataKeyParams keeps AWS's rule: exactly one of KeySpec and NumberOfBytes
// (Alibaba lets NumberOfBytes win, and takes neither as 32 bytes).
func dataKeyParams(h *handler, in *input) (core.Params, error) {
	p, err := h.keyParams(in)
	if err != nil {
		return nil, err
	}
	if err := cryptoCommon(p, in); err != nil {
		return nil, err
	}
	switch {
	case in.KeySpec != "" && in.NumberOfBytes != nil:
		return nil, core.Errorf(core.CodeInvalidParameter, "Give either KeySpec or NumberOfBytes, not both.")
	case in.KeySpec == "" && in.NumberOfBytes == nil:
		return nil, core.Errorf(core.CodeInvalidParameter, "Give either KeySpec or NumberOfBytes.")
	case in.KeySpec != "":
		p["KeySpec"] = in.KeySpec
	default:
		p["NumberOfBytes"] = strconv.Itoa(*in.NumberOfBytes)
	}
	return p, setContext(p, "EncryptionContext", in.EncryptionContext)
}

// keyPairSpecs are AWS's DataKeyPairSpec values. One core did not make
// would be refused as UnsupportedOperationException: the request is well
// formed, and the service lacks what it asks for.
var keyPairSpecs = []string{"RSA_2048", "RSA_3072", "RSA_4096", "ECC_NIST_P256", "ECC_NIST_P384",
	"ECC_NIST_P521", "ECC_SECG_P256K1", "SM2", "ECC_NIST_EDWARDS25519", "ML_KEM_512", "ML_KEM_768", "ML_KEM_1024"}

// madeKeyPairSpecs are the specs core makes.
var madeKeyPairSpecs = core.KeyPairSpecs()

// keyPairParams reads GenerateDataKeyPair and its WithoutPlaintext twin.
// Only the specs core makes pass: madeKeyPairSpecs.
func keyPairParams(h *handler, in *input) (core.Params, error) {
	p, err := h.keyParams(in)
	if err != nil {
		return nil, err
	}
	if err := cryptoCommon(p, in); err != nil {
		return nil, err
	}
	switch spec := in.KeyPairSpec; {
	case spec == "":
		return nil, core.Errorf(core.CodeMissingParameter, "The parameter KeyPairSpec is required.")
	case !slices.Contains(keyPairSpecs, spec):
		return nil, invalid("KeyPairSpec", "%q is not one of AWS's data key pair specs", core.ClipText(spec))
	case !slices.Contains(madeKeyPairSpecs, spec):
		return nil, core.Errorf(codeUnsupportedOperation, "This service makes data key pairs of %v, not %s.", madeKeyPairSpecs, spec)
	default:
		p["KeyPairSpec"] = spec
	}
	return p, setContext(p, "EncryptionContext", in.EncryptionContext)
}

// macParams reads GenerateMac and VerifyMac (the Mac VerifyMac checks) by
// AWS's bounds: a message of 1 to 4096 bytes, a MAC of 1 to 6144 and an
// algorithm of AWS's, which core holds to the key's spec.
func macParams(h *handler, in *input) (core.Params, error) {
	p, err := h.keyParams(in)
	if err != nil {
		return nil, err
	}
	if err := cryptoCommon(p, in); err != nil {
		return nil, err
	}
	if len(in.Message) < 1 || len(in.Message) > core.MaxMacMessage {
		return nil, invalid("Message", "it must be 1 to %d bytes", core.MaxMacMessage)
	}
	if in.MacAlgorithm == "" {
		return nil, core.Errorf(core.CodeMissingParameter, "The parameter MacAlgorithm is required.")
	}
	p["Message"], p["MacAlgorithm"] = base64.StdEncoding.EncodeToString(in.Message), in.MacAlgorithm
	if in.Mac != nil {
		if len(in.Mac) < 1 || len(in.Mac) > 6144 {
			return nil, invalid("Mac", "it must be 1 to 6144 bytes")
		}
		p["Mac"] = base64.StdEncoding.EncodeToString(in.Mac)
	}
	return p, nil
}

func publicKeyParams(h *handler, in *input) (core.Params, error) {
	p, err := h.keyParams(in)
	if err != nil {
		return nil, err
	}
	return p, cryptoCommon(p, in)
}

// signParams reads Sign and Verify (with its Signature). A RAW message, of
// at most 4096 bytes, is hashed here with the algorithm's hash, as AWS
// does, but for SM2DSA, whose digest covers the key's public key: core
// hashes that message once the key is loaded. A DIGEST is the digest, of
// the size the algorithm signs. The algorithms that sign the message
// itself, pure ED25519_SHA_512 and ML_DSA_SHAKE_256, take a RAW message,
// which core signs whole; ML_DSA_SHAKE_256 also takes EXTERNAL_MU, the
// message's 64-byte representative μ made outside, which core signs as
// the algorithm's digest (and, as Go's ML-DSA verifies messages only,
// refuses to verify). ED25519_PH_SHA_512 takes a DIGEST only.
func signParams(h *handler, in *input) (core.Params, error) {
	p, err := h.keyParams(in)
	if err != nil {
		return nil, err
	}
	if err := cryptoCommon(p, in); err != nil {
		return nil, err
	}
	if len(in.Message) < 1 || len(in.Message) > 4096 {
		return nil, invalid("Message", "it must be 1 to 4096 bytes")
	}
	alg, ok := core.SigningAlgorithmOf(in.SigningAlgorithm)
	switch {
	case in.SigningAlgorithm == "":
		return nil, core.Errorf(core.CodeMissingParameter, "The parameter SigningAlgorithm is required.")
	case !ok:
		return nil, invalid("SigningAlgorithm", "%q is not one of AWS's signing algorithms", core.ClipText(in.SigningAlgorithm))
	}
	// The audit record keeps what the caller handed over: the message, which
	// is hashed here, a digest, or μ, which core's parameters alone would not
	// tell apart.
	mt := cmp.Or(in.MessageType, "RAW")
	p["MessageType"] = mt
	digest := in.Message
	switch {
	case mt == "EXTERNAL_MU" && in.SigningAlgorithm == "ML_DSA_SHAKE_256":
		if len(in.Message) != alg.DigestSize {
			return nil, invalid("Message", "with MessageType EXTERNAL_MU it must be the %d-byte representative μ of the message", alg.DigestSize)
		}
		p["Algorithm"], p["Digest"] = alg.Name, base64.StdEncoding.EncodeToString(in.Message)
		return p, signature(p, in)
	case alg.Message && mt != "RAW":
		return nil, invalid("MessageType", "%s signs the message itself: it must be RAW", in.SigningAlgorithm)
	case alg.Message, alg.KeyBound && mt == "RAW":
		p["Algorithm"], p["Message"] = alg.Name, base64.StdEncoding.EncodeToString(in.Message)
		return p, signature(p, in)
	case in.SigningAlgorithm == "ED25519_PH_SHA_512":
		if mt != "DIGEST" {
			return nil, invalid("MessageType", "ED25519_PH_SHA_512 takes the message's SHA-512 digest: it must be DIGEST")
		}
	}
	switch in.MessageType {
	case "", "RAW":
		d := alg.Hash.New()
		d.Write(in.Message)
		digest = d.Sum(nil)
	case "DIGEST":
		if len(digest) != alg.DigestSize {
			return nil, invalid("Message", "with MessageType DIGEST it must be the %d-byte digest %s takes", alg.DigestSize, in.SigningAlgorithm)
		}
	case "EXTERNAL_MU":
		return nil, core.Errorf(codeInvalidKeyUsage, "The MessageType EXTERNAL_MU is for ML-DSA keys' algorithm, not %s.", in.SigningAlgorithm)
	default:
		return nil, invalid("MessageType", "it must be RAW, DIGEST or EXTERNAL_MU")
	}
	p["Algorithm"], p["Digest"] = alg.Name, base64.StdEncoding.EncodeToString(digest)
	return p, signature(p, in)
}

// signature passes Verify's Signature to core as Value.
func signature(p core.Params, in *input) error {
	if in.Signature != nil {
		if len(in.Signature) < 1 || len(in.Signature) > 6144 {
			return invalid("Signature", "it must be 1 to 6144 bytes")
		}
		p["Value"] = base64.StdEncoding.EncodeToString(in.Signature)
	}
	return nil
}

// deriveParams reads DeriveSharedSecret: the KeyAgreementAlgorithm and the
// peer's PublicKey, a DER SubjectPublicKeyInfo, which core checks. A
// Recipient is refused, as for GenerateDataKey: the secret would be
// answered in the clear.
func deriveParams(h *handler, in *input) (core.Params, error) {
	p, err := h.keyParams(in)
	if err != nil {
		return nil, err
	}
	if err := cryptoCommon(p, in); err != nil {
		return nil, err
	}
	if in.KeyAgreementAlgorithm == "" {
		return nil, core.Errorf(core.CodeMissingParameter, "The parameter KeyAgreementAlgorithm is required.")
	}
	if in.PublicKey == nil {
		return nil, core.Errorf(core.CodeMissingParameter, "The parameter PublicKey is required.")
	}
	p["KeyAgreementAlgorithm"], p["PublicKey"] = in.KeyAgreementAlgorithm, base64.StdEncoding.EncodeToString(in.PublicKey)
	return p, nil
}

// encapsulationParams reads Encapsulate and Decapsulate (with its
// SharedSecretCiphertextBlob, which core holds to the key's size).
func encapsulationParams(h *handler, in *input) (core.Params, error) {
	p, err := h.keyParams(in)
	if err != nil {
		return nil, err
	}
	if err := cryptoCommon(p, in); err != nil {
		return nil, err
	}
	if in.EncapsulationAlgorithm == "" {
		return nil, core.Errorf(core.CodeMissingParameter, "The parameter EncapsulationAlgorithm is required.")
	}
	p["EncapsulationAlgorithm"] = in.EncapsulationAlgorithm
	if in.SharedSecretCiphertextBlob != nil {
		p["SharedSecretCiphertextBlob"] = base64.StdEncoding.EncodeToString(in.SharedSecretCiphertextBlob)
	}
	return p, nil
}

func verifyParams(h *handler, in *input) (core.Params, error) {
	if in.Signature == nil {
		return nil, core.Errorf(core.CodeMissingParameter, "The parameter Signature is required.")
	}
	return signParams(h, in)
}

// maxSM2Plaintext is AWS's bound on an SM2PKE plaintext, tighter than
// Alibaba's, which core keeps.
const maxSM2Plaintext = 1024

// asymmetricEncryptParams and asymmetricDecryptParams read Encrypt and
// Decrypt with an RSAES or SM2PKE algorithm, as AWS has them for an RSA or
// SM2 key: a KeyId, required for Decrypt too, since the ciphertext names no
// key; no EncryptionContext, which neither can bind; a Plaintext of at most
// 4096 bytes (1024 for SM2PKE), or a CiphertextBlob.
func asymmetricEncryptParams(h *handler, in *input) (core.Params, error) {
	p, err := asymmetricCommon(h, in)
	if err != nil {
		return nil, err
	}
	if len(in.Plaintext) < 1 || len(in.Plaintext) > 4096 {
		return nil, invalid("Plaintext", "it must be 1 to 4096 bytes")
	}
	if in.EncryptionAlgorithm == "SM2PKE" && len(in.Plaintext) > maxSM2Plaintext {
		return nil, invalid("Plaintext", "SM2PKE encrypts at most %d bytes", maxSM2Plaintext)
	}
	p["Plaintext"] = base64.StdEncoding.EncodeToString(in.Plaintext)
	return p, nil
}

func asymmetricDecryptParams(h *handler, in *input) (core.Params, error) {
	if err := symmetricBlob("EncryptionAlgorithm", in.EncryptionAlgorithm, in.KeyId, in.CiphertextBlob); err != nil {
		return nil, err
	}
	p, err := asymmetricCommon(h, in)
	if err != nil {
		return nil, err
	}
	return p, blob(p, in)
}

// symmetricBlob refuses an asymmetric algorithm (name, alg) for a
// ciphertext of a symmetric key given without the key: the ciphertext names
// its key, as on AWS, whose answer is then the algorithm's incompatibility
// with that key.
func symmetricBlob(name, alg string, keyID *string, blob []byte) error {
	if keyID != nil {
		return nil
	}
	if _, err := core.ParseBlob(blob); err == nil {
		return core.Errorf(codeInvalidKeyUsage, "The %s %s is not compatible with the key of this ciphertext, a symmetric key, whose one algorithm is SYMMETRIC_DEFAULT.", name, alg)
	}
	return nil
}

func asymmetricCommon(h *handler, in *input) (core.Params, error) {
	p, err := h.keyParams(in)
	if err != nil {
		return nil, err
	}
	if err := cryptoCommon(p, in); err != nil {
		return nil, err
	}
	if len(in.EncryptionContext) > 0 {
		return nil, invalid("EncryptionContext", "an asymmetric EncryptionAlgorithm takes none")
	}
	p["Algorithm"] = in.EncryptionAlgorithm
	return p, nil
}

func randomParams(h *handler, in *input) (core.Params, error) {
	if in.CustomKeyStoreId != "" {
		return nil, invalid("CustomKeyStoreId", "custom key stores are not supported")
	}
	if err := refuseRecipient(in); err != nil {
		return nil, err
	}
	p := core.Params{}
	if in.NumberOfBytes != nil {
		p["NumberOfBytes"] = strconv.Itoa(*in.NumberOfBytes)
	}
	return p, nil
}

// rotationParams keeps AWS's shortest period, 90 days (default 365), and
// core's longest interval, 730 days, where AWS allows 2560: checked here, so
// that the refusal names the member the caller sent and the range it may
// send.
func rotationParams(h *handler, in *input) (core.Params, error) {
	p, err := h.keyParams(in)
	if err != nil {
		return nil, err
	}
	if in.RotationPeriodInDays != nil {
		d := *in.RotationPeriodInDays
		if d < 90 || d > 730 {
			return nil, invalid("RotationPeriodInDays", "it must be from 90 to 730 days")
		}
		p["RotationInterval"] = strconv.Itoa(d) + "d"
	}
	return p, nil
}

func policyParams(h *handler, in *input) (core.Params, error) {
	p, err := h.keyParams(in)
	if err != nil {
		return nil, err
	}
	if in.PolicyName != nil {
		p["PolicyName"] = *in.PolicyName
	}
	policy(p, in)
	return p, nil
}

// policy passes on a key policy document and its lockout check's bypass.
func policy(p core.Params, in *input) {
	if in.Policy != nil {
		p["Policy"] = *in.Policy
	}
	if in.BypassPolicyLockoutSafetyCheck != nil {
		p["BypassPolicyLockoutSafetyCheck"] = strconv.FormatBool(*in.BypassPolicyLockoutSafetyCheck)
	}
}

// AWS's rules for tags, where they differ from Alibaba's: a key carries up
// to 50, a value is up to 256 characters of any kind, and keys that begin
// with aws: are AWS's own. A tag is checked here, as it is read; the count
// on the stored key is core's to check, by these rules (see core.TagRules).
// Alibaba's reserved prefixes are refused too: the Alibaba API serves the
// same tags, and takes those for its own.
var awsTagRules = core.TagRules{PerKey: 50, TooMany: codeTag, Checked: true}

const (
	maxTagKey   = 128
	maxTagValue = 256
)

// tagKey checks a tag key's length, as AWS's model does.
func tagKey(name, k string) error {
	if k == "" || utf8.RuneCountInString(k) > maxTagKey {
		return invalid(name, "a tag key must be 1 to %d characters", maxTagKey)
	}
	return nil
}

// setTags checks Tags by AWS's rules and sets them as core's JSON list:
// first each member's shape (ValidationException), then the rules on tags
// themselves (TagException), as AWS checks them.
func setTags(p core.Params, tags []tag) error {
	type entry struct{ TagKey, TagValue string }
	list := make([]entry, 0, len(tags))
	for _, t := range tags {
		if t.TagKey == nil || t.TagValue == nil {
			return core.Errorf(core.CodeMissingParameter, "Each of the Tags needs a TagKey and a TagValue, which may be empty.")
		}
		if err := tagKey("Tags", *t.TagKey); err != nil {
			return err
		}
		if utf8.RuneCountInString(*t.TagValue) > maxTagValue {
			return invalid("Tags", "the value of tag %q is longer than %d characters", core.ClipText(*t.TagKey), maxTagValue)
		}
		list = append(list, entry{*t.TagKey, *t.TagValue})
	}
	if len(list) > awsTagRules.PerKey {
		return core.Errorf(codeTag, "A key carries at most %d tags.", awsTagRules.PerKey)
	}
	seen := make(map[string]bool, len(list))
	for _, t := range list {
		l := strings.ToLower(t.TagKey)
		switch {
		case seen[t.TagKey]:
			return core.Errorf(codeTag, "The tag key %q appears twice.", core.ClipText(t.TagKey))
		case strings.HasPrefix(l, "aws:"):
			return core.Errorf(codeTag, "The tag key %q begins with aws:, which is reserved for AWS.", core.ClipText(t.TagKey))
		case strings.HasPrefix(l, "aliyun") || strings.HasPrefix(l, "acs:"):
			return core.Errorf(codeTag, "The tag key %q begins with a prefix (aliyun, acs:) that the Alibaba Cloud KMS API serving the same tags reserves.", core.ClipText(t.TagKey))
		}
		seen[t.TagKey] = true
	}
	b, _ := json.Marshal(list) // strings only
	p["Tags"] = string(b)
	return nil
}

func tagParams(h *handler, in *input) (core.Params, error) {
	p, err := h.keyParams(in)
	if err != nil {
		return nil, err
	}
	if in.Tags == nil {
		return nil, core.Errorf(core.CodeMissingParameter, "The parameter Tags is required.")
	}
	return p, setTags(p, in.Tags)
}

// untagParams checks only the tag keys' length: a key named aws: or by an
// Alibaba prefix may be removed, wherever it came from.
func untagParams(h *handler, in *input) (core.Params, error) {
	p, err := h.keyParams(in)
	if err != nil {
		return nil, err
	}
	if in.TagKeys == nil {
		return nil, core.Errorf(core.CodeMissingParameter, "The parameter TagKeys is required.")
	}
	for _, k := range in.TagKeys {
		if err := tagKey("TagKeys", k); err != nil {
			return nil, err
		}
	}
	b, _ := json.Marshal(in.TagKeys) // strings only
	p["TagKeys"] = string(b)
	return p, nil
}

// tagPageParams reads ListResourceTags' Limit (1 to 50, default 50) and
// Marker, for the page renderTags cuts: core answers with all of one key's
// tags, a few dozen at most. Marker, which core does not read, stays in the
// parameters as it was sent, in base64, for renderTags to resume after its
// tag key: the key itself may hold a NUL, which AWS's rules here take in a
// tag key and core refuses in any parameter.
func tagPageParams(h *handler, in *input) (core.Params, error) {
	p, err := h.keyParams(in)
	if err != nil {
		return nil, err
	}
	size, err := limitOf(in, 50, 50)
	if err != nil {
		return nil, err
	}
	p["PageSize"] = strconv.Itoa(size)
	if in.Marker != nil {
		if _, ok := parseTagMarker(*in.Marker); !ok {
			return nil, badMarker()
		}
		p["Marker"] = *in.Marker
	}
	return p, nil
}
