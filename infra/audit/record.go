package audit

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kmsless/kmsless/core"
)

// Record is one request as the trail keeps it. Field names follow CloudTrail's
// KMS records; the chain fields come last, HMAC last of all.
type Record struct {
	EventVersion      string            `json:"eventVersion"`
	EventTime         string            `json:"eventTime"`
	EventSource       string            `json:"eventSource"`
	EventName         string            `json:"eventName"`
	RequestID         string            `json:"requestId"`
	Entry             string            `json:"entry,omitempty"`
	MessageID         string            `json:"messageId,omitempty"`
	UserIdentity      Identity          `json:"userIdentity"`
	SourceIPAddress   string            `json:"sourceIPAddress,omitempty"`
	UserAgent         string            `json:"userAgent,omitempty"`
	RequestParameters map[string]any    `json:"requestParameters,omitempty"`
	ResponseElements  map[string]string `json:"responseElements,omitempty"`
	// AdditionalEventData holds grantId, the grant that allowed the
	// request when the caller's policy did not, as CloudTrail records it,
	// a destruction's deletionDate, and what a principal's change changed.
	AdditionalEventData map[string]string `json:"additionalEventData,omitempty"`
	Resources           []Resource        `json:"resources,omitempty"`
	ReadOnly            bool              `json:"readOnly"`
	ErrorCode           string            `json:"errorCode,omitempty"`
	ErrorMessage        string            `json:"errorMessage,omitempty"`
	// Chain fields, which the Log that writes the record appends: they are
	// read back, never encoded from here.
	InstanceID string `json:"instanceId,omitempty"`
	Sequence   uint64 `json:"sequence,omitempty"`
	Prev       string `json:"prev,omitempty"`
	HMAC       string `json:"hmac,omitempty"`
}

// Identity is who called: the principal's name and its AccessKeyId (never its
// secret), as far as the request got before it was refused.
type Identity struct {
	Principal   string `json:"principal,omitempty"`
	AccessKeyID string `json:"accessKeyId,omitempty"`
}

// Resource is a resource the request named or touched.
type Resource struct {
	ARN  string `json:"ARN"`
	Type string `json:"type"`
}

// ARNs names resources; *core.Service is one.
type ARNs interface {
	KeyARN(id string) string
	AliasARN(name string) string
	PartitionARN(id string) string
	SecretARN(name string) string
	CertificateARN(id string) string
}

// Request is what the edge knows of a finished request.
type Request struct {
	Time        time.Time
	ID          string
	Entry       string
	MessageID   string
	Action      string
	Principal   string
	AccessKeyID string
	SourceIP    string
	UserAgent   string
	// Params are the action's input with Alibaba names; only the fields of
	// the allow-list below are kept.
	Params core.Params
	// Result is core's typed result when the request succeeded.
	Result any
	// Err is the error the caller got, nil on success.
	Err *core.Error
	// GrantID names the grant that allowed the request, when one did.
	GrantID string
}

