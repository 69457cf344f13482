package awsjson

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/kmsless/kmsless/core"
)

// epoch is a time as AWS's JSON protocol writes it: seconds since 1970.
type epoch time.Time

func (t epoch) MarshalJSON() ([]byte, error) {
	return strconv.AppendInt(nil, time.Time(t).Unix(), 10), nil
}

func epochPtr(t time.Time) *epoch {
	if t.IsZero() {
		return nil
	}
	e := epoch(t)
	return &e
}

// keyMetadata is AWS's KeyMetadata of a symmetric encryption or HMAC key.
type keyMetadata struct {
	AWSAccountId            string   `json:"AWSAccountId"`
	KeyId                   string   `json:"KeyId"`
	Arn                     string   `json:"Arn"`
	CreationDate            epoch    `json:"CreationDate"`
	Enabled                 bool     `json:"Enabled"`
	Description             string   `json:"Description"`
	KeyUsage                string   `json:"KeyUsage"`
	KeyState                string   `json:"KeyState"`
	DeletionDate            *epoch   `json:"DeletionDate,omitempty"`
	ValidTo                 *epoch   `json:"ValidTo,omitempty"`
	Origin                  string   `json:"Origin"`
	ExpirationModel         string   `json:"ExpirationModel,omitempty"`
	KeyManager              string   `json:"KeyManager"`
	CustomerMasterKeySpec   string   `json:"CustomerMasterKeySpec"`
	KeySpec                 string   `json:"KeySpec"`
	EncryptionAlgorithms    []string `json:"EncryptionAlgorithms,omitempty"`
	MacAlgorithms           []string `json:"MacAlgorithms,omitempty"`
	SigningAlgorithms       []string `json:"SigningAlgorithms,omitempty"`
	KeyAgreementAlgorithms  []string `json:"KeyAgreementAlgorithms,omitempty"`
	EncapsulationAlgorithms []string `json:"EncapsulationAlgorithms,omitempty"`
	MultiRegion             bool     `json:"MultiRegion"`
	CurrentKeyMaterialId    string   `json:"CurrentKeyMaterialId,omitempty"`
}

var keyStates = map[core.KeyState]string{
	core.KeyEnabled: "Enabled", core.KeyDisabled: "Disabled", core.KeyPendingDeletion: "PendingDeletion",
}

func (h *handler) metadata(k core.Key) keyMetadata {
	state, ok := keyStates[k.State]
	if !ok {
		state = string(k.State)
	}
	m := keyMetadata{
		AWSAccountId: core.AWSAccount(h.kms.AccountID()), KeyId: k.ID, Arn: h.arns.key(k.ID), CreationDate: epoch(k.CreatedAt),
		Enabled: k.State == core.KeyEnabled, Description: k.Description, KeyUsage: "ENCRYPT_DECRYPT", KeyState: state,
		DeletionDate: epochPtr(k.DeleteAt), Origin: "AWS_KMS", KeyManager: "CUSTOMER",
		CustomerMasterKeySpec: "SYMMETRIC_DEFAULT", KeySpec: "SYMMETRIC_DEFAULT", EncryptionAlgorithms: []string{"SYMMETRIC_DEFAULT"},
	}
	// A symmetric encryption key names its current key material, as AWS's
	// do. An EXTERNAL key's first material has its ID from the key's
	// making, imported or not, as ListKeyRotations lists it.
	m.CurrentKeyMaterialId = materialID(k.ID, k.PrimaryVersionID)
	switch k.KeySpec {
	case core.SpecAES, "":
	case core.SpecSM4:
		// A symmetric key AWS does not make: its own spec, AWS's algorithm.
		m.CustomerMasterKeySpec, m.KeySpec = k.KeySpec, k.KeySpec
	default:
		m.CurrentKeyMaterialId = ""
		m.KeyUsage, m.CustomerMasterKeySpec, m.KeySpec = core.AWSKeyUsage(k.KeyUsage), k.KeySpec, k.KeySpec
		m.EncryptionAlgorithms, m.MacAlgorithms, m.SigningAlgorithms = k.EncryptionAlgorithms(), k.MacAlgorithms(), awsSigningAlgorithms(k.SigningAlgorithms())
		m.KeyAgreementAlgorithms, m.EncapsulationAlgorithms = k.KeyAgreementAlgorithms(), k.EncapsulationAlgorithms()
	}
	if k.Origin == core.OriginExternal {
		m.Origin = "EXTERNAL"
		// AWS gives the expiration model of the material a key holds; a key
		// pending import holds none whose expiry could be told, unless the
		// material it had has expired.
		switch {
		case !k.MaterialExpireAt.IsZero():
			m.ExpirationModel, m.ValidTo = "KEY_MATERIAL_EXPIRES", epochPtr(k.MaterialExpireAt)
		case k.State != core.KeyPendingImport:
			m.ExpirationModel = "KEY_MATERIAL_DOES_NOT_EXPIRE"
		}
	}
	return m
}

