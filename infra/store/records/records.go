// Package records is the JSON form in which the model is kept outside the
// process: the bbolt store's records and the entries Redis caches. Its
// names are its own: a conversion to and from each core type checks at
// compile time that the fields still match, and renaming a field of core's
// model changes no stored data.
package records

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/kmsless/kmsless/core"
)

// keyRecord is a core.Key.
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
	RotationBase                  time.Time         `json:"rotationBase,omitzero"`
	Tags                          map[string]string `json:"tags,omitempty"`
	DeletionProtection            bool              `json:"deletionProtection,omitempty"`
	DeletionProtectionDescription string            `json:"deletionProtectionDescription,omitempty"`
	MaterialExpireAt              time.Time         `json:"materialExpireAt,omitzero"`
	Policy                        string            `json:"policy,omitempty"`
	Revision                      int64             `json:"revision"`
}

// versionRecord is a core.KeyVersion.
type versionRecord struct {
	KeyID     string    `json:"keyId"`
	VersionID string    `json:"versionId"`
	CreatedAt time.Time `json:"createdAt"`
	Wrapped   []byte    `json:"wrapped"`
	Digest    []byte    `json:"digest,omitempty"`
	RootKeyID string    `json:"rootKeyId,omitempty"`
	// RotationType is absent from records written before versions
	// recorded it, which read as no rotation type.
	RotationType core.RotationType `json:"rotationType,omitempty"`
	// ExpireAt and MaterialDescription are absent from records of versions
	// without imported material that expires or is described, and from
	// records written before versions recorded them: both read as zero.
	ExpireAt            time.Time `json:"expireAt,omitzero"`
	MaterialDescription string    `json:"materialDescription,omitempty"`
}

