package bolt

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/kmsless/kmsless/core"
)

// The records bbolt holds, in the store's own format.

// keyRecord is a stored core.Key. Its JSON names are the store's own: a
// conversion to and from core.Key checks at compile time that the fields
// still match, and renaming a field of core's model changes no stored data.
type keyRecord struct {
	ID                            string            `json:"id"`
	Description                   string            `json:"description,omitempty"`
	KeySpec                       string            `json:"keySpec"`
	KeyUsage                      string            `json:"keyUsage"`
	Origin                        string            `json:"origin"`
	ProtectionLevel               string            `json:"protectionLevel"`
	Creator                       string            `json:"creator,omitempty"`
	State                         core.KeyState     `json:"state"`
	CreatedAt                     time.Time         `json:"createdAt"`
	DeleteAt                      time.Time         `json:"deleteAt,omitzero"`
	PrimaryVersionID              string            `json:"primaryVersionId"`
	AutomaticRotation             bool              `json:"automaticRotation,omitempty"`
	RotationInterval              time.Duration     `json:"rotationInterval,omitempty"`
	LastRotatedAt                 time.Time         `json:"lastRotatedAt,omitzero"`
	Tags                          map[string]string `json:"tags,omitempty"`
	DeletionProtection            bool              `json:"deletionProtection,omitempty"`
	DeletionProtectionDescription string            `json:"deletionProtectionDescription,omitempty"`
	MaterialExpireAt              time.Time         `json:"materialExpireAt,omitzero"`
	Revision                      int64             `json:"revision"`
}

// versionRecord is a stored core.KeyVersion.
type versionRecord struct {
	KeyID     string    `json:"keyId"`
	VersionID string    `json:"versionId"`
	CreatedAt time.Time `json:"createdAt"`
	Wrapped   []byte    `json:"wrapped"`
	Digest    []byte    `json:"digest,omitempty"`
	RootKeyID string    `json:"rootKeyId,omitempty"`
}

// aliasRecord is a stored core.Alias.
type aliasRecord struct {
	Name      string    `json:"name"`
	KeyID     string    `json:"keyId"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// partitionRecord is a stored core.Partition.
type partitionRecord struct {
	ID                string            `json:"id"`
	KeyID             string            `json:"keyId"`
	KeyVersionID      string            `json:"keyVersionId"`
	CiphertextBlob    []byte            `json:"ciphertextBlob"`
	EncryptionContext map[string]string `json:"encryptionContext,omitempty"`
	CreatedAt         time.Time         `json:"createdAt"`
}

// encode is the stored form of a key, version, alias or partition.
func encode(v any) ([]byte, error) {
	switch v := v.(type) {
	case core.Key:
		return json.Marshal(keyRecord(v))
	case core.KeyVersion:
		return json.Marshal(versionRecord(v))
	case core.Alias:
		return json.Marshal(aliasRecord(v))
	case core.Partition:
		return json.Marshal(partitionRecord(v))
	}
	return nil, fmt.Errorf("bolt: no record for %T", v)
}

// decode reads a stored record into the model value it holds.
func decode[T core.Key | core.KeyVersion | core.Alias | core.Partition](data []byte, what string) (T, error) {
	var v T
	var err error
	switch p := any(&v).(type) {
	case *core.Key:
		var r keyRecord
		err = json.Unmarshal(data, &r)
		*p = core.Key(r)
	case *core.KeyVersion:
		var r versionRecord
		err = json.Unmarshal(data, &r)
		*p = core.KeyVersion(r)
	case *core.Alias:
		var r aliasRecord
		err = json.Unmarshal(data, &r)
		*p = core.Alias(r)
	case *core.Partition:
		var r partitionRecord
		err = json.Unmarshal(data, &r)
		*p = core.Partition(r)
	}
	if err != nil {
		return v, fmt.Errorf("bolt: decode stored %s: %w", what, err)
	}
	return v, nil
}