// unexpected is a result an operation cannot have: a wiring mistake.
func unexpected(result any) error { return fmt.Errorf("awsjson: unexpected result %T", result) }

type empty struct{}

func renderNothing(h *handler, _ core.Params, result any) (any, error) { return empty{}, nil }

// renderCustomKeyStores lists the custom key stores: none.
func renderCustomKeyStores(h *handler, _ core.Params, result any) (any, error) {
	if _, ok := result.([]core.CustomKeyStore); !ok {
		return nil, unexpected(result)
	}
	return struct {
		CustomKeyStores []struct{}
		Truncated       bool
	}{CustomKeyStores: []struct{}{}}, nil
}

// keyOf is the key a result is about.
func keyOf(result any) (string, bool) {
	switch r := result.(type) {
	case core.Changed:
		return r.Key.ID, true
	case core.Key:
		return r.ID, true
	case core.KeyVersion:
		return r.KeyID, true
	}
	return "", false
}

func renderKeyID(h *handler, _ core.Params, result any) (any, error) {
	id, ok := keyOf(result)
	if !ok {
		return nil, unexpected(result)
	}
	return struct{ KeyId string }{h.arns.key(id)}, nil
}

// materialID is the KeyMaterialId of a key's version, or "" for none (an
// asymmetric key's blob names no version).
func materialID(keyID, versionID string) string {
	if versionID == "" {
		return ""
	}
	return core.MaterialID(keyID, versionID)
}

// renderMaterial answers ImportKeyMaterial and DeleteImportedKeyMaterial:
// the key and the material imported or deleted.
func renderMaterial(h *handler, _ core.Params, result any) (any, error) {
	c, ok := result.(core.Changed)
	if !ok {
		return nil, unexpected(result)
	}
	return struct{ KeyId, KeyMaterialId string }{h.arns.key(c.Key.ID), materialID(c.Key.ID, c.VersionID)}, nil
}

func renderMetadata(h *handler, _ core.Params, result any) (any, error) {
	k, ok := result.(core.Key)
	if !ok {
		return nil, unexpected(result)
	}
	return struct{ KeyMetadata keyMetadata }{h.metadata(k)}, nil
}

func renderScheduled(h *handler, _ core.Params, result any) (any, error) {
	c, ok := result.(core.Changed)
	if !ok {
		return nil, unexpected(result)
	}
	k := c.Key
	return struct {
		KeyId               string
		DeletionDate        epoch
		KeyState            string
		PendingWindowInDays int
	}{h.arns.key(k.ID), epoch(k.DeleteAt), "PendingDeletion", int(k.DeleteAt.Sub(h.clock.Now()).Hours()/24 + 0.5)}, nil
}

// more is the paging of a listing response: Truncated, and the marker of the
// next page when there is one.
type more struct {
	Truncated  bool
	NextMarker string `json:",omitempty"`
}

func moreOf(total, num, size int) more {
	if num*size >= total {
		return more{}
	}
	return more{Truncated: true, NextMarker: strconv.Itoa(num + 1)}
}

type keyEntry struct{ KeyId, KeyArn string }

// renderKeys lists a page of keys; when more follow, its NextMarker is the
// position of the last one listed, where the next page starts.
func renderKeys(h *handler, _ core.Params, result any) (any, error) {
	l, ok := result.(core.KeyPage)
	if !ok {
		return nil, unexpected(result)
	}
	out := struct {
		Keys []keyEntry
		more
	}{Keys: make([]keyEntry, 0, len(l.Items))}
	for _, k := range l.Items {
		out.Keys = append(out.Keys, keyEntry{k.ID, h.arns.key(k.ID)})
	}
	if l.More && len(l.Items) > 0 {
		out.more = more{Truncated: true, NextMarker: l.Items[len(l.Items)-1].Position().Token()}
	}
	return out, nil
}

