package core

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"time"
	"unicode/utf8"
)

// PartitionContextKey is the encryption-context key that binds a partition's data
// key to the partition: every partition's context holds {"PartitionId": id}, so
// a ciphertext copied to another partition's record fails to decrypt.
const PartitionContextKey = "PartitionId"

// MaxPartitionIDLen is the longest partition ID accepted.
const MaxPartitionIDLen = 128

// partitionDataKeySize is the size of a partition's data key: an AES-256 key.
const partitionDataKeySize = 32

// provisionAction is the action provisioning runs as. Minting a partition's key
// is exactly a GenerateDataKeyWithoutPlaintext whose result is kept, so the
// provisioner's policy names only that action, as the trust split of the design
// asks, rather than a second permission that would have to be granted alongside.
const provisionAction = "GenerateDataKeyWithoutPlaintext"

// PartitionRequest asks for a partition's data key: one partition-created event.
type PartitionRequest struct {
	PartitionID string
	// KeyID names the CMK (key ID, alias/… or ARN) that seals the data key.
	KeyID string
	// EncryptionContext is merged with {"PartitionId": PartitionID}; it may
	// repeat that pair but not give PartitionId another value.
	EncryptionContext EncryptionContext
	// RequestID names the request where the key's use is recorded; "": a
	// new ID.
	RequestID string
}

// ValidPartitionID reports whether id is a partition ID: 1 to 128 ASCII letters,
// digits and "-", "_", ".". The set keeps IDs safe inside a resource ARN and in
// log lines, and without "/" or ":" no policy pattern written for keys or
// aliases ("…:key/*") can match a partition's ARN.
func ValidPartitionID(id string) bool {
	return validLabel(id, MaxPartitionIDLen, "-_.")
}

func checkPartitionID(param, id string) error {
	if id == "" {
		return missingParam(param)
	}
	if !ValidPartitionID(id) {
		return invalidParam(param, "it must be 1 to %d letters, digits, -, _ or .", MaxPartitionIDLen)
	}
	return nil
}

// partitionContext merges the default context {"PartitionId": id} with given and
// checks that the result still fits the EncryptionContext limit, since consumers
// pass it back to Decrypt.
func partitionContext(id string, given EncryptionContext) (EncryptionContext, error) {
	if v, ok := given[PartitionContextKey]; ok && v != id {
		return nil, invalidParam("EncryptionContext", "its %s must equal the partition's ID", PartitionContextKey)
	}
	merged := given.Merge(EncryptionContext{PartitionContextKey: id})
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(map[string]string(merged)); err != nil {
		return nil, internal("encode context: %w", err)
	}
	if utf8.RuneCount(bytes.TrimSpace(buf.Bytes())) > MaxEncryptionContextLen {
		return nil, invalidParam("EncryptionContext", "with %s added it is longer than %d characters", PartitionContextKey, MaxEncryptionContextLen)
	}
	return merged, nil
}

// ProvisionPartition returns the data-key record of a partition, minting it if
// the partition has none: exactly one key per partition, however often and
// however concurrently the same event is delivered. created reports whether this
// call stored the record.
//
// The caller needs kms:GenerateDataKeyWithoutPlaintext on the key, and each call
// counts against the caller's QPS like any request. The plaintext data key is
// zeroed here: the caller gets only the ciphertext. Errors are *Error.
func (s *Service) ProvisionPartition(ctx context.Context, caller *Principal, req PartitionRequest) (p Partition, created bool, err error) {
	if s.partitions == nil {
		return Partition{}, false, internal("no partition store is configured")
	}
	// Minting a partition's key is a GenerateDataKeyWithoutPlaintext whose
	// result is kept: it enters as one, admitted and authorized alike.
	_, c, err := s.begin(ctx, &Request{ID: cmp.Or(req.RequestID, NewRequestID()), Action: provisionAction, Params: Params{"KeyId": req.KeyID}, Caller: caller})
	if err != nil {
		return Partition{}, false, err
	}
	if err := checkPartitionID("PartitionId", req.PartitionID); err != nil {
		return Partition{}, false, err
	}
	ectx, err := partitionContext(req.PartitionID, req.EncryptionContext)
	if err != nil {
		return Partition{}, false, err
	}
	c.facts.Context = ectx
	t, err := c.resolve("KeyId")
	if err != nil {
		return Partition{}, false, err
	}
	// A redelivered event finds the record and mints nothing.
	existing, err := s.partitions.GetPartition(ctx, req.PartitionID)
	switch {
	case err == nil:
		return existing, false, nil
	case !errors.Is(err, ErrNotFound):
		return Partition{}, false, storeErr(err)
	}
	if err := usable(&t.key); err != nil {
		return Partition{}, false, err
	}
	if err := encrypts(&t.key); err != nil {
		return Partition{}, false, err
	}
	res, err := c.sealRandom(&t.key, ectx, partitionDataKeySize)
	if err != nil {
		return Partition{}, false, err
	}
	rec := Partition{
		ID: req.PartitionID, KeyID: res.KeyID, KeyVersionID: res.VersionID, CiphertextBlob: res.Blob,
		EncryptionContext: ectx, CreatedAt: s.clock.Now().UTC().Truncate(time.Second),
	}
	// Concurrent deliveries may all have missed above; the conditional create
	// keeps the first record and hands it to the others, whose freshly sealed
	// blobs are dropped unstored and unreturned.
	stored, created, err := s.partitions.CreatePartition(ctx, rec)
	if err != nil {
		return Partition{}, false, storeErr(err)
	}
	if created {
		s.recordUses(ctx, c)
	}
	return stored, created, nil
}

// getPartitionDataKey returns a partition's record for a data-plane producer or
// consumer, who then Decrypts the blob. Needs kms:GetPartitionDataKey on the
// partition's ARN.
func (c *call) getPartitionDataKey() (any, error) {
	id := c.str("PartitionId")
	if err := checkPartitionID("PartitionId", id); err != nil {
		return nil, err
	}
	if err := c.authorize(c.s.PartitionARN(id)); err != nil {
		return nil, err
	}
	if c.s.partitions == nil {
		return nil, internal("no partition store is configured")
	}
	p, err := c.s.partitions.GetPartition(c.ctx, id)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, Errorf(CodePartitionNotFound, "The partition %q has no data key.", id)
		}
		return nil, storeErr(err)
	}
	return p, nil
}
