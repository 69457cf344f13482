package alibaba

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/kmsless/kmsless/core"
)

// Response is the Alibaba response object of an action's result (see core's
// results), carrying requestID. It clears the secret a result carries once
// encoded (core.Wipe). An unknown result type is a programming error.
func Response(kms *core.Service, requestID string, result any) (any, error) {
	defer core.Wipe(result)
	if out, ok := certificateResponse(requestID, result); ok {
		return out, nil
	}
	if out, ok, err := accessResponse(requestID, result); ok {
		return out, err
	}
	switch r := result.(type) {
	case nil, core.Changed:
		return &EmptyResponse{RequestId: requestID}, nil
	case core.Key:
		return &KeyMetadataResponse{RequestId: requestID, KeyMetadata: metadata(kms, r)}, nil
	case core.Listing[core.Key]:
		out := &ListKeysResponse{RequestId: requestID, TotalCount: r.Total, PageNumber: r.PageNumber, PageSize: r.PageSize}
		out.Keys.Key = make([]KeyListEntry, 0, len(r.Items))
		for _, k := range r.Items {
			out.Keys.Key = append(out.Keys.Key, KeyListEntry{KeyId: k.ID, KeyArn: kms.KeyARN(k.ID)})
		}
		return out, nil
	case core.Listing[core.KmsInstance]:
		out := &ListKmsInstancesResponse{RequestId: requestID, TotalCount: r.Total, PageNumber: r.PageNumber, PageSize: r.PageSize}
		out.KmsInstances.KmsInstance = []struct{}{}
		return out, nil
	case []core.CustomKeyStore:
		// DescribeCustomKeyStores, an AWS operation, reached by its action
		// name: it lists none.
		return &CustomKeyStoresResponse{RequestId: requestID, CustomKeyStores: []struct{}{}}, nil
	case core.Listing[core.Alias]:
		out := &ListAliasesResponse{RequestId: requestID, TotalCount: r.Total, PageNumber: r.PageNumber, PageSize: r.PageSize}
		out.Aliases.Alias = make([]AliasEntry, 0, len(r.Items))
		for _, a := range r.Items {
			out.Aliases.Alias = append(out.Aliases.Alias, AliasEntry{AliasName: a.Name, AliasArn: kms.AliasARN(a.Name), KeyId: a.KeyID})
		}
		return out, nil
	case core.KeyVersion:
		return &KeyVersionResponse{RequestId: requestID, KeyVersion: versionEntry(r)}, nil
	case core.Listing[core.KeyVersion]:
		out := &ListKeyVersionsResponse{RequestId: requestID, TotalCount: r.Total, PageNumber: r.PageNumber, PageSize: r.PageSize}
		out.KeyVersions.KeyVersion = make([]KeyVersionEntry, 0, len(r.Items))
		for _, v := range r.Items {
			out.KeyVersions.KeyVersion = append(out.KeyVersions.KeyVersion, versionEntry(v))
		}
		return out, nil
	case core.Listing[core.Rotation]:
		// ListKeyRotations, an AWS operation, reached by its action name.
		out := &ListKeyVersionsResponse{RequestId: requestID, TotalCount: r.Total, PageNumber: r.PageNumber, PageSize: r.PageSize}
		out.KeyVersions.KeyVersion = make([]KeyVersionEntry, 0, len(r.Items))
		for _, v := range r.Items {
			out.KeyVersions.KeyVersion = append(out.KeyVersions.KeyVersion, versionEntry(v.KeyVersion))
		}
		return out, nil
	case core.Sealed:
		return &CiphertextResponse{RequestId: requestID, KeyId: r.KeyID, KeyVersionId: r.VersionID,
			CiphertextBlob: base64.StdEncoding.EncodeToString(r.Blob)}, nil
	case core.Resealed:
		return &CiphertextResponse{RequestId: requestID, KeyId: r.KeyID, KeyVersionId: r.VersionID,
			CiphertextBlob: base64.StdEncoding.EncodeToString(r.Blob)}, nil
	case core.Exported:
		return &ExportedDataKeyResponse{RequestId: requestID, KeyId: r.KeyID, KeyVersionId: r.VersionID,
			ExportedDataKey: base64.StdEncoding.EncodeToString(r.ExportedKey)}, nil
	case core.SealedAndExported:
		return &GeneratedExportResponse{RequestId: requestID, KeyId: r.KeyID, KeyVersionId: r.VersionID,
			CiphertextBlob: base64.StdEncoding.EncodeToString(r.Blob), ExportedDataKey: base64.StdEncoding.EncodeToString(r.ExportedKey)}, nil
	case core.Random:
		return &RandomResponse{RequestId: requestID, Random: base64.StdEncoding.EncodeToString(r.Bytes)}, nil
	case core.SecretCreated:
		return &CreateSecretResponse{RequestId: requestID, Arn: kms.SecretARN(r.Secret.Name), VersionId: r.VersionID,
			SecretName: r.Secret.Name, SecretType: core.SecretTypeGeneric}, nil
	case core.SecretValue:
		out := &SecretValueResponse{RequestId: requestID, SecretName: r.Secret.Name, SecretType: core.SecretTypeGeneric,
			SecretData: string(r.Data), SecretDataType: r.Version.DataType, VersionId: r.Version.ID, CreateTime: formatTime(r.Version.CreatedAt)}
		out.VersionStages.VersionStage = nonNil(r.Stages)
		return out, nil
	case core.SecretStored:
		out := &PutSecretValueResponse{RequestId: requestID, SecretName: r.Name, VersionId: r.VersionID}
		out.VersionStages.VersionStage = nonNil(r.Stages)
		return out, nil
	case core.SecretNamed:
		return &SecretNameResponse{RequestId: requestID, SecretName: r.Name}, nil
	case core.SecretDeletion:
		return &DeleteSecretResponse{RequestId: requestID, SecretName: r.Name, PlannedDeleteTime: formatTime(r.DeleteAt)}, nil
	case core.SecretDescription:
		sec := r.Secret
		out := &DescribeSecretResponse{RequestId: requestID, SecretName: sec.Name, Arn: kms.SecretARN(sec.Name),
			Description: sec.Description, EncryptionKeyId: sec.KeyID, CreateTime: formatTime(sec.CreatedAt),
			UpdateTime: formatTime(sec.UpdatedAt), PlannedDeleteTime: formatTime(sec.DeleteAt),
			SecretType: core.SecretTypeGeneric, AutomaticRotation: "Disabled"}
		if r.Tags {
			out.Tags = &SecretTags{Tag: secretTags(sec.Tags)}
		}
		return out, nil
	case core.SecretListing:
		out := &ListSecretsResponse{RequestId: requestID, TotalCount: r.Total, PageNumber: r.PageNumber, PageSize: r.PageSize}
		out.SecretList.Secret = make([]SecretListEntry, 0, len(r.Items))
		for _, sec := range r.Items {
			e := SecretListEntry{SecretName: sec.Name, CreateTime: formatTime(sec.CreatedAt), UpdateTime: formatTime(sec.UpdatedAt),
				PlannedDeleteTime: formatTime(sec.DeleteAt), SecretType: core.SecretTypeGeneric}
			if r.Tags {
				e.Tags = &SecretTags{Tag: secretTags(sec.Tags)}
			}
			out.SecretList.Secret = append(out.SecretList.Secret, e)
		}
		return out, nil
	case core.SecretVersions:
		out := &ListSecretVersionIdsResponse{RequestId: requestID, SecretName: r.Name, TotalCount: r.Total, PageNumber: r.PageNumber, PageSize: r.PageSize}
		out.VersionIds.VersionId = make([]SecretVersionEntry, 0, len(r.Items))
		for _, v := range r.Items {
			e := SecretVersionEntry{VersionId: v.ID, CreateTime: formatTime(v.CreatedAt)}
			e.VersionStages.VersionStage = nonNil(v.Stages)
			out.VersionIds.VersionId = append(out.VersionIds.VersionId, e)
		}
		return out, nil
	case core.GrantCreated:
		return &CreateGrantResponse{RequestId: requestID, GrantId: r.GrantID, GrantToken: r.Token}, nil
	case core.GrantPage:
		out := &ListGrantsResponse{RequestId: requestID, NextMarker: r.Next, Truncated: r.Next != ""}
		out.Grants.Grant = make([]GrantEntry, 0, len(r.Items))
		for _, g := range r.Items {
			e := GrantEntry{KeyId: g.KeyID, GrantId: g.ID, Name: g.Name, CreationDate: formatTime(g.CreatedAt),
				GranteePrincipal: g.Grantee, RetiringPrincipal: g.Retiring, IssuingAccount: kms.AccountID()}
			e.Operations.Operation = g.Operations
			if c := g.Constraints; c.Equals != nil || c.Subset != nil {
				e.Constraints = &GrantConstraints{EncryptionContextEquals: c.Equals, EncryptionContextSubset: c.Subset}
			}
			out.Grants.Grant = append(out.Grants.Grant, e)
		}
		return out, nil
	case core.Password:
		return &RandomPasswordResponse{RequestId: requestID, RandomPassword: string(r.Text)}, nil
	case core.KeyLastUsage:
		// GetKeyLastUsage, an AWS operation, reached by its action name.
		out := &KeyLastUsageResponse{RequestId: requestID, KeyId: r.KeyID,
			TrackingStartDate: formatTime(r.TrackingStart), KeyCreationDate: formatTime(r.KeyCreated)}
		if u := r.Usage; !u.At.IsZero() {
			out.KeyLastUsage = &KeyUsageEntry{Action: u.Action, Time: formatTime(u.At), UsageRequestId: u.RequestID}
		}
		return out, nil
	case core.KeyPolicy:
		return &PolicyResponse{RequestId: requestID, Policy: cmp.Or(r.Document, DefaultPolicy(kms))}, nil
	case core.SecretPolicy:
		return &PolicyResponse{RequestId: requestID, Policy: cmp.Or(r.Document, DefaultPolicy(kms))}, nil
	case core.Listing[core.KeyPolicy]:
		out := &ListKeyPoliciesResponse{RequestId: requestID, TotalCount: r.Total, PageNumber: r.PageNumber, PageSize: r.PageSize}
		for _, p := range r.Items {
			out.PolicyNames.PolicyName = append(out.PolicyNames.PolicyName, p.Name)
		}
		return out, nil
	case core.DataKey:
		return &DataKeyResponse{RequestId: requestID, KeyId: r.KeyID, KeyVersionId: r.VersionID,
			CiphertextBlob: base64.StdEncoding.EncodeToString(r.Blob), Plaintext: base64.StdEncoding.EncodeToString(r.Plaintext)}, nil
	case core.DataKeyPair:
		return &DataKeyPairResponse{RequestId: requestID, KeyId: r.KeyID, KeyVersionId: r.VersionID, KeyPairSpec: r.Spec,
			PrivateKeyCiphertextBlob: base64.StdEncoding.EncodeToString(r.Blob), PublicKey: base64.StdEncoding.EncodeToString(r.PublicKey),
			PrivateKeyPlaintext: base64.StdEncoding.EncodeToString(r.PrivateKey)}, nil
	case core.Mac:
		return &MacResponse{RequestId: requestID, KeyId: r.KeyID, KeyVersionId: r.VersionID, MacAlgorithm: r.Algorithm,
			Mac: base64.StdEncoding.EncodeToString(r.Mac)}, nil
	case core.MacVerified:
		return &VerifyMacResponse{RequestId: requestID, KeyId: r.KeyID, KeyVersionId: r.VersionID, MacAlgorithm: r.Algorithm,
			MacValid: true}, nil
	case core.PublicKey:
		return &PublicKeyResponse{RequestId: requestID, KeyId: r.KeyID, KeyVersionId: r.VersionID, PublicKey: pemOf("PUBLIC KEY", r.DER)}, nil
	case core.Signature:
		return &SignResponse{RequestId: requestID, KeyId: r.KeyID, KeyVersionId: r.VersionID,
			Value: base64.StdEncoding.EncodeToString(r.Value)}, nil
	case core.SignatureChecked:
		return &VerifyResponse{RequestId: requestID, KeyId: r.KeyID, KeyVersionId: r.VersionID, Value: r.Valid}, nil
	case core.SharedSecret:
		return &SharedSecretResponse{RequestId: requestID, KeyId: r.KeyID, KeyVersionId: r.VersionID,
			KeyAgreementAlgorithm: r.Algorithm, SharedSecret: base64.StdEncoding.EncodeToString(r.Secret)}, nil
	case core.Decapsulated:
		return &DecapsulatedResponse{RequestId: requestID, KeyId: r.KeyID, KeyVersionId: r.VersionID,
			EncapsulationAlgorithm: r.Algorithm, SharedSecret: base64.StdEncoding.EncodeToString(r.Secret)}, nil
	case core.Encapsulated:
		return &EncapsulatedResponse{RequestId: requestID, KeyId: r.KeyID, KeyVersionId: r.VersionID, EncapsulationAlgorithm: r.Algorithm,
			SharedSecret: base64.StdEncoding.EncodeToString(r.Secret), SharedSecretCiphertextBlob: base64.StdEncoding.EncodeToString(r.Ciphertext)}, nil
	case core.Opened:
		return &DecryptResponse{RequestId: requestID, KeyId: r.KeyID, KeyVersionId: r.VersionID,
			Plaintext: base64.StdEncoding.EncodeToString(r.Plaintext)}, nil
	case core.Partition:
		ctx := ContextObject(r.EncryptionContext)
		if ctx == nil {
			ctx = ContextObject{}
		}
		return &PartitionDataKeyResponse{RequestId: requestID, PartitionId: r.ID, KeyId: r.KeyID, KeyVersionId: r.KeyVersionID,
			CiphertextBlob: base64.StdEncoding.EncodeToString(r.CiphertextBlob), EncryptionContext: ctx}, nil
	case core.ImportParameters:
		return &ImportParametersResponse{RequestId: requestID, KeyId: r.KeyID, ImportToken: r.Token,
			PublicKey: base64.StdEncoding.EncodeToString(r.PublicKey), TokenExpireTime: formatTime(r.ExpiresAt)}, nil
	case core.KeyTags:
		out := &ListResourceTagsResponse{RequestId: requestID}
		out.Tags.Tag = make([]ResourceTag, 0, len(r.Tags))
		for _, k := range slices.Sorted(maps.Keys(r.Tags)) {
			out.Tags.Tag = append(out.Tags.Tag, ResourceTag{KeyId: r.KeyID, TagKey: k, TagValue: r.Tags[k]})
		}
		return out, nil
	case core.TagListing:
		out := &ListTagResourcesResponse{RequestId: requestID, NextToken: r.NextToken}
		out.TagResources.TagResource = make([]TagResourceEntry, 0, len(r.Items))
		for _, t := range r.Items {
			out.TagResources.TagResource = append(out.TagResources.TagResource,
				TagResourceEntry{ResourceId: t.ResourceID, ResourceType: "key", TagKey: t.Key, TagValue: t.Value})
		}
		return out, nil
	case core.AccountStatus:
		status := "Disabled"
		if r.Enabled {
			status = "Enabled"
		}
		return &AccountStatusResponse{RequestId: requestID, AccountStatus: status}, nil
	case core.Regions:
		out := &DescribeRegionsResponse{RequestId: requestID}
		for _, id := range r {
			out.Regions.Region = append(out.Regions.Region, RegionEntry{RegionId: id})
		}
		return out, nil
	}
	return nil, fmt.Errorf("alibaba: no response shape for %T", result)
}

