package core

// Response shapes, with Alibaba's field names.

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

// DataKeyResponse answers GenerateDataKey.
type DataKeyResponse struct {
	RequestId      string `json:"RequestId"`
	KeyId          string `json:"KeyId"`
	KeyVersionId   string `json:"KeyVersionId"`
	CiphertextBlob string `json:"CiphertextBlob"`
	Plaintext      string `json:"Plaintext"`
}

// DecryptResponse answers Decrypt.
type DecryptResponse struct {
	RequestId    string `json:"RequestId"`
	KeyId        string `json:"KeyId"`
	KeyVersionId string `json:"KeyVersionId"`
	Plaintext    string `json:"Plaintext"`
}

func (s *Service) metadata(k Key) KeyMetadata {
	m := KeyMetadata{
		KeyId: k.ID, Arn: s.KeyARN(k.ID), Description: k.Description, KeyState: string(k.State),
		KeyUsage: k.KeyUsage, KeySpec: k.KeySpec, Origin: k.Origin, ProtectionLevel: k.ProtectionLevel,
		Creator: k.Creator, CreationDate: formatTime(k.CreatedAt), DeleteDate: formatTime(k.DeleteAt),
		PrimaryKeyVersion: k.PrimaryVersionID, AutomaticRotation: "Disabled",
		LastRotationDate: formatTime(k.LastRotatedAt), DeletionProtection: "Disabled",
	}
	if k.AutomaticRotation {
		m.AutomaticRotation = "Enabled"
		m.RotationInterval = formatSeconds(k.RotationInterval)
		m.NextRotationDate = formatTime(k.NextRotation())
	}
	return m
}

func versionEntry(v KeyVersion) KeyVersionEntry {
	return KeyVersionEntry{KeyId: v.KeyID, KeyVersionId: v.VersionID, CreationDate: formatTime(v.CreatedAt)}
}