type tagEntry struct{ TagKey, TagValue string }

// renderTags lists a page of a key's tags, in the order of their keys, from
// the first after the marker's: the NextMarker names the last one listed.
// The page is the one tagPageParams read into the request's parameters.
func renderTags(h *handler, p core.Params, result any) (any, error) {
	t, ok := result.(core.KeyTags)
	size, err := strconv.Atoi(p["PageSize"])
	if !ok || err != nil || size < 1 {
		return nil, unexpected(result)
	}
	names := slices.Sorted(maps.Keys(t.Tags))
	// tagPageParams checked the marker.
	place, _ := parseTagMarker(p["Marker"])
	from := place.from(names)
	to := min(from+size, len(names))
	out := struct {
		Tags []tagEntry
		more
	}{Tags: make([]tagEntry, 0, to-from)}
	for _, n := range names[from:to] {
		out.Tags = append(out.Tags, tagEntry{n, t.Tags[n]})
	}
	if to < len(names) {
		out.more = more{Truncated: true, NextMarker: tagMarker(names[to-1])}
	}
	return out, nil
}

type aliasEntry struct {
	AliasName, AliasArn, TargetKeyId string
	CreationDate                     *epoch `json:",omitempty"`
	LastUpdatedDate                  *epoch `json:",omitempty"`
}

// renderAliases lists a page of aliases; when more follow, its NextMarker is
// the position of the last one listed, where the next page starts.
func renderAliases(h *handler, _ core.Params, result any) (any, error) {
	l, ok := result.(core.AliasPage)
	if !ok {
		return nil, unexpected(result)
	}
	out := struct {
		Aliases []aliasEntry
		more
	}{Aliases: make([]aliasEntry, 0, len(l.Items))}
	for _, a := range l.Items {
		out.Aliases = append(out.Aliases, aliasEntry{a.Name, h.arns.alias(a.Name), a.KeyID, epochPtr(a.CreatedAt), epochPtr(a.UpdatedAt)})
	}
	if l.More && len(l.Items) > 0 {
		out.more = more{Truncated: true, NextMarker: l.Items[len(l.Items)-1].Position().Token()}
	}
	return out, nil
}

const symmetricDefault = "SYMMETRIC_DEFAULT"

// Blobs are []byte: encoding/json writes them as base64, as AWS's JSON
// protocol carries blobs.

// algorithm is the EncryptionAlgorithm of an Encrypt or Decrypt: the RSAES
// one asked for, or a symmetric key's.
func algorithm(p core.Params) string { return cmp.Or(p["Algorithm"], symmetricDefault) }

func renderSealed(h *handler, p core.Params, result any) (any, error) {
	s, ok := result.(core.Sealed)
	if !ok {
		return nil, unexpected(result)
	}
	return struct {
		CiphertextBlob      []byte
		KeyId               string
		EncryptionAlgorithm string
	}{s.Blob, h.arns.key(s.KeyID), algorithm(p)}, nil
}

// renderSealedDataKey answers GenerateDataKeyWithoutPlaintext: Encrypt's
// answer with the key material that sealed, which Encrypt's leaves out.
func renderSealedDataKey(h *handler, _ core.Params, result any) (any, error) {
	s, ok := result.(core.Sealed)
	if !ok {
		return nil, unexpected(result)
	}
	return struct {
		CiphertextBlob       []byte
		KeyId, KeyMaterialId string
	}{s.Blob, h.arns.key(s.KeyID), materialID(s.KeyID, s.VersionID)}, nil
}

// symmetricMaterial is the KeyMaterialId AWS answers beside an algorithm:
// a symmetric key's version, and none for an asymmetric key.
func symmetricMaterial(algorithm, keyID, versionID string) string {
	if algorithm != symmetricDefault {
		return ""
	}
	return materialID(keyID, versionID)
}

func renderResealed(h *handler, _ core.Params, result any) (any, error) {
	s, ok := result.(core.Resealed)
	if !ok {
		return nil, unexpected(result)
	}
	return struct {
		CiphertextBlob                                            []byte
		SourceKeyId, KeyId                                        string
		SourceEncryptionAlgorithm, DestinationEncryptionAlgorithm string
		SourceKeyMaterialId                                       string `json:",omitempty"`
		DestinationKeyMaterialId                                  string `json:",omitempty"`
	}{
		s.Blob, h.arns.key(s.SourceKeyID), h.arns.key(s.KeyID), s.SourceAlgorithm, s.DestinationAlgorithm,
		symmetricMaterial(s.SourceAlgorithm, s.SourceKeyID, s.SourceVersionID),
		symmetricMaterial(s.DestinationAlgorithm, s.KeyID, s.VersionID),
	}, nil
}