// aliasRecord is a core.Alias.
type aliasRecord struct {
	Name      string    `json:"name"`
	KeyID     string    `json:"keyId"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// partitionRecord is a core.Partition.
type partitionRecord struct {
	ID                string            `json:"id"`
	KeyID             string            `json:"keyId"`
	KeyVersionID      string            `json:"keyVersionId"`
	CiphertextBlob    []byte            `json:"ciphertextBlob"`
	EncryptionContext map[string]string `json:"encryptionContext,omitempty"`
	CreatedAt         time.Time         `json:"createdAt"`
}

// secretRecord is a core.GenericSecret.
type secretRecord struct {
	Name        string            `json:"name"`
	Description string            `json:"description,omitempty"`
	KeyID       string            `json:"keyId"`
	Creator     string            `json:"creator,omitempty"`
	CreatedAt   time.Time         `json:"createdAt"`
	UpdatedAt   time.Time         `json:"updatedAt"`
	DeleteAt    time.Time         `json:"deleteAt,omitzero"`
	Tags        map[string]string `json:"tags,omitempty"`
	Stages      map[string]string `json:"stages,omitempty"`
	Revision    int64             `json:"revision"`
	Policy      string            `json:"policy,omitempty"`
}

// toSecretRecord copies field by field: the versions are not part of it
// (EncodeVersions). The records test sets every field, so one missed here
// fails it.
func toSecretRecord(s core.GenericSecret) secretRecord {
	return secretRecord{
		Name: s.Name, Description: s.Description, KeyID: s.KeyID, Creator: s.Creator,
		CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt, DeleteAt: s.DeleteAt,
		Tags: s.Tags, Stages: s.Stages, Revision: s.Revision, Policy: s.Policy,
	}
}

func (r secretRecord) secret() core.GenericSecret {
	return core.GenericSecret{
		Name: r.Name, Description: r.Description, KeyID: r.KeyID, Creator: r.Creator,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, DeleteAt: r.DeleteAt,
		Tags: r.Tags, Stages: r.Stages, Revision: r.Revision, Policy: r.Policy,
	}
}

// grantRecord is a core.Grant. Nil and empty are told apart (omitzero, not
// omitempty): an empty Equals constraint admits only an empty context,
// where none admits any.
type grantRecord struct {
	ID                      string            `json:"id"`
	KeyID                   string            `json:"keyId"`
	KeyCreated              int64             `json:"keyCreated"`
	Name                    string            `json:"name,omitempty"`
	Grantee                 string            `json:"grantee"`
	GranteeName             string            `json:"granteeName"`
	Retiring                string            `json:"retiring,omitempty"`
	RetiringName            string            `json:"retiringName,omitempty"`
	Operations              []string          `json:"operations,omitzero"`
	EncryptionContextEquals map[string]string `json:"encryptionContextEquals,omitzero"`
	EncryptionContextSubset map[string]string `json:"encryptionContextSubset,omitzero"`
	Issuer                  string            `json:"issuer,omitempty"`
	CreatedAt               time.Time         `json:"createdAt"`
}

// toGrantRecord copies field by field, the constraints flattened; the
// records test sets every field, so one missed here fails it.
func toGrantRecord(g core.Grant) grantRecord {
	return grantRecord{
		ID: g.ID, KeyID: g.KeyID, KeyCreated: g.KeyCreated, Name: g.Name,
		Grantee: g.Grantee, GranteeName: g.GranteeName, Retiring: g.Retiring, RetiringName: g.RetiringName,
		Operations: g.Operations, EncryptionContextEquals: g.Constraints.Equals, EncryptionContextSubset: g.Constraints.Subset,
		Issuer: g.Issuer, CreatedAt: g.CreatedAt.UTC(),
	}
}

// grant is the record's grant. The stores find grants by key and grant ID:
// a record without them (JSON null, say) is damage, not a grant.
func (r grantRecord) grant() (core.Grant, error) {
	if r.ID == "" || r.KeyID == "" {
		return core.Grant{}, errors.New("records: grant record without its key or grant ID")
	}
	return core.Grant{
		ID: r.ID, KeyID: r.KeyID, KeyCreated: r.KeyCreated, Name: r.Name,
		Grantee: r.Grantee, GranteeName: r.GranteeName, Retiring: r.Retiring, RetiringName: r.RetiringName,
		Operations: r.Operations, Issuer: r.Issuer, CreatedAt: r.CreatedAt.UTC(),
		Constraints: core.GrantConstraints{Equals: r.EncryptionContextEquals, Subset: r.EncryptionContextSubset},
	}, nil
}

// certificateRecord is a core.Certificate. Its fields match core's one for
// one, so the conversions are Go conversions and a field added to the model
// and not here fails to compile. Certificate is omitted while nil: a
// PENDING certificate has none.
type certificateRecord struct {
	ID                      string            `json:"id"`
	KeySpec                 string            `json:"keySpec"`
	Subject                 string            `json:"subject"`
	SubjectAlternativeNames []string          `json:"subjectAlternativeNames,omitempty"`
	Exportable              bool              `json:"exportable,omitempty"`
	Status                  string            `json:"status"`
	Creator                 string            `json:"creator,omitempty"`
	CreatedAt               time.Time         `json:"createdAt"`
	UpdatedAt               time.Time         `json:"updatedAt"`
	Tags                    map[string]string `json:"tags,omitempty"`
	PrivateKey              []byte            `json:"privateKey"`
	RootKeyID               string            `json:"rootKeyId,omitempty"`
	CSR                     []byte            `json:"csr"`
	Certificate             []byte            `json:"certificate,omitempty"`
	Chain                   [][]byte          `json:"chain,omitempty"`
	Revision                int64             `json:"revision"`
}

// keyUsageRecord is a core.KeyUsage, converted as certificateRecord is.
type keyUsageRecord struct {
	Action    string    `json:"action"`
	At        time.Time `json:"at"`
	RequestID string    `json:"requestId"`
}

// Encode is the JSON record of a key, version, alias, partition, secret
// (without its versions, which EncodeVersions writes), grant, certificate or
// key usage.
func Encode(v any) ([]byte, error) {
	switch v := v.(type) {
	case core.Key:
		return json.Marshal(keyRecord(v))
	case core.KeyVersion:
		return json.Marshal(versionRecord(v))
	case core.Alias:
		return json.Marshal(aliasRecord(v))
	case core.Partition:
		return json.Marshal(partitionRecord(v))
	case core.GenericSecret:
		return json.Marshal(toSecretRecord(v))
	case core.Grant:
		return json.Marshal(toGrantRecord(v))
	case core.Certificate:
		return json.Marshal(certificateRecord(v))
	case core.KeyUsage:
		return json.Marshal(keyUsageRecord(v))
	}
	return nil, fmt.Errorf("records: no record for %T", v)
}

// Decode reads a record into the model value it holds.
func Decode[T core.Key | core.KeyVersion | core.Alias | core.Partition | core.GenericSecret | core.Grant | core.Certificate | core.KeyUsage](data []byte) (T, error) {
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
	case *core.GenericSecret:
		var r secretRecord
		err = json.Unmarshal(data, &r)
		*p = r.secret()
	case *core.Grant:
		var r grantRecord
		if err = json.Unmarshal(data, &r); err == nil {
			*p, err = r.grant()
		}
	case *core.Certificate:
		var r certificateRecord
		err = json.Unmarshal(data, &r)
		*p = core.Certificate(r)
	case *core.KeyUsage:
		var r keyUsageRecord
		err = json.Unmarshal(data, &r)
		*p = core.KeyUsage(r)
	}
	return v, err
}