// kept is the allow-list of parameters a record keeps, with their record
// names. Plaintext, CiphertextBlob and anything else are never kept.
var kept = map[string]string{
	"KeyId": "keyId", "KeySpec": "keySpec", "NumberOfBytes": "numberOfBytes", "DryRun": "dryRun", "DryRunModifiers": "dryRunModifiers",
	"EncryptionContext": "encryptionContext", "SourceEncryptionContext": "sourceEncryptionContext",
	"DestinationEncryptionContext": "destinationEncryptionContext", "DestinationKeyId": "destinationKeyId",
	"SourceKeyId": "sourceKeyId", "SourceKeyVersionId": "sourceKeyVersionId",
	"SourceEncryptionAlgorithm": "sourceEncryptionAlgorithm", "DestinationEncryptionAlgorithm": "destinationEncryptionAlgorithm",
	"AliasName": "aliasName", "TargetKeyId": "targetKeyId", "KeyVersionId": "keyVersionId",
	"PartitionId": "partitionId", "KeyUsage": "keyUsage", "Origin": "origin", "ProtectionLevel": "protectionLevel",
	"PendingWindowInDays": "pendingWindowInDays", "EnableAutomaticRotation": "enableAutomaticRotation",
	"RotationInterval": "rotationInterval", "PageNumber": "pageNumber", "PageSize": "pageSize",
	"WrappingAlgorithm": "wrappingAlgorithm", "WrappingKeySpec": "wrappingKeySpec",
	"Description": "description", "RestoreState": "restoreState", "ResourceType": "resourceType",
	"EnableDeletionProtection": "enableDeletionProtection", "DeletionProtectionDescription": "deletionProtectionDescription",
	"ProtectedResourceArn": "protectedResourceArn", "KeyMaterialExpireUnix": "keyMaterialExpireUnix",
	"ImportType": "importType", "KeyMaterialId": "keyMaterialId", "KeyMaterialDescription": "keyMaterialDescription",
	"Tags": "tags", "TagKeys": "tagKeys", "All": "all", "Filters": "filters",
	"KeyPairSpec": "keyPairSpec", "MacAlgorithm": "macAlgorithm", "Algorithm": "algorithm",
	"KeyAgreementAlgorithm": "keyAgreementAlgorithm", "EncapsulationAlgorithm": "encapsulationAlgorithm",
	"SecretName": "secretName", "VersionId": "versionId", "VersionStage": "versionStage",
	"VersionStages": "versionStages", "SecretDataType": "secretDataType", "SecretType": "secretType",
	"EncryptionKeyId": "encryptionKeyId", "RemoveFromVersion": "removeFromVersion", "MoveToVersion": "moveToVersion",
	"RecoveryWindowInDays": "recoveryWindowInDays", "ForceDeleteWithoutRecovery": "forceDeleteWithoutRecovery",
	"IncludeDeprecated": "includeDeprecated", "FetchTags": "fetchTags", "PasswordLength": "passwordLength",
	"GranteePrincipal": "granteePrincipal", "RetiringPrincipal": "retiringPrincipal", "Operations": "operations",
	"EncryptionContextEquals": "encryptionContextEquals", "EncryptionContextSubset": "encryptionContextSubset",
	"Name": "name", "GrantId": "grantId",
	"PolicyName": "policyName", "Policy": "policy", "BypassPolicyLockoutSafetyCheck": "bypassPolicyLockoutSafetyCheck",
	"CertificateId": "certificateId", "Subject": "subject", "SubjectAlternativeNames": "subjectAlternativeNames",
	"ExportablePrivateKey": "exportablePrivateKey", "Status": "status", "MessageType": "messageType",
	"Type": "type", "SourcePrivateIp": "sourcePrivateIp", "Permissions": "permissions", "Resources": "resources",
	"KmsInstance": "kmsInstance", "AccessControlRules": "accessControlRules", "Policies": "policies",
	"AuthenticationMethod": "authenticationMethod", "AapName": "aapName", "ClientKeyId": "clientKeyId",
	"NotBefore": "notBefore", "NotAfter": "notAfter",
	"KmsInstanceId": "kmsInstanceId", "CustomKeyStoreId": "customKeyStoreId", "CustomKeyStoreName": "customKeyStoreName",
	"ReplicaRegion": "replicaRegion", "PrimaryRegion": "primaryRegion",
	"SharedOnly": "sharedOnly", "GranteeServicePrincipal": "granteeServicePrincipal", "ClientToken": "clientToken",
	"AllKeyMaterial": "allKeyMaterial", "FetchExtendedConfig": "fetchExtendedConfig",
}

// maxValue bounds a kept parameter (other than a context) so that a caller
// cannot flood the trail; a longer value is cut and marked.
const maxValue = 256