// The plaintexts below are encoded by the caller after render returns, so
// they are not cleared here; they live as long as the response body.

func renderDataKey(h *handler, _ core.Params, result any) (any, error) {
	d, ok := result.(core.DataKey)
	if !ok {
		return nil, unexpected(result)
	}
	return struct {
		CiphertextBlob, Plaintext []byte
		KeyId, KeyMaterialId      string
	}{d.Blob, d.Plaintext, h.arns.key(d.KeyID), materialID(d.KeyID, d.VersionID)}, nil
}

// renderDataKeyPair leaves PrivateKeyPlaintext out when core made none
// (GenerateDataKeyPairWithoutPlaintext).
func renderDataKeyPair(h *handler, _ core.Params, result any) (any, error) {
	d, ok := result.(core.DataKeyPair)
	if !ok {
		return nil, unexpected(result)
	}
	return struct {
		KeyId                    string
		KeyPairSpec              string
		PrivateKeyCiphertextBlob []byte
		PrivateKeyPlaintext      []byte `json:",omitempty"`
		PublicKey                []byte
		KeyMaterialId            string
	}{h.arns.key(d.KeyID), d.Spec, d.Blob, d.PrivateKey, d.PublicKey, materialID(d.KeyID, d.VersionID)}, nil
}

func renderMac(h *handler, _ core.Params, result any) (any, error) {
	m, ok := result.(core.Mac)
	if !ok {
		return nil, unexpected(result)
	}
	return struct {
		KeyId        string
		Mac          []byte
		MacAlgorithm string
	}{h.arns.key(m.KeyID), m.Mac, m.Algorithm}, nil
}

func renderMacVerified(h *handler, _ core.Params, result any) (any, error) {
	m, ok := result.(core.MacVerified)
	if !ok {
		return nil, unexpected(result)
	}
	return struct {
		KeyId        string
		MacValid     bool
		MacAlgorithm string
	}{h.arns.key(m.KeyID), true, m.Algorithm}, nil
}

// awsSigningAlgorithms names core's signing algorithms as AWS does.
func awsSigningAlgorithms(names []string) []string {
	var out []string
	for _, n := range names {
		out = append(out, core.AWSSigningAlgorithm(n))
	}
	return out
}

func renderPublicKey(h *handler, _ core.Params, result any) (any, error) {
	k, ok := result.(core.PublicKey)
	if !ok {
		return nil, unexpected(result)
	}
	out := struct {
		KeyId                   string
		PublicKey               []byte
		CustomerMasterKeySpec   string
		KeySpec                 string
		KeyUsage                string
		SigningAlgorithms       []string `json:",omitempty"`
		EncryptionAlgorithms    []string `json:",omitempty"`
		KeyAgreementAlgorithms  []string `json:",omitempty"`
		EncapsulationAlgorithms []string `json:",omitempty"`
	}{KeyId: h.arns.key(k.KeyID), PublicKey: k.DER, CustomerMasterKeySpec: k.KeySpec, KeySpec: k.KeySpec, KeyUsage: core.AWSKeyUsage(k.KeyUsage)}
	switch k.KeyUsage {
	case core.UsageSign:
		out.SigningAlgorithms = awsSigningAlgorithms(k.Algorithms)
	case core.UsageKeyAgreement:
		out.KeyAgreementAlgorithms = k.Algorithms // ECDH in both APIs
	case core.UsageEncapsulate:
		out.EncapsulationAlgorithms = k.Algorithms // ML_KEM in both APIs
	default:
		out.EncryptionAlgorithms = k.Algorithms // RSAES_OAEP_SHA_1 and _256 in both APIs
	}
	return out, nil
}

func renderEncapsulated(h *handler, _ core.Params, result any) (any, error) {
	e, ok := result.(core.Encapsulated)
	if !ok {
		return nil, unexpected(result)
	}
	return struct {
		KeyId                      string
		SharedSecret               []byte
		SharedSecretCiphertextBlob []byte
		EncapsulationAlgorithm     string
	}{h.arns.key(e.KeyID), e.Secret, e.Ciphertext, e.Algorithm}, nil
}