// KeyMetadata describes a key in CreateKey and DescribeKey responses.
type KeyMetadata struct {
	KeyId              string `json:"KeyId"`
	Arn                string `json:"Arn"`
	Description        string `json:"Description"`
	KeyState           string `json:"KeyState"`
	KeyUsage           string `json:"KeyUsage"`
	KeySpec            string `json:"KeySpec"`
	Origin             string `json:"Origin"`
	ProtectionLevel    string `json:"ProtectionLevel"`
	Creator            string `json:"Creator"`
	CreationDate       string `json:"CreationDate"`
	DeleteDate         string `json:"DeleteDate"`
	MaterialExpireTime string `json:"MaterialExpireTime"`
	PrimaryKeyVersion  string `json:"PrimaryKeyVersion"`
	AutomaticRotation  string `json:"AutomaticRotation"`
	RotationInterval   string `json:"RotationInterval"`
	LastRotationDate   string `json:"LastRotationDate"`
	NextRotationDate   string `json:"NextRotationDate"`
	DeletionProtection string `json:"DeletionProtection"`
	// DeletionProtectionDescription is set while DeletionProtection is
	// Enabled.
	DeletionProtectionDescription string `json:"DeletionProtectionDescription,omitempty"`
}

// ImportParametersResponse answers GetParametersForImport.
type ImportParametersResponse struct {
	RequestId       string `json:"RequestId"`
	KeyId           string `json:"KeyId"`
	ImportToken     string `json:"ImportToken"`
	PublicKey       string `json:"PublicKey"`
	TokenExpireTime string `json:"TokenExpireTime"`
}