// readWrite lists the actions that change state; CloudTrail marks every other
// KMS action (Decrypt included) read-only. Every action core answers is in it
// or in readOnly, as a test checks, so that a new action is placed on purpose.
var readWrite = map[string]bool{
	"CreateKey": true, "EnableKey": true, "DisableKey": true, "ScheduleKeyDeletion": true,
	"CancelKeyDeletion": true, "UpdateKeyDescription": true, "UpdateRotationPolicy": true,
	"EnableKeyRotation": true, "DisableKeyRotation": true, "CreateKeyVersion": true,
	"RotateKeyOnDemand": true, "CreateAlias": true, "UpdateAlias": true, "DeleteAlias": true,
	"TagResource": true, "TagResources": true, "UntagResource": true, "UntagResources": true,
	"SetDeletionProtection": true, "ImportKeyMaterial": true, "DeleteKeyMaterial": true,
	"CreateSecret": true, "PutSecretValue": true, "UpdateSecret": true, "DeleteSecret": true,
	"RestoreSecret": true, "UpdateSecretVersionStage": true, "SetSecretPolicy": true,
	"CreateGrant": true, "RetireGrant": true, "RevokeGrant": true, "SetKeyPolicy": true,
	"CreateCertificate": true, "UploadCertificate": true, "UpdateCertificateStatus": true, "DeleteCertificate": true,
	"CreateNetworkRule": true, "UpdateNetworkRule": true, "DeleteNetworkRule": true,
	"CreatePolicy": true, "UpdatePolicy": true, "DeletePolicy": true,
	"CreateApplicationAccessPoint": true, "UpdateApplicationAccessPoint": true, "DeleteApplicationAccessPoint": true,
	"CreateClientKey": true, "DeleteClientKey": true,
	"RotateSecret": true, "UpdateSecretRotationPolicy": true, "ConnectKmsInstance": true, "UpdateKmsInstanceBindVpc": true,
	"CreateCustomKeyStore": true, "ConnectCustomKeyStore": true, "DisconnectCustomKeyStore": true,
	"UpdateCustomKeyStore": true, "DeleteCustomKeyStore": true, "ReplicateKey": true, "UpdatePrimaryRegion": true,
	ProvisionPartition: true, DeleteKey: true,
	CreatePrincipal: true, DeletePrincipal: true, UpdatePrincipal: true,
}

// readOnly lists the actions that change nothing stored.
var readOnly = map[string]bool{
	"DescribeKey": true, "ListKeys": true, "ListKeyVersions": true, "DescribeKeyVersion": true,
	"ListAliases": true, "ListAliasesByKeyId": true, "DescribeRegions": true,
	"DescribeAccountKmsStatus": true, "OpenKmsService": true,
	"GetKeyRotationStatus": true, "ListKeyRotations": true, "GetKeyPolicy": true, "GetKeyLastUsage": true,
	"ListKeyPolicies": true, "ListResourceTags": true, "ListTagResources": true,
	"GenerateRandom": true, "GetParametersForImport": true, "GetPartitionDataKey": true,
	"Encrypt": true, "Decrypt": true, "ReEncrypt": true, "GenerateDataKey": true,
	"GenerateDataKeyWithoutPlaintext": true, "ExportDataKey": true,
	"GenerateAndExportDataKey": true, "GenerateDataKeyPair": true,
	"GenerateDataKeyPairWithoutPlaintext": true, "GenerateMac": true, "VerifyMac": true,
	"GetPublicKey": true, "AsymmetricSign": true, "AsymmetricVerify": true, "AsymmetricEncrypt": true,
	"AsymmetricDecrypt": true, "DeriveSharedSecret": true, "Encapsulate": true, "Decapsulate": true,
	"GetSecretValue": true, "DescribeSecret": true, "ListSecrets": true, "ListSecretVersionIds": true,
	"GetSecretPolicy": true, "GetRandomPassword": true, "ListGrants": true, "ListRetirableGrants": true,
	"GetCertificate": true, "DescribeCertificate": true, "CertificatePrivateKeySign": true,
	"CertificatePublicKeyVerify": true, "CertificatePublicKeyEncrypt": true, "CertificatePrivateKeyDecrypt": true,
	"DescribeNetworkRule": true, "ListNetworkRules": true, "DescribePolicy": true, "ListPolicies": true,
	"DescribeApplicationAccessPoint": true, "ListApplicationAccessPoints": true, "GetClientKey": true, "ListClientKeys": true,
	"ListKmsInstances": true, "GetKmsInstance": true, "DescribeCustomKeyStores": true,
}