func renderDecapsulated(h *handler, _ core.Params, result any) (any, error) {
	d, ok := result.(core.Decapsulated)
	if !ok {
		return nil, unexpected(result)
	}
	return struct {
		KeyId                  string
		SharedSecret           []byte
		EncapsulationAlgorithm string
	}{h.arns.key(d.KeyID), d.Secret, d.Algorithm}, nil
}

func renderSharedSecret(h *handler, _ core.Params, result any) (any, error) {
	s, ok := result.(core.SharedSecret)
	if !ok {
		return nil, unexpected(result)
	}
	return struct {
		KeyId                 string
		SharedSecret          []byte
		KeyAgreementAlgorithm string
		KeyOrigin             string
	}{h.arns.key(s.KeyID), s.Secret, s.Algorithm, "AWS_KMS"}, nil
}

func renderSignature(h *handler, _ core.Params, result any) (any, error) {
	s, ok := result.(core.Signature)
	if !ok {
		return nil, unexpected(result)
	}
	return struct {
		KeyId            string
		Signature        []byte
		SigningAlgorithm string
	}{h.arns.key(s.KeyID), s.Value, core.AWSSigningAlgorithm(s.Algorithm)}, nil
}

// renderSignatureChecked answers a valid signature; AWS answers an invalid
// one with KMSInvalidSignatureException, where Alibaba says false.
func renderSignatureChecked(h *handler, _ core.Params, result any) (any, error) {
	s, ok := result.(core.SignatureChecked)
	if !ok {
		return nil, unexpected(result)
	}
	if !s.Valid {
		return nil, core.Errorf(codeInvalidSignature, "The Signature is not a signature of this message under this key and SigningAlgorithm.")
	}
	return struct {
		KeyId            string
		SignatureValid   bool
		SigningAlgorithm string
	}{h.arns.key(s.KeyID), true, core.AWSSigningAlgorithm(s.Algorithm)}, nil
}

func renderOpened(h *handler, p core.Params, result any) (any, error) {
	o, ok := result.(core.Opened)
	if !ok {
		return nil, unexpected(result)
	}
	alg := algorithm(p)
	return struct {
		KeyId               string
		Plaintext           []byte
		EncryptionAlgorithm string
		KeyMaterialId       string `json:",omitempty"`
	}{h.arns.key(o.KeyID), o.Plaintext, alg, symmetricMaterial(alg, o.KeyID, o.VersionID)}, nil
}

func renderRandom(h *handler, _ core.Params, result any) (any, error) {
	r, ok := result.(core.Random)
	if !ok {
		return nil, unexpected(result)
	}
	return struct{ Plaintext []byte }{r.Bytes}, nil
}

func renderRotationStatus(h *handler, _ core.Params, result any) (any, error) {
	k, ok := result.(core.Key)
	if !ok {
		return nil, unexpected(result)
	}
	out := struct {
		KeyRotationEnabled   bool
		KeyId                string
		RotationPeriodInDays int    `json:",omitempty"`
		NextRotationDate     *epoch `json:",omitempty"`
	}{KeyRotationEnabled: k.AutomaticRotation, KeyId: h.arns.key(k.ID)}
	if k.AutomaticRotation {
		out.RotationPeriodInDays = int(k.RotationInterval / (24 * time.Hour))
		out.NextRotationDate = epochPtr(k.NextRotation())
	}
	return out, nil
}

// renderKeyLastUsage answers GetKeyLastUsage. KeyLastUsage is left out
// for a key with no use kept; CloudTrailEventId always is, as there is no
// CloudTrail: KmsRequestId finds the use in the audit trail, whose records
// go by request ID. A use through an action of Alibaba's alone is named as
// Alibaba names it (ExportDataKey).
func renderKeyLastUsage(_ *handler, _ core.Params, result any) (any, error) {
	r, ok := result.(core.KeyLastUsage)
	if !ok {
		return nil, unexpected(result)
	}
	type lastUsage struct {
		Operation    string
		Timestamp    epoch
		KmsRequestId string
	}
	out := struct {
		KeyId             string
		KeyLastUsage      *lastUsage `json:",omitempty"`
		TrackingStartDate epoch
		KeyCreationDate   epoch
	}{KeyId: r.KeyID, TrackingStartDate: epoch(r.TrackingStart), KeyCreationDate: epoch(r.KeyCreated)}
	if u := r.Usage; !u.At.IsZero() {
		out.KeyLastUsage = &lastUsage{Operation: cmp.Or(operationOf[u.Action], u.Action), Timestamp: epoch(u.At), KmsRequestId: u.RequestID}
	}
	return out, nil
}