// ResourceTag is one tag in ListResourceTags.
type ResourceTag struct {
	KeyId    string `json:"KeyId"`
	TagKey   string `json:"TagKey"`
	TagValue string `json:"TagValue"`
}

// ListResourceTagsResponse answers ListResourceTags.
type ListResourceTagsResponse struct {
	RequestId string `json:"RequestId"`
	Tags      struct {
		Tag []ResourceTag `json:"Tag"`
	} `json:"Tags"`
}

// TagResourceEntry is one item of ListTagResources.
type TagResourceEntry struct {
	ResourceId   string `json:"ResourceId"`
	ResourceType string `json:"ResourceType"`
	TagKey       string `json:"TagKey"`
	TagValue     string `json:"TagValue"`
}

// ListTagResourcesResponse answers ListTagResources, a page at a time;
// NextToken is empty on the last page, as on Alibaba.
type ListTagResourcesResponse struct {
	RequestId    string `json:"RequestId"`
	NextToken    string `json:"NextToken"`
	TagResources struct {
		TagResource []TagResourceEntry `json:"TagResource"`
	} `json:"TagResources"`
}

// RegionEntry is one region of DescribeRegions.
type RegionEntry struct {
	RegionId string `json:"RegionId"`
}

// AccountStatusResponse answers DescribeAccountKmsStatus.
type AccountStatusResponse struct {
	RequestId     string `json:"RequestId"`
	AccountStatus string `json:"AccountStatus"`
}