// metadataOnly lists the actions that neither use nor change a key: they
// read metadata.
var metadataOnly = map[string]bool{
	"DescribeKey": true, "ListKeys": true, "ListKeyVersions": true, "DescribeKeyVersion": true,
	"ListAliases": true, "ListAliasesByKeyId": true,
	"DescribeSecret": true, "ListSecrets": true, "ListSecretVersionIds": true,
	"ListGrants": true, "ListRetirableGrants": true,
	"DescribeNetworkRule": true, "ListNetworkRules": true, "DescribePolicy": true, "ListPolicies": true,
	"DescribeApplicationAccessPoint": true, "ListApplicationAccessPoints": true, "GetClientKey": true, "ListClientKeys": true,
	"ListKmsInstances": true, "GetKmsInstance": true, "DescribeCustomKeyStores": true,
}

// ProvisionPartition is the eventName of a partition handled from an event.
const ProvisionPartition = "ProvisionPartition"

// DeleteKey is the eventName of a key destroyed past its deletion date, as
// CloudTrail names AWS KMS's own deletion of a key at the end of its waiting
// period; a secret's is DeleteSecret.
const DeleteKey = "DeleteKey"

// Destruction is the record of a key or secret core destroyed past its
// deletion date (core.Destruction), under request ID id at time at. The
// service itself did it: the principal is "kmsless", the entry "purge", and
// additionalEventData.deletionDate says when it was due.
func Destruction(d core.Destruction, id string, at time.Time, arns ARNs) Record {
	r := Request{Time: at, ID: id, Entry: "purge", Principal: "kmsless", Action: DeleteKey, Params: core.Params{"KeyId": d.ID}}
	if d.Kind == core.DestroyedSecret {
		r.Action, r.Params = "DeleteSecret", core.Params{"SecretName": d.ID}
	}
	rec := Build(r, arns)
	rec.AdditionalEventData = map[string]string{"deletionDate": d.DeleteAt.UTC().Format(time.RFC3339)}
	return rec
}

// The records of a principal the principals file added, removed or
// changed, as IAM's CreateUser, DeleteUser and its updates are CloudTrail's.
const (
	CreatePrincipal = "CreatePrincipal"
	DeletePrincipal = "DeletePrincipal"
	UpdatePrincipal = "UpdatePrincipal"
)

// PrincipalChange is the record of a principal that a server following its
// principals file found added, removed or changed (core.PrincipalChange),
// under request ID id at time at. The service itself did it: the principal
// is "kmsless", the entry "principals-file"; requestParameters name the
// principal and its AccessKeyId, and for a change additionalEventData.changed
// says what changed, never to what.
func PrincipalChange(c core.PrincipalChange, id string, at time.Time, arns ARNs) Record {
	r := Request{Time: at, ID: id, Entry: "principals-file", Principal: "kmsless", Action: UpdatePrincipal}
	switch {
	case c.Added:
		r.Action = CreatePrincipal
	case c.Removed:
		r.Action = DeletePrincipal
	}
	rec := Build(r, arns)
	rec.RequestParameters = map[string]any{"principalName": bounded(c.Name), "accessKeyId": bounded(c.AccessKeyID)}
	if len(c.Changed) > 0 {
		rec.AdditionalEventData = map[string]string{"changed": strings.Join(c.Changed, ",")}
	}
	return rec
}