// rotation is a RotationsListEntry: a key material, named by its
// version's MaterialID. The first key material carries neither RotationDate
// nor RotationType, as on AWS; nor does a version written before versions
// recorded their rotation type, since a guess would mislead the tools that
// count on-demand rotations against AWS's quota; nor does material pending
// rotation. ImportState, ExpirationModel, ValidTo and
// KeyMaterialDescription are an EXTERNAL key's alone.
type rotation struct {
	KeyId                  string
	KeyMaterialId          string
	KeyMaterialDescription string `json:",omitempty"`
	KeyMaterialState       string
	ImportState            string `json:",omitempty"`
	ExpirationModel        string `json:",omitempty"`
	ValidTo                *epoch `json:",omitempty"`
	RotationDate           *epoch `json:",omitempty"`
	RotationType           string `json:",omitempty"`
}

// rotationTypes spells core's rotation types as AWS's RotationType does.
var rotationTypes = map[core.RotationType]string{
	core.RotationAutomatic: "AUTOMATIC",
	core.RotationOnDemand:  "ON_DEMAND",
}

// renderRotations lists the key materials rotations made and, when asked
// for, the first.
func renderRotations(h *handler, _ core.Params, result any) (any, error) {
	l, ok := result.(core.Listing[core.Rotation])
	if !ok {
		return nil, unexpected(result)
	}
	out := struct {
		Rotations []rotation
		more
	}{Rotations: make([]rotation, 0, len(l.Items)), more: moreOf(l.Total, l.PageNumber, l.PageSize)}
	for _, v := range l.Items {
		r := rotation{KeyId: h.arns.key(v.KeyID), KeyMaterialId: materialID(v.KeyID, v.VersionID), KeyMaterialDescription: v.MaterialDescription, KeyMaterialState: "NON_CURRENT"}
		pending := v.RotationType == core.RotationPending
		switch {
		case v.Current:
			r.KeyMaterialState = "CURRENT"
		case pending:
			r.KeyMaterialState = "PENDING_ROTATION"
		}
		switch {
		case !v.External:
		case !v.Imported:
			r.ImportState = "PENDING_IMPORT"
		case v.ExpireAt.IsZero():
			r.ImportState, r.ExpirationModel = "IMPORTED", "KEY_MATERIAL_DOES_NOT_EXPIRE"
		default:
			r.ImportState, r.ExpirationModel, r.ValidTo = "IMPORTED", "KEY_MATERIAL_EXPIRES", epochPtr(v.ExpireAt)
		}
		if !v.First && !pending {
			r.RotationDate = epochPtr(v.CreatedAt)
			r.RotationType = rotationTypes[v.RotationType]
		}
		out.Rotations = append(out.Rotations, r)
	}
	return out, nil
}

// DefaultKeyPolicy is a key's one policy in AWS's language: every KMS action
// to the account, which the principals' own policies then narrow, as AWS's
// default key policy defers to IAM.
func DefaultKeyPolicy(account string) string {
	return `{"Version":"2012-10-17","Id":"key-default-1","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` +
		account + `:root"},"Action":"kms:*","Resource":"*"}]}`
}

func renderPolicy(h *handler, _ core.Params, result any) (any, error) {
	p, ok := result.(core.KeyPolicy)
	if !ok {
		return nil, unexpected(result)
	}
	doc := p.Document
	if doc == "" {
		doc = DefaultKeyPolicy(core.AWSAccount(h.kms.AccountID()))
	}
	return struct{ Policy, PolicyName string }{doc, p.Name}, nil
}

func renderPolicyNames(h *handler, _ core.Params, result any) (any, error) {
	l, ok := result.(core.Listing[core.KeyPolicy])
	if !ok {
		return nil, unexpected(result)
	}
	out := struct {
		PolicyNames []string
		Truncated   bool
	}{PolicyNames: make([]string, 0, len(l.Items))}
	for _, p := range l.Items {
		out.PolicyNames = append(out.PolicyNames, p.Name)
	}
	return out, nil
}