// DescribeRegionsResponse answers DescribeRegions.
type DescribeRegionsResponse struct {
	RequestId string `json:"RequestId"`
	Regions   struct {
		Region []RegionEntry `json:"Region"`
	} `json:"Regions"`
}

// KeyMetadataResponse answers CreateKey and DescribeKey.
type KeyMetadataResponse struct {
	RequestId   string      `json:"RequestId"`
	KeyMetadata KeyMetadata `json:"KeyMetadata"`
}

// EmptyResponse answers actions that return only a RequestId.
type EmptyResponse struct {
	RequestId string `json:"RequestId"`
}

// KeyListEntry is one item of ListKeys.
type KeyListEntry struct {
	KeyId  string `json:"KeyId"`
	KeyArn string `json:"KeyArn"`
}

// ListKeysResponse answers ListKeys.
type ListKeysResponse struct {
	RequestId  string `json:"RequestId"`
	TotalCount int    `json:"TotalCount"`
	PageNumber int    `json:"PageNumber"`
	PageSize   int    `json:"PageSize"`
	Keys       struct {
		Key []KeyListEntry `json:"Key"`
	} `json:"Keys"`
}

// AliasEntry is one item of ListAliases and ListAliasesByKeyId.
type AliasEntry struct {
	AliasName string `json:"AliasName"`
	AliasArn  string `json:"AliasArn"`
	KeyId     string `json:"KeyId"`
}