// MustRecord reports whether a request that succeeded must fail rather than
// go unrecorded: it used a key (to seal, open or hand out a key's ciphertext)
// or changed one. A refusal changed nothing and a metadata read used nothing,
// so they are answered even when their record is lost.
func MustRecord(action string, failed bool) bool {
	return !failed && !metadataOnly[action]
}

// Build makes the record of r; the chain fields are left to the Log.
func Build(r Request, arns ARNs) Record {
	rec := Record{
		EventVersion: "1.0", EventTime: r.Time.UTC().Format(time.RFC3339Nano), EventSource: "kms",
		EventName: bounded(r.Action), RequestID: r.ID, Entry: r.Entry, MessageID: bounded(r.MessageID),
		UserIdentity:    Identity{Principal: bounded(r.Principal), AccessKeyID: bounded(r.AccessKeyID)},
		SourceIPAddress: r.SourceIP, UserAgent: bounded(r.UserAgent),
		ReadOnly: !readWrite[r.Action],
	}
	if rec.EventName == "" {
		rec.EventName = "Unknown"
	}
	rec.RequestParameters = parameters(r.Params)
	rec.ResponseElements = responseElements(r.Result)
	if r.GrantID != "" {
		rec.AdditionalEventData = map[string]string{"grantId": bounded(r.GrantID)}
	}
	rec.Resources = resources(r.Params, rec.ResponseElements, arns)
	if r.Err != nil {
		rec.ErrorCode, rec.ErrorMessage = r.Err.Code, r.Err.Message
	}
	return rec
}

func parameters(p core.Params) map[string]any {
	var out map[string]any
	repeated := false
	for name, v := range p {
		field, ok := kept[name]
		if !ok || v == "" {
			repeated = repeated || strings.HasPrefix(name, "Tag")
			continue
		}
		if out == nil {
			out = make(map[string]any, 4)
		}
		out[field] = paramValue(name, v)
	}
	if repeated {
		out = repeatedTags(p, out)
	}
	return out
}

// repeatedTags keeps TagResources' Tag.N.Key and Tag.N.Value and
// UntagResources' TagKey.N as the tags and tagKeys that TagResource and
// UntagResource give as JSON, so that one reader reads both; at most
// core.MaxIndexed of each, as core takes no more.
func repeatedTags(p core.Params, out map[string]any) map[string]any {
	set := func(field string, v any) {
		if out == nil {
			out = make(map[string]any, 4)
		}
		b, _ := json.Marshal(v)
		out[field] = json.RawMessage(b)
	}
	if keys, _ := p.Indexed("Tag", ".Key"); len(keys) > 0 {
		type tag struct{ TagKey, TagValue string }
		tags := make([]tag, len(keys))
		for i, k := range keys {
			tags[i] = tag{bounded(k), bounded(p["Tag."+strconv.Itoa(i+1)+".Value"])}
		}
		set("tags", tags)
	}
	if keys, _ := p.Indexed("TagKey", ""); len(keys) > 0 {
		for i, k := range keys {
			keys[i] = bounded(k)
		}
		set("tagKeys", keys)
	}
	return out
}

func paramValue(name, v string) any {
	switch name {
	case "EncryptionContext", "SourceEncryptionContext", "DestinationEncryptionContext",
		"EncryptionContextEquals", "EncryptionContextSubset", "AccessControlRules":
		// Kept as given, an object: encoding compacts it onto the line. No
		// decoding into a map and back: that was half a record's cost.
		return compactJSON(v, '{', "(not a JSON object)")
	case "Tags", "TagKeys", "Filters", "Operations", "SourcePrivateIp", "Permissions", "Resources", "Policies":
		return compactJSON(v, '[', "(not a JSON list)")
	case "SubjectAlternativeNames":
		// A list, or the object the Go SDK sends for one.
		if strings.HasPrefix(strings.TrimSpace(v), "{") {
			return compactJSON(v, '{', "(not JSON)")
		}
		return compactJSON(v, '[', "(not a JSON list)")
	case "DryRun", "EnableAutomaticRotation", "EnableDeletionProtection", "All", "ForceDeleteWithoutRecovery",
		"IncludeDeprecated", "FetchTags", "BypassPolicyLockoutSafetyCheck", "ExportablePrivateKey",
		"SharedOnly", "AllKeyMaterial", "FetchExtendedConfig":
		if b, err := strconv.ParseBool(v); err == nil {
			return b
		}
	case "NumberOfBytes", "PendingWindowInDays", "PageNumber", "PageSize", "KeyMaterialExpireUnix",
		"RecoveryWindowInDays", "PasswordLength":
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
	}
	return bounded(v)
}

