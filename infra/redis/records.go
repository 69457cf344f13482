package redis

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/kmsless/kmsless/core"
)

// The values Redis caches, in the cache's own format: the sealed entry holds
// one of these as JSON.

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

// encodeValue is the cached form of a key, version or alias.
func encodeValue(v any) ([]byte, error) {
	switch v := v.(type) {
	case core.Key:
		return json.Marshal(keyRecord(v))
	case core.KeyVersion:
		return json.Marshal(versionRecord(v))
	case core.Alias:
		return json.Marshal(aliasRecord(v))
	}
	return nil, fmt.Errorf("redis: no cache record for %T", v)
}

// decodeValue reads a cached record into the model value it holds.
func decodeValue[T core.Key | core.KeyVersion | core.Alias](data []byte) (T, error) {
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
	}
	return v, err
}