// ListAliasesResponse answers ListAliases and ListAliasesByKeyId.
type ListAliasesResponse struct {
	RequestId  string `json:"RequestId"`
	TotalCount int    `json:"TotalCount"`
	PageNumber int    `json:"PageNumber"`
	PageSize   int    `json:"PageSize"`
	Aliases    struct {
		Alias []AliasEntry `json:"Alias"`
	} `json:"Aliases"`
}

// ListKmsInstancesResponse lists KMS instances: none here.
type ListKmsInstancesResponse struct {
	RequestId    string `json:"RequestId"`
	TotalCount   int    `json:"TotalCount"`
	PageNumber   int    `json:"PageNumber"`
	PageSize     int    `json:"PageSize"`
	KmsInstances struct {
		KmsInstance []struct{} `json:"KmsInstance"`
	} `json:"KmsInstances"`
}

// CustomKeyStoresResponse lists custom key stores: none here.
type CustomKeyStoresResponse struct {
	RequestId       string     `json:"RequestId"`
	CustomKeyStores []struct{} `json:"CustomKeyStores"`
}

// KeyVersionEntry describes one key version.
type KeyVersionEntry struct {
	KeyId        string `json:"KeyId"`
	KeyVersionId string `json:"KeyVersionId"`
	CreationDate string `json:"CreationDate"`
}

// KeyVersionResponse answers CreateKeyVersion and DescribeKeyVersion.
type KeyVersionResponse struct {
	RequestId  string          `json:"RequestId"`
	KeyVersion KeyVersionEntry `json:"KeyVersion"`
}

// ListKeyVersionsResponse answers ListKeyVersions.
type ListKeyVersionsResponse struct {
	RequestId   string `json:"RequestId"`
	TotalCount  int    `json:"TotalCount"`
	PageNumber  int    `json:"PageNumber"`
	PageSize    int    `json:"PageSize"`
	KeyVersions struct {
		KeyVersion []KeyVersionEntry `json:"KeyVersion"`
	} `json:"KeyVersions"`
}

// CiphertextResponse answers GenerateDataKeyWithoutPlaintext, Encrypt and
// ReEncrypt.
type CiphertextResponse struct {
	RequestId      string `json:"RequestId"`
	KeyId          string `json:"KeyId"`
	KeyVersionId   string `json:"KeyVersionId"`
	CiphertextBlob string `json:"CiphertextBlob"`
}

// CreateSecretResponse answers CreateSecret.
type CreateSecretResponse struct {
	RequestId  string `json:"RequestId"`
	Arn        string `json:"Arn"`
	VersionId  string `json:"VersionId"`
	SecretName string `json:"SecretName"`
	SecretType string `json:"SecretType"`
}

// Stages lists a version's stage labels.
type Stages struct {
	VersionStage []string `json:"VersionStage"`
}

// SecretValueResponse answers GetSecretValue.
type SecretValueResponse struct {
	RequestId      string `json:"RequestId"`
	SecretName     string `json:"SecretName"`
	SecretType     string `json:"SecretType"`
	SecretData     string `json:"SecretData"`
	SecretDataType string `json:"SecretDataType"`
	VersionId      string `json:"VersionId"`
	CreateTime     string `json:"CreateTime"`
	VersionStages  Stages `json:"VersionStages"`
}

// PutSecretValueResponse answers PutSecretValue.
type PutSecretValueResponse struct {
	RequestId     string `json:"RequestId"`
	SecretName    string `json:"SecretName"`
	VersionId     string `json:"VersionId"`
	VersionStages Stages `json:"VersionStages"`
}

// SecretNameResponse answers UpdateSecret, RestoreSecret and
// UpdateSecretVersionStage.
type SecretNameResponse struct {
	RequestId  string `json:"RequestId"`
	SecretName string `json:"SecretName"`
}

// DeleteSecretResponse answers DeleteSecret.
type DeleteSecretResponse struct {
	RequestId         string `json:"RequestId"`
	SecretName        string `json:"SecretName"`
	PlannedDeleteTime string `json:"PlannedDeleteTime"`
}