// compactJSON is v, JSON text that opens with open, compacted onto the
// line; or else, when it is not such JSON, the note instead.
func compactJSON(v string, open byte, note string) any {
	var buf bytes.Buffer
	if t := strings.TrimSpace(v); strings.HasPrefix(t, string(open)) && len(t) <= core.MaxParamLen && json.Compact(&buf, []byte(t)) == nil {
		return json.RawMessage(buf.Bytes())
	}
	return note
}

func bounded(s string) string {
	if len(s) > maxValue {
		return strings.ToValidUTF8(s[:maxValue], "") + "…"
	}
	return s
}

func responseElements(result any) map[string]string {
	set := func(pairs ...string) map[string]string {
		m := make(map[string]string, len(pairs)/2)
		for i := 0; i < len(pairs); i += 2 {
			if pairs[i+1] != "" {
				m[pairs[i]] = pairs[i+1]
			}
		}
		return m
	}
	switch r := result.(type) {
	case core.Sealed:
		return set("keyId", r.KeyID, "keyVersionId", r.VersionID)
	case *core.Sealed:
		return set("keyId", r.KeyID, "keyVersionId", r.VersionID)
	case core.DataKey:
		return set("keyId", r.KeyID, "keyVersionId", r.VersionID)
	case *core.DataKey:
		return set("keyId", r.KeyID, "keyVersionId", r.VersionID)
	case core.Opened:
		return set("keyId", r.KeyID, "keyVersionId", r.VersionID)
	case *core.Opened:
		return set("keyId", r.KeyID, "keyVersionId", r.VersionID)
	case core.Resealed:
		return set("keyId", r.KeyID, "keyVersionId", r.VersionID, "sourceKeyId", r.SourceKeyID, "sourceKeyVersionId", r.SourceVersionID)
	case core.Exported:
		return set("keyId", r.KeyID, "keyVersionId", r.VersionID)
	case core.SealedAndExported:
		return set("keyId", r.KeyID, "keyVersionId", r.VersionID)
	case core.DataKeyPair:
		return set("keyId", r.KeyID, "keyVersionId", r.VersionID)
	case core.Mac:
		return set("keyId", r.KeyID, "keyVersionId", r.VersionID)
	case core.MacVerified:
		return set("keyId", r.KeyID, "keyVersionId", r.VersionID)
	case core.PublicKey:
		return set("keyId", r.KeyID, "keyVersionId", r.VersionID)
	case core.Signature:
		return set("keyId", r.KeyID, "keyVersionId", r.VersionID)
	case core.SignatureChecked:
		return set("keyId", r.KeyID, "keyVersionId", r.VersionID)
	case core.SharedSecret:
		return set("keyId", r.KeyID, "keyVersionId", r.VersionID)
	case core.Encapsulated:
		return set("keyId", r.KeyID, "keyVersionId", r.VersionID)
	case core.Decapsulated:
		return set("keyId", r.KeyID, "keyVersionId", r.VersionID)
	case core.Key:
		return set("keyId", r.ID, "keyVersionId", r.PrimaryVersionID, "keyState", string(r.State))
	case *core.Key:
		return set("keyId", r.ID, "keyVersionId", r.PrimaryVersionID, "keyState", string(r.State))
	case core.KeyVersion:
		return set("keyId", r.KeyID, "keyVersionId", r.VersionID)
	case core.Changed:
		// An import or deletion of material names the version it changed;
		// other changes of a key answer nothing of it.
		if r.VersionID != "" {
			return set("keyId", r.Key.ID, "keyVersionId", r.VersionID, "keyState", string(r.Key.State))
		}
	case core.SecretCreated:
		return set("secretName", r.Secret.Name, "versionId", r.VersionID, "keyId", r.Secret.KeyID)
	case core.SecretValue:
		return set("secretName", r.Secret.Name, "versionId", r.Version.ID, "keyId", r.Secret.KeyID)
	case core.SecretStored:
		return set("secretName", r.Name, "versionId", r.VersionID)
	case core.GrantCreated:
		return set("keyId", r.KeyID, "grantId", r.GrantID)
	case core.CertificateRequested:
		return set("certificateId", r.ID)
	case core.CertificateChanged:
		return set("certificateId", r.ID, "status", r.Status)
	case core.CertificateSignature:
		return set("certificateId", r.ID)
	case core.CertificateVerdict:
		return set("certificateId", r.ID)
	case core.CertificateSealed:
		return set("certificateId", r.ID)
	case core.CertificateOpened:
		return set("certificateId", r.ID)
	case core.ClientKeyIssued:
		// The client key's ID, which only the answer names; never its
		// private key or password.
		return set("clientKeyId", r.ID, "aapName", r.AapName)
	case core.Partition:
		return set("partitionId", r.ID, "keyId", r.KeyID, "keyVersionId", r.KeyVersionID)
	case *core.Partition:
		return set("partitionId", r.ID, "keyId", r.KeyID, "keyVersionId", r.KeyVersionID)
	}
	return nil
}

