package core

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// EnsureAlias makes sure the alias name exists, creating a new key (with its
// first version) and the alias when it does not, and returns the key it names.
// created reports whether this call made them. It is the start-up step that
// lets a deployment's first event find its key. An alias whose key is past its
// deletion date does not exist: that key is purged and a new one made.
//
// Concurrent cold starts may all find the alias absent: each makes a key, one
// alias create wins, and every loser deletes its unused key (which never
// wrapped anything) and answers with the winner's.
func (s *Service) EnsureAlias(ctx context.Context, name, description string) (keyID string, created bool, err error) {
	if err := validAliasName("alias", name); err != nil {
		return "", false, err
	}
	a, err := s.liveAlias(ctx, name)
	if err == nil {
		return a.KeyID, false, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return "", false, fmt.Errorf("look up %s: %w", name, err)
	}
	now := s.clock.Now().UTC().Truncate(time.Second)
	k := Key{
		ID: newKeyID(), Description: description, KeySpec: "Aliyun_AES_256", KeyUsage: "ENCRYPT/DECRYPT",
		Origin: "Aliyun_KMS", ProtectionLevel: "SOFTWARE", Creator: s.account, State: KeyEnabled,
		CreatedAt: now, PrimaryVersionID: newVersionID(), LastRotatedAt: now, Revision: 1,
	}
	v, err := s.root.newVersion(s.rand, k.ID, k.PrimaryVersionID, now, KeyMaterialSize)
	if err != nil {
		return "", false, fmt.Errorf("new key version: %w", err)
	}
	if err := s.store.CreateKey(ctx, k, v); err != nil {
		return "", false, fmt.Errorf("create the key for %s: %w", name, err)
	}
	err = s.store.CreateAlias(ctx, Alias{Name: name, KeyID: k.ID, CreatedAt: now, UpdatedAt: now})
	if err == nil {
		s.aliasChanged(ctx, name, k.ID)
		return k.ID, true, nil
	}
	if !errors.Is(err, ErrExists) {
		return "", false, fmt.Errorf("create %s: %w", name, err)
	}
	// Another instance won the alias: ours is an unused key.
	if err := s.store.DeleteKey(ctx, k.ID, k.Revision); err != nil && !errors.Is(err, ErrNotFound) {
		return "", false, fmt.Errorf("delete the unused key %s: %w", k.ID, err)
	}
	a, err = s.liveAlias(ctx, name)
	if err != nil {
		return "", false, fmt.Errorf("look up %s: %w", name, err)
	}
	return a.KeyID, false, nil
}

// AliasOf returns the alias a KeyId spelling names ("alias/x", or its ARN in
// this region and account), and false for a key ID or key ARN.
func (s *Service) AliasOf(ref string) (string, bool) {
	if rest, ok := strings.CutPrefix(ref, s.arnPrefix); ok {
		ref = rest
	}
	if strings.HasPrefix(ref, "alias/") {
		return ref, true
	}
	return "", false
}