// SecretTag is one tag of a secret.
type SecretTag struct {
	TagKey   string `json:"TagKey"`
	TagValue string `json:"TagValue"`
}

// SecretTags lists a secret's tags.
type SecretTags struct {
	Tag []SecretTag `json:"Tag"`
}

// DescribeSecretResponse answers DescribeSecret.
type DescribeSecretResponse struct {
	RequestId         string      `json:"RequestId"`
	SecretName        string      `json:"SecretName"`
	Arn               string      `json:"Arn"`
	Description       string      `json:"Description"`
	EncryptionKeyId   string      `json:"EncryptionKeyId"`
	CreateTime        string      `json:"CreateTime"`
	UpdateTime        string      `json:"UpdateTime"`
	PlannedDeleteTime string      `json:"PlannedDeleteTime,omitempty"`
	SecretType        string      `json:"SecretType"`
	AutomaticRotation string      `json:"AutomaticRotation"`
	Tags              *SecretTags `json:"Tags,omitempty"`
}

// SecretListEntry is one secret of ListSecrets.
type SecretListEntry struct {
	SecretName        string      `json:"SecretName"`
	CreateTime        string      `json:"CreateTime"`
	UpdateTime        string      `json:"UpdateTime"`
	PlannedDeleteTime string      `json:"PlannedDeleteTime,omitempty"`
	SecretType        string      `json:"SecretType"`
	Tags              *SecretTags `json:"Tags,omitempty"`
}

// ListSecretsResponse answers ListSecrets.
type ListSecretsResponse struct {
	RequestId  string `json:"RequestId"`
	TotalCount int    `json:"TotalCount"`
	PageNumber int    `json:"PageNumber"`
	PageSize   int    `json:"PageSize"`
	SecretList struct {
		Secret []SecretListEntry `json:"Secret"`
	} `json:"SecretList"`
}

// SecretVersionEntry is one version of ListSecretVersionIds.
type SecretVersionEntry struct {
	VersionId     string `json:"VersionId"`
	CreateTime    string `json:"CreateTime"`
	VersionStages Stages `json:"VersionStages"`
}

// ListSecretVersionIdsResponse answers ListSecretVersionIds.
type ListSecretVersionIdsResponse struct {
	RequestId  string `json:"RequestId"`
	SecretName string `json:"SecretName"`
	TotalCount int    `json:"TotalCount"`
	PageNumber int    `json:"PageNumber"`
	PageSize   int    `json:"PageSize"`
	VersionIds struct {
		VersionId []SecretVersionEntry `json:"VersionId"`
	} `json:"VersionIds"`
}

// RandomPasswordResponse answers GetRandomPassword.
type RandomPasswordResponse struct {
	RequestId      string `json:"RequestId"`
	RandomPassword string `json:"RandomPassword"`
}

// nonNil is list, or an empty list for none: a JSON list, never null.
func nonNil(list []string) []string {
	if list == nil {
		return []string{}
	}
	return list
}

// secretTags lists tags by key.
func secretTags(tags map[string]string) []SecretTag {
	out := make([]SecretTag, 0, len(tags))
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		out = append(out, SecretTag{TagKey: k, TagValue: tags[k]})
	}
	return out
}

// RandomResponse answers GenerateRandom.
type RandomResponse struct {
	RequestId string `json:"RequestId"`
	Random    string `json:"Random"`
}

// CreateGrantResponse answers CreateGrant, which Alibaba's API lacks and
// kmsless answers as AWS's API does.
type CreateGrantResponse struct {
	RequestId  string `json:"RequestId"`
	GrantId    string `json:"GrantId"`
	GrantToken string `json:"GrantToken"`
}

// GrantConstraints are a grant's encryption context constraints.
type GrantConstraints struct {
	EncryptionContextEquals map[string]string `json:"EncryptionContextEquals,omitempty"`
	EncryptionContextSubset map[string]string `json:"EncryptionContextSubset,omitempty"`
}

// GrantEntry is one grant of ListGrants or ListRetirableGrants.
type GrantEntry struct {
	KeyId             string `json:"KeyId"`
	GrantId           string `json:"GrantId"`
	Name              string `json:"Name,omitempty"`
	CreationDate      string `json:"CreationDate"`
	GranteePrincipal  string `json:"GranteePrincipal"`
	RetiringPrincipal string `json:"RetiringPrincipal,omitempty"`
	IssuingAccount    string `json:"IssuingAccount"`
	Operations        struct {
		Operation []string `json:"Operation"`
	} `json:"Operations"`
	Constraints *GrantConstraints `json:"Constraints,omitempty"`
}

// ListGrantsResponse answers ListGrants and ListRetirableGrants.
type ListGrantsResponse struct {
	RequestId string `json:"RequestId"`
	Grants    struct {
		Grant []GrantEntry `json:"Grant"`
	} `json:"Grants"`
	NextMarker string `json:"NextMarker,omitempty"`
	Truncated  bool   `json:"Truncated"`
}