// resources names the keys, aliases and partitions a request touched: the
// ones core answered with, and the ones it named (so a refused request still
// says what it was after).
func resources(p core.Params, resp map[string]string, arns ARNs) []Resource {
	if arns == nil {
		return nil
	}
	var out []Resource
	add := func(typ, arn string) {
		if arn != "" && !slices.ContainsFunc(out, func(r Resource) bool { return r.ARN == arn }) {
			out = append(out, Resource{ARN: arn, Type: typ})
		}
	}
	ref := func(v string) {
		switch {
		case v == "" || len(v) > maxValue:
		case strings.HasPrefix(v, "acs:") || strings.HasPrefix(v, "arn:"):
			typ := "key"
			if strings.Contains(v, ":alias/") {
				typ = "alias"
			}
			add(typ, v)
		case strings.HasPrefix(v, "alias/"):
			add("alias", arns.AliasARN(v))
		default:
			add("key", arns.KeyARN(v))
		}
	}
	for _, id := range []string{resp["keyId"], resp["sourceKeyId"]} {
		if id != "" {
			add("key", arns.KeyARN(id))
		}
	}
	if id := resp["partitionId"]; id != "" {
		add("partition", arns.PartitionARN(id))
	}
	for _, id := range []string{resp["certificateId"], p["CertificateId"]} {
		if id != "" && len(id) <= maxValue {
			add("certificate", arns.CertificateARN(id))
		}
	}
	ref(p["KeyId"])
	ref(p["DestinationKeyId"])
	ref(p["SourceKeyId"])
	ref(p["TargetKeyId"])
	ref(p["ProtectedResourceArn"])
	ref(p["EncryptionKeyId"])
	if v := p["SecretName"]; v != "" && len(v) <= maxValue {
		if !strings.HasPrefix(v, "acs:") {
			v = arns.SecretARN(v)
		}
		add("secret", v)
	}
	if _, ok := p["ResourceId.1"]; ok {
		ids, _ := p.Indexed("ResourceId", "")
		for _, id := range ids {
			ref(id)
		}
	}
	if v := p["AliasName"]; v != "" && len(v) <= maxValue {
		add("alias", arns.AliasARN(v))
	}
	if v := p["PartitionId"]; core.ValidPartitionID(v) {
		add("partition", arns.PartitionARN(v))
	}
	return out
}