// KeyLastUsageResponse answers GetKeyLastUsage, AWS's operation, in
// Alibaba's style.
type KeyLastUsageResponse struct {
	RequestId         string         `json:"RequestId"`
	KeyId             string         `json:"KeyId"`
	KeyLastUsage      *KeyUsageEntry `json:"KeyLastUsage,omitempty"`
	TrackingStartDate string         `json:"TrackingStartDate"`
	KeyCreationDate   string         `json:"KeyCreationDate"`
}

// KeyUsageEntry is a key's last use: the action, when, and the request's
// ID, by which the audit trail finds it.
type KeyUsageEntry struct {
	Action         string `json:"Action"`
	Time           string `json:"Time"`
	UsageRequestId string `json:"UsageRequestId"`
}

// PolicyResponse answers GetKeyPolicy and GetSecretPolicy.
type PolicyResponse struct {
	RequestId string `json:"RequestId"`
	Policy    string `json:"Policy"`
}

// ListKeyPoliciesResponse answers ListKeyPolicies.
type ListKeyPoliciesResponse struct {
	RequestId   string `json:"RequestId"`
	TotalCount  int    `json:"TotalCount"`
	PageNumber  int    `json:"PageNumber"`
	PageSize    int    `json:"PageSize"`
	PolicyNames struct {
		PolicyName []string `json:"PolicyName"`
	} `json:"PolicyNames"`
}

// DefaultPolicy is the policy of a key or secret without one of its own, in
// RAM's language: every action to the account, which the principals' own
// policies then narrow.
func DefaultPolicy(kms *core.Service) string {
	return `{"Version":"1","Statement":[{"Effect":"Allow","Principal":{"RAM":["acs:ram::` + kms.AccountID() + `:*"]},"Action":["kms:*"],"Resource":["*"]}]}`
}

// DataKeyResponse answers GenerateDataKey.
type DataKeyResponse struct {
	RequestId      string `json:"RequestId"`
	KeyId          string `json:"KeyId"`
	KeyVersionId   string `json:"KeyVersionId"`
	CiphertextBlob string `json:"CiphertextBlob"`
	Plaintext      string `json:"Plaintext"`
}

// DataKeyPairResponse answers GenerateDataKeyPair and, without
// PrivateKeyPlaintext, GenerateDataKeyPairWithoutPlaintext, in the member
// names Alibaba's instance API gives them; the specs and the DER are AWS's.
type DataKeyPairResponse struct {
	RequestId                string `json:"RequestId"`
	KeyId                    string `json:"KeyId"`
	KeyVersionId             string `json:"KeyVersionId"`
	KeyPairSpec              string `json:"KeyPairSpec"`
	PrivateKeyCiphertextBlob string `json:"PrivateKeyCiphertextBlob"`
	PrivateKeyPlaintext      string `json:"PrivateKeyPlaintext,omitempty" xml:",omitempty"`
	PublicKey                string `json:"PublicKey"`
}

// MacResponse answers GenerateMac, an AWS operation reached by its action
// name, in AWS's member names beside KeyVersionId.
type MacResponse struct {
	RequestId    string `json:"RequestId"`
	KeyId        string `json:"KeyId"`
	KeyVersionId string `json:"KeyVersionId"`
	MacAlgorithm string `json:"MacAlgorithm"`
	Mac          string `json:"Mac"`
}

// VerifyMacResponse answers a VerifyMac whose MAC is valid (an invalid one
// is the error InvalidMac).
type VerifyMacResponse struct {
	RequestId    string `json:"RequestId"`
	KeyId        string `json:"KeyId"`
	KeyVersionId string `json:"KeyVersionId"`
	MacAlgorithm string `json:"MacAlgorithm"`
	MacValid     bool   `json:"MacValid"`
}

// PublicKeyResponse answers GetPublicKey: the version's public key in PEM.
type PublicKeyResponse struct {
	RequestId    string `json:"RequestId"`
	KeyId        string `json:"KeyId"`
	KeyVersionId string `json:"KeyVersionId"`
	PublicKey    string `json:"PublicKey"`
}

// SignResponse answers AsymmetricSign: the signature, in base64.
type SignResponse struct {
	RequestId    string `json:"RequestId"`
	KeyId        string `json:"KeyId"`
	KeyVersionId string `json:"KeyVersionId"`
	Value        string `json:"Value"`
}

// VerifyResponse answers AsymmetricVerify: whether the signature is valid.
type VerifyResponse struct {
	RequestId    string `json:"RequestId"`
	KeyId        string `json:"KeyId"`
	KeyVersionId string `json:"KeyVersionId"`
	Value        bool   `json:"Value"`
}

// SharedSecretResponse answers DeriveSharedSecret, an AWS operation reached
// by its action name, in AWS's member names beside KeyVersionId.
type SharedSecretResponse struct {
	RequestId             string `json:"RequestId"`
	KeyId                 string `json:"KeyId"`
	KeyVersionId          string `json:"KeyVersionId"`
	KeyAgreementAlgorithm string `json:"KeyAgreementAlgorithm"`
	SharedSecret          string `json:"SharedSecret"`
}

// DecapsulatedResponse answers Decapsulate, likewise.
type DecapsulatedResponse struct {
	RequestId              string `json:"RequestId"`
	KeyId                  string `json:"KeyId"`
	KeyVersionId           string `json:"KeyVersionId"`
	EncapsulationAlgorithm string `json:"EncapsulationAlgorithm"`
	SharedSecret           string `json:"SharedSecret"`
}

// EncapsulatedResponse answers Encapsulate, likewise.
type EncapsulatedResponse struct {
	RequestId                  string `json:"RequestId"`
	KeyId                      string `json:"KeyId"`
	KeyVersionId               string `json:"KeyVersionId"`
	EncapsulationAlgorithm     string `json:"EncapsulationAlgorithm"`
	SharedSecret               string `json:"SharedSecret"`
	SharedSecretCiphertextBlob string `json:"SharedSecretCiphertextBlob"`
}

// DecryptResponse answers Decrypt.
type DecryptResponse struct {
	RequestId    string `json:"RequestId"`
	KeyId        string `json:"KeyId"`
	KeyVersionId string `json:"KeyVersionId"`
	Plaintext    string `json:"Plaintext"`
}

// ExportedDataKeyResponse answers ExportDataKey: the data key encrypted
// under the caller's public key.
type ExportedDataKeyResponse struct {
	RequestId       string `json:"RequestId"`
	KeyId           string `json:"KeyId"`
	KeyVersionId    string `json:"KeyVersionId"`
	ExportedDataKey string `json:"ExportedDataKey"`
}

// GeneratedExportResponse answers GenerateAndExportDataKey: a fresh data
// key's blob, and the same data key encrypted under the caller's public key.
type GeneratedExportResponse struct {
	RequestId       string `json:"RequestId"`
	KeyId           string `json:"KeyId"`
	KeyVersionId    string `json:"KeyVersionId"`
	CiphertextBlob  string `json:"CiphertextBlob"`
	ExportedDataKey string `json:"ExportedDataKey"`
}

// PartitionDataKeyResponse answers GetPartitionDataKey. EncryptionContext is the
// context the data key was sealed with, which Decrypt needs back.
type PartitionDataKeyResponse struct {
	RequestId         string        `json:"RequestId"`
	PartitionId       string        `json:"PartitionId"`
	KeyId             string        `json:"KeyId"`
	KeyVersionId      string        `json:"KeyVersionId"`
	CiphertextBlob    string        `json:"CiphertextBlob"`
	EncryptionContext ContextObject `json:"EncryptionContext"`
}

// ContextObject is an encryption context in a response: a JSON object, and in
// XML the same JSON text, since context keys need not be valid XML names.
type ContextObject map[string]string

// MarshalXML writes the context as its JSON text.
func (c ContextObject) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	b, err := json.Marshal(map[string]string(c))
	if err != nil {
		return err
	}
	return e.EncodeElement(string(b), start)
}

func metadata(kms *core.Service, k core.Key) KeyMetadata {
	m := KeyMetadata{
		KeyId: k.ID, Arn: kms.KeyARN(k.ID), Description: k.Description, KeyState: string(k.State),
		KeyUsage: k.KeyUsage, KeySpec: core.AlibabaKeySpec(k.KeySpec), Origin: k.Origin, ProtectionLevel: k.ProtectionLevel,
		Creator: k.Creator, CreationDate: formatTime(k.CreatedAt), DeleteDate: formatTime(k.DeleteAt),
		PrimaryKeyVersion: k.PrimaryVersionID, AutomaticRotation: "Disabled",
		LastRotationDate: formatTime(k.LastRotatedAt), DeletionProtection: "Disabled",
		MaterialExpireTime: formatTime(k.MaterialExpireAt),
	}
	if k.DeletionProtection {
		m.DeletionProtection, m.DeletionProtectionDescription = "Enabled", k.DeletionProtectionDescription
	}
	if k.AutomaticRotation {
		m.AutomaticRotation = "Enabled"
		m.RotationInterval = strconv.FormatInt(int64(k.RotationInterval/time.Second), 10) + "s"
		m.NextRotationDate = formatTime(k.NextRotation())
	}
	return m
}

func versionEntry(v core.KeyVersion) KeyVersionEntry {
	return KeyVersionEntry{KeyId: v.KeyID, KeyVersionId: v.VersionID, CreationDate: formatTime(v.CreatedAt)}
}

// formatTime is the date format of Alibaba's responses; a zero time is "".
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05Z")
}
