package core

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"
)

// action is one entry of the action table.
type action struct {
	run func(*call) (any, error)
	// dryRun marks actions that take the DryRun parameter.
	dryRun bool
	// ram is the action's name in policies ("kms:Encrypt"), made once here
	// rather than on every request.
	ram string
	// id is the action's index in ramActions, by which a compiled policy
	// answers for it without a lookup by name.
	id actionID
	// algorithm is the algorithm of the actions that seal or open under a
	// symmetric key's envelope, SYMMETRIC_DEFAULT, as kms:EncryptionAlgorithm
	// reads it; the others name theirs as they read it.
	algorithm *Algorithm
	// usesKey marks the cryptographic actions: a successful request is a
	// use of each key it authorizes (GetKeyLastUsage).
	usesKey bool
}

// actionTable maps each action name to its handler. Filled in init to break the
// initialization cycle through call.run.
var actionTable map[string]action

func init() {
	actionTable = map[string]action{
		"CreateKey":            {run: (*call).createKey},
		"DescribeKey":          {run: (*call).describeKey},
		"ListKeys":             {run: (*call).listKeys},
		"EnableKey":            {run: (*call).enableKey},
		"DisableKey":           {run: (*call).disableKey},
		"ScheduleKeyDeletion":  {run: (*call).scheduleKeyDeletion},
		"CancelKeyDeletion":    {run: (*call).cancelKeyDeletion},
		"UpdateKeyDescription": {run: (*call).updateKeyDescription},
		"UpdateRotationPolicy": {run: (*call).updateRotationPolicy},
		"CreateKeyVersion":     {run: (*call).createKeyVersion},
		"ListKeyVersions":      {run: (*call).listKeyVersions},
		"DescribeKeyVersion":   {run: (*call).describeKeyVersion},
		"CreateAlias":          {run: (*call).createAlias},
		"UpdateAlias":          {run: (*call).updateAlias},
		"DeleteAlias":          {run: (*call).deleteAlias},
		"ListAliases":          {run: (*call).listAliases},
		"ListAliasesByKeyId":   {run: (*call).listAliasesByKeyID},
		"EnableKeyRotation":    {run: (*call).enableKeyRotation},
		"DisableKeyRotation":   {run: (*call).disableKeyRotation},
		"GetKeyRotationStatus": {run: (*call).getKeyRotationStatus},
		"RotateKeyOnDemand":    {run: (*call).rotateKeyOnDemand},
		"ListKeyRotations":     {run: (*call).listKeyRotations},
		"GetKeyPolicy":         {run: (*call).getKeyPolicy},
		"GetKeyLastUsage":      {run: (*call).getKeyLastUsage},
		"ListKeyPolicies":      {run: (*call).listKeyPolicies},
		"SetKeyPolicy":         {run: (*call).setKeyPolicy},
		"GenerateRandom":       {run: (*call).generateRandom},

		"GetParametersForImport": {run: (*call).getParametersForImport},
		"ImportKeyMaterial":      {run: (*call).importKeyMaterial},
		"DeleteKeyMaterial":      {run: (*call).deleteKeyMaterial},

		"TagResource":              {run: (*call).tagResource},
		"TagResources":             {run: (*call).tagResources},
		"UntagResource":            {run: (*call).untagResource},
		"UntagResources":           {run: (*call).untagResources},
		"ListResourceTags":         {run: (*call).listResourceTags},
		"ListTagResources":         {run: (*call).listTagResources},
		"SetDeletionProtection":    {run: (*call).setDeletionProtection},
		"DescribeRegions":          {run: (*call).describeRegions},
		"DescribeAccountKmsStatus": {run: (*call).describeAccountKmsStatus},
		"OpenKmsService":           {run: (*call).openKmsService},

		"CreateSecret":               {run: (*call).createSecret},
		"GetSecretValue":             {run: (*call).getSecretValue, dryRun: true},
		"PutSecretValue":             {run: (*call).putSecretValue},
		"DescribeSecret":             {run: (*call).describeSecret},
		"UpdateSecret":               {run: (*call).updateSecret},
		"DeleteSecret":               {run: (*call).deleteSecret},
		"RestoreSecret":              {run: (*call).restoreSecret},
		"ListSecrets":                {run: (*call).listSecrets},
		"ListSecretVersionIds":       {run: (*call).listSecretVersionIds},
		"UpdateSecretVersionStage":   {run: (*call).updateSecretVersionStage},
		"GetSecretPolicy":            {run: (*call).getSecretPolicy},
		"SetSecretPolicy":            {run: (*call).setSecretPolicy},
		"GetRandomPassword":          {run: (*call).getRandomPassword},
		"RotateSecret":               {run: (*call).rotateSecret},
		"UpdateSecretRotationPolicy": {run: (*call).updateSecretRotationPolicy},

		"ListKmsInstances":         {run: (*call).listKmsInstances},
		"GetKmsInstance":           {run: (*call).noKmsInstance},
		"ConnectKmsInstance":       {run: (*call).noKmsInstance},
		"UpdateKmsInstanceBindVpc": {run: (*call).noKmsInstance},

		"DescribeCustomKeyStores":  {run: (*call).describeCustomKeyStores},
		"CreateCustomKeyStore":     {run: (*call).createCustomKeyStore},
		"ConnectCustomKeyStore":    {run: (*call).noCustomKeyStoreAction},
		"DisconnectCustomKeyStore": {run: (*call).noCustomKeyStoreAction},
		"UpdateCustomKeyStore":     {run: (*call).noCustomKeyStoreAction},
		"DeleteCustomKeyStore":     {run: (*call).noCustomKeyStoreAction},
		"ReplicateKey":             {run: (*call).replicateKey},
		"UpdatePrimaryRegion":      {run: (*call).updatePrimaryRegion},

		"CreateCertificate":            {run: (*call).createCertificate},
		"UploadCertificate":            {run: (*call).uploadCertificate},
		"GetCertificate":               {run: (*call).getCertificate},
		"DescribeCertificate":          {run: (*call).describeCertificate},
		"UpdateCertificateStatus":      {run: (*call).updateCertificateStatus},
		"DeleteCertificate":            {run: (*call).deleteCertificate},
		"CertificatePrivateKeySign":    {run: (*call).certificatePrivateKeySign},
		"CertificatePublicKeyVerify":   {run: (*call).certificatePublicKeyVerify},
		"CertificatePublicKeyEncrypt":  {run: (*call).certificatePublicKeyEncrypt},
		"CertificatePrivateKeyDecrypt": {run: (*call).certificatePrivateKeyDecrypt},

		"CreateNetworkRule":              {run: (*call).createNetworkRule},
		"DescribeNetworkRule":            {run: (*call).describeNetworkRule},
		"ListNetworkRules":               {run: (*call).listNetworkRules},
		"UpdateNetworkRule":              {run: (*call).updateNetworkRule},
		"DeleteNetworkRule":              {run: (*call).deleteNetworkRule},
		"CreatePolicy":                   {run: (*call).createAccessPolicy},
		"DescribePolicy":                 {run: (*call).describeAccessPolicy},
		"ListPolicies":                   {run: (*call).listAccessPolicies},
		"UpdatePolicy":                   {run: (*call).updateAccessPolicy},
		"DeletePolicy":                   {run: (*call).deleteAccessPolicy},
		"CreateApplicationAccessPoint":   {run: (*call).createAccessPoint},
		"DescribeApplicationAccessPoint": {run: (*call).describeAccessPoint},
		"ListApplicationAccessPoints":    {run: (*call).listAccessPoints},
		"UpdateApplicationAccessPoint":   {run: (*call).updateAccessPoint},
		"DeleteApplicationAccessPoint":   {run: (*call).deleteAccessPoint},
		"CreateClientKey":                {run: (*call).createClientKey},
		"GetClientKey":                   {run: (*call).getClientKey},
		"ListClientKeys":                 {run: (*call).listClientKeys},
		"DeleteClientKey":                {run: (*call).deleteClientKey},

		"CreateGrant":         {run: (*call).createGrant, dryRun: true},
		"ListGrants":          {run: (*call).listGrants},
		"ListRetirableGrants": {run: (*call).listRetirableGrants},
		"RetireGrant":         {run: (*call).retireGrant, dryRun: true},
		"RevokeGrant":         {run: (*call).revokeGrant, dryRun: true},

		"GenerateDataKeyWithoutPlaintext":     {run: (*call).generateDataKeyWithoutPlaintext, dryRun: true, algorithm: &symmetricDefault, usesKey: true},
		"GenerateDataKey":                     {run: (*call).generateDataKey, dryRun: true, algorithm: &symmetricDefault, usesKey: true},
		"Encrypt":                             {run: (*call).encrypt, dryRun: true, algorithm: &symmetricDefault, usesKey: true},
		"Decrypt":                             {run: (*call).decrypt, dryRun: true, algorithm: &symmetricDefault, usesKey: true},
		"ReEncrypt":                           {run: (*call).reEncrypt, dryRun: true, algorithm: &symmetricDefault, usesKey: true},
		"ExportDataKey":                       {run: (*call).exportDataKey, dryRun: true, algorithm: &symmetricDefault, usesKey: true},
		"GenerateAndExportDataKey":            {run: (*call).generateAndExportDataKey, dryRun: true, algorithm: &symmetricDefault, usesKey: true},
		"GenerateDataKeyPair":                 {run: (*call).generateDataKeyPair, dryRun: true, algorithm: &symmetricDefault, usesKey: true},
		"GenerateDataKeyPairWithoutPlaintext": {run: (*call).generateDataKeyPairWithoutPlaintext, dryRun: true, algorithm: &symmetricDefault, usesKey: true},
		"GetPartitionDataKey":                 {run: (*call).getPartitionDataKey, algorithm: &symmetricDefault},
		"GenerateMac":                         {run: (*call).generateMac, dryRun: true, usesKey: true},
		"VerifyMac":                           {run: (*call).verifyMac, dryRun: true, usesKey: true},
		"GetPublicKey":                        {run: (*call).getPublicKey, dryRun: true},
		"AsymmetricSign":                      {run: (*call).asymmetricSign, dryRun: true, usesKey: true},
		"AsymmetricVerify":                    {run: (*call).asymmetricVerify, dryRun: true, usesKey: true},
		"AsymmetricEncrypt":                   {run: (*call).asymmetricEncrypt, dryRun: true, usesKey: true},
		"AsymmetricDecrypt":                   {run: (*call).asymmetricDecrypt, dryRun: true, usesKey: true},
		"DeriveSharedSecret":                  {run: (*call).deriveSharedSecret, dryRun: true, usesKey: true},
		"Encapsulate":                         {run: (*call).encapsulate, dryRun: true, usesKey: true},
		"Decapsulate":                         {run: (*call).decapsulate, dryRun: true, usesKey: true},
	}
	names := slices.Sorted(maps.Keys(actionTable))
	actionIDs = make(map[string]actionID, len(names))
	grantOpOf = make(map[actionID]string, len(actionGrantOps))
	for i, name := range names {
		a := actionTable[name]
		a.ram, a.id = "kms:"+name, actionID(i)
		actionTable[name] = a
		ramActions = append(ramActions, a.ram)
		actionUsesKey = append(actionUsesKey, a.usesKey)
		actionIDs[a.ram] = a.id
		if op, ok := actionGrantOps[name]; ok {
			grantOpOf[a.id] = op
		}
	}
	if len(grantOpOf) != len(actionGrantOps) {
		panic("core: actionGrantOps names an action the table lacks")
	}
	onResource = resourceActions()
}

// ramActions lists the policy names of the actions, which a compiled policy
// answers for ahead of requests; actionIDs indexes it by name.
var (
	ramActions []string
	actionIDs  map[string]actionID
	// actionUsesKey is each action's usesKey, by actionID.
	actionUsesKey []bool
)

// actionID is an action's index in ramActions.
type actionID int

// idOf is the ID of action, named as policies name it ("kms:Encrypt"). A
// name the table lacks is a mistake in this package, not a request's: a
// plain lookup would answer action 0 for it and authorize the wrong action.
func idOf(action string) actionID {
	id, ok := actionIDs[action]
	if !ok {
		panic("core: no action " + action)
	}
	return id
}

// Actions lists the action names the service answers, in sorted order.
func Actions() []string {
	return slices.Sorted(maps.Keys(actionTable))
}

// CollectionARN is the resource of actions on no particular key or alias:
// CreateKey and ListKeys ("key"), ListAliases ("alias").
func (s *Service) CollectionARN(kind string) string { return s.arnPrefix + kind }

func (c *call) createKey() (any, error) {
	s := c.s
	desc, err := c.description("Description")
	if err != nil {
		return nil, err
	}
	// An asymmetric spec may be named as Alibaba names it.
	spec := cmp.Or(alibabaSpecs[c.str("KeySpec")], c.str("KeySpec"), SpecAES)
	if !slices.Contains(KeySpecs(), spec) {
		return nil, invalidParam("KeySpec", "this service supports only %v", KeySpecs())
	}
	usage, err := c.keyUsage(spec)
	if err != nil {
		return nil, err
	}
	asymmetric := asymmetricSpecs[spec]
	origin, err := oneOf(c, "Origin", "Aliyun_KMS", "Aliyun_KMS", OriginExternal)
	if err != nil {
		return nil, err
	}
	level, err := oneOf(c, "ProtectionLevel", "SOFTWARE", "SOFTWARE")
	if err != nil {
		return nil, err
	}
	auto, err := c.bool("EnableAutomaticRotation", false)
	if err != nil {
		return nil, err
	}
	var interval = 365 * 24 * time.Hour
	if v := c.str("RotationInterval"); v != "" {
		if interval, err = parseInterval("RotationInterval", v); err != nil {
			return nil, err
		}
	}
	if auto && origin == OriginExternal {
		return nil, invalidParam("EnableAutomaticRotation", "a key of Origin EXTERNAL does not rotate")
	}
	if auto && !symmetricSpec(spec) {
		return nil, invalidParam("EnableAutomaticRotation", "a %s key does not rotate", spec)
	}
	tags, err := c.tagList("Tags")
	if err != nil {
		return nil, err
	}
	c.facts.setKind(spec, usage)
	if err := c.authorize(s.CollectionARN("key")); err != nil {
		return nil, err
	}
	if err := inNoInstance(c); err != nil {
		return nil, err
	}
	id := newKeyID()
	if len(tags) > 0 {
		// Tags given at creation tag the new key, as AWS documents for
		// CreateKey: a caller denied kms:TagResource must not set, this
		// way, the tags that kms:tag/… conditions read.
		if err := c.authorizeAlso("kms:TagResource", s.KeyARN(id)); err != nil {
			return nil, err
		}
	}
	now := s.clock.Now().UTC().Truncate(time.Second)
	k := Key{
		ID: id, Description: desc, KeySpec: spec, KeyUsage: usage, Origin: origin,
		ProtectionLevel: level, Creator: s.account, State: KeyEnabled, CreatedAt: now,
		PrimaryVersionID: newVersionID(), LastRotatedAt: now, Tags: tags, Revision: 1,
	}
	if auto {
		k.AutomaticRotation, k.RotationInterval = true, interval
	}
	if k.Policy = c.str("Policy"); k.Policy != "" {
		c.keyFacts(&k)
		if err := c.applyPolicy(&policyPut{what: "key", doc: k.Policy}, s.KeyARN(k.ID), ""); err != nil {
			return nil, err
		}
	}
	v := KeyVersion{KeyID: k.ID, VersionID: k.PrimaryVersionID, CreatedAt: now}
	switch {
	case origin == OriginExternal:
		// No material until it is imported.
		k.State = KeyPendingImport
	case asymmetric != nil:
		if v, err = c.newAsymmetricVersion(asymmetric, k.ID, k.PrimaryVersionID, now); err != nil {
			return nil, err
		}
	default:
		if v, err = s.root.newVersion(s.rand, k.ID, k.PrimaryVersionID, now, materialSize(spec)); err != nil {
			return nil, internal("new key version: %w", err)
		}
	}
	if err := s.store.CreateKey(c.ctx, k, v); err != nil {
		return nil, storeErr(err)
	}
	return k, nil
}

// usagesOf lists the usages keys of spec are made for, the default first:
// the one usage of a symmetric encryption, HMAC or Ed25519 key, an RSA
// key's, encryption (the default, as Alibaba has it) or signing, or a NIST
// curve key's, signing or key agreement.
func usagesOf(spec string) []string {
	switch s := asymmetricSpecs[spec]; {
	case s != nil && s.bits > 0:
		return []string{UsageEncrypt, UsageSign}
	case s != nil && s.curve != nil:
		return []string{UsageSign, UsageKeyAgreement}
	case s != nil && s.sm2:
		return []string{UsageEncrypt, UsageSign, UsageKeyAgreement}
	case s != nil && s.mlkem != nil:
		return []string{UsageEncapsulate}
	case s != nil:
		return []string{UsageSign}
	}
	if _, ok := macSpecOf(spec); ok {
		return []string{UsageMAC}
	}
	return []string{UsageEncrypt}
}

// keyUsage reads KeyUsage for a key of spec.
func (c *call) keyUsage(spec string) (string, error) {
	u := usagesOf(spec)
	return oneOf(c, "KeyUsage", u[0], u...)
}

// oneOf reads an optional parameter that must equal one of allowed (def when
// absent).
func oneOf(c *call, name, def string, allowed ...string) (string, error) {
	v := c.str(name)
	if v == "" {
		return def, nil
	}
	for _, a := range allowed {
		if v == a {
			return v, nil
		}
	}
	return "", invalidParam(name, "this service supports only %v", allowed)
}

func (c *call) describeKey() (any, error) {
	t, err := c.resolve("KeyId")
	if err != nil {
		return nil, err
	}
	return t.key, nil
}

// getKeyRotationStatus is DescribeKey for a key that can rotate: one with
// imported material has no rotation status, as AWS answers.
func (c *call) getKeyRotationStatus() (any, error) {
	t, err := c.resolve("KeyId")
	if err != nil {
		return nil, err
	}
	if err := rotates(&t.key); err != nil {
		return nil, err
	}
	return t.key, nil
}

func (c *call) listKeys() (any, error) {
	page, num, size, err := c.page()
	if err != nil {
		return nil, err
	}
	if c.req.KeysAfter != nil {
		return c.listKeysAfter(*c.req.KeysAfter, size)
	}
	filter, err := c.filter("Filters", keyFilters, `[{"Key":"KeyState","Values":["Enabled"]}]`)
	if err != nil {
		return nil, err
	}
	if err := c.authorize(c.s.CollectionARN("key")); err != nil {
		return nil, err
	}
	now := c.s.clock.Now()
	if filter != nil {
		keys, total, err := c.filteredKeys(now, filter, page)
		if err != nil {
			return nil, err
		}
		return Listing[Key]{Items: keys, Total: total, PageNumber: num, PageSize: size}, nil
	}
	// Unfiltered, the store pages the listing itself.
	keys, total, err := c.s.store.ListKeys(c.ctx, now, page)
	if err != nil {
		return nil, storeErr(err)
	}
	return Listing[Key]{Items: keys, Total: total, PageNumber: num, PageSize: size}, nil
}

// listKeysAfter is ListKeys by position (Request.KeysAfter): the size keys
// after the position, read with one more to tell whether a next page is
// due, so that a page costs what it lists and counts nothing. Filters are
// Alibaba's, whose ListKeys pages by number, and are not read here.
// SharedOnly asks for the keys other accounts share with the caller's
// alone (AWS's ResourceOwners of OTHER_ACCOUNTS_VIA_RAM): there are none.
func (c *call) listKeysAfter(after KeyPosition, size int) (any, error) {
	sharedOnly, err := c.bool("SharedOnly", false)
	if err != nil {
		return nil, err
	}
	if err := c.authorize(c.s.CollectionARN("key")); err != nil {
		return nil, err
	}
	if sharedOnly {
		// Keys other accounts share with the caller's: this service is
		// one account, and no other shares a key with it.
		return KeyPage{}, nil
	}
	keys, err := c.s.store.ListKeysAfter(c.ctx, c.s.clock.Now(), after, size+1)
	if err != nil {
		return nil, storeErr(err)
	}
	more := len(keys) > size
	return KeyPage{Items: keys[:min(len(keys), size)], More: more}, nil
}

// errUnchanged tells mutate that the key is already as asked.
var errUnchanged = errors.New("unchanged")

// mutate applies fn to the stored key with compare-and-set, retrying on a
// concurrent change, and invalidates the cache.
func (s *Service) mutate(ctx context.Context, id string, fn func(*Key) error) (Key, error) {
	for try := retries(ctx); try.again(); {
		k, err := s.readKey(ctx, id)
		if err != nil {
			if errors.Is(err, ErrConflict) {
				continue
			}
			return Key{}, keyErr(id, err)
		}
		if err := fn(&k); err != nil {
			if errors.Is(err, errUnchanged) {
				return k, nil
			}
			return Key{}, err
		}
		k.Revision++
		err = s.store.UpdateKey(ctx, k)
		if errors.Is(err, ErrConflict) {
			continue
		}
		if err != nil {
			return Key{}, keyErr(id, err)
		}
		s.cache.InvalidateKey(ctx, id)
		return k, nil
	}
	return Key{}, keyErr(id, ErrConflict)
}

// storedKey reads key id from the store. A key past its deletion date is
// destroyed there, with its versions and aliases, and reads as ErrNotFound:
// keys are purged lazily, by the changes that meet them, as no instance of a
// serverless deployment runs when nothing calls it. ErrConflict if the key
// kept changing.
func (s *Service) storedKey(ctx context.Context, id string) (Key, error) {
	for try := retries(ctx); try.again(); {
		k, err := s.readKey(ctx, id)
		if !errors.Is(err, ErrConflict) {
			return k, err
		}
	}
	return Key{}, fmt.Errorf("key %s: %w", id, ErrConflict)
}

// readKey is one attempt of storedKey, for loops that retry on ErrConflict
// themselves: one pace of attempts, not one inside another. The purge holds
// to the revision read, so it never destroys a key that another instance (one
// whose clock is behind) changed meanwhile, which is ErrConflict; instances
// racing to purge one key all find it gone.
func (s *Service) readKey(ctx context.Context, id string) (Key, error) {
	k, err := s.store.GetKey(ctx, id)
	if err != nil || !s.deleted(&k) {
		return k, err
	}
	err = s.store.DeleteKey(ctx, id, k.Revision)
	switch {
	case err == nil:
		s.destroyed(ctx, Destruction{Kind: DestroyedKey, ID: id, DeleteAt: k.DeleteAt})
		s.cache.InvalidateKey(ctx, id)
		return Key{}, fmt.Errorf("key %s: %w", id, errDestroyed)
	case errors.Is(err, ErrNotFound):
		s.cache.InvalidateKey(ctx, id)
		return Key{}, fmt.Errorf("key %s is past its deletion date: %w", id, ErrNotFound)
	}
	return Key{}, err
}

// errDestroyed is ErrNotFound for the one that destroyed a key past its
// deletion date, which Purge counts; another finds it gone.
var errDestroyed = fmt.Errorf("destroyed past its deletion date: %w", ErrNotFound)

// liveAlias reads alias name from the store. An alias of a key past its
// deletion date reads as ErrNotFound, and that key is destroyed (storedKey)
// with its aliases, so that the name is free to take.
func (s *Service) liveAlias(ctx context.Context, name string) (Alias, error) {
	for try := retries(ctx); try.again(); {
		a, err := s.store.GetAlias(ctx, name)
		if err != nil {
			return Alias{}, err
		}
		_, err = s.readKey(ctx, a.KeyID)
		if !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrConflict) {
			return a, err
		}
		// The purge took the alias with the key, unless the alias was
		// pointed at another key meanwhile, or the key changed while it
		// was being purged: read it again.
	}
	return Alias{}, fmt.Errorf("alias %s: %w", name, ErrConflict)
}

// keyErr is the answer to a store error met reading or changing key id.
func keyErr(id string, err error) error {
	switch {
	case errors.Is(err, ErrNotFound):
		return Errorf(CodeKeyNotFound, "The key %q does not exist.", id)
	case errors.Is(err, ErrConflict):
		return Errorf(CodeStateModifiedFailed, "The key %q is being changed by another request; retry.", id)
	}
	return storeErr(err)
}

func (c *call) changeKey(fn func(*Key) error) (any, error) {
	c.changes = true
	t, err := c.resolve("KeyId")
	if err != nil {
		return nil, err
	}
	k, err := c.s.mutate(c.ctx, t.key.ID, fn)
	if err != nil {
		return nil, err
	}
	return Changed{Key: k}, nil
}

func stateError(k *Key, want string) error {
	return Errorf(CodeStateModifiedFailed, "The key %q is %s; it cannot be %s.", k.ID, k.State, want)
}

// setState moves a key from one state to another; a key already in the target
// state is left as it is, and any other state is a wrong transition.
func (c *call) setState(from, to KeyState, verb string) (any, error) {
	return c.changeKey(func(k *Key) error {
		switch k.State {
		case to:
			return errUnchanged
		case from:
			k.State = to
			return nil
		}
		return stateError(k, verb)
	})
}

func (c *call) enableKey() (any, error)  { return c.setState(KeyDisabled, KeyEnabled, "enabled") }
func (c *call) disableKey() (any, error) { return c.setState(KeyEnabled, KeyDisabled, "disabled") }

// scheduleKeyDeletion takes Alibaba's window, 7 to 366 days and required, as
// the API metadata behind the official SDKs documents it; older reference
// pages said 7 to 30, a range this one contains. AWS's 7 to 30, default 30,
// is kept by its adapter.
func (c *call) scheduleKeyDeletion() (any, error) {
	days, ok, err := c.int("PendingWindowInDays", 7, 366)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, missingParam("PendingWindowInDays")
	}
	now := c.s.clock.Now().UTC().Truncate(time.Second)
	return c.changeKey(func(k *Key) error {
		if k.State == KeyPendingDeletion {
			return stateError(k, "scheduled for deletion again")
		}
		if k.DeletionProtection {
			return Errorf(CodeDeletionProtection, "The key %q has deletion protection on (%s); turn it off with SetDeletionProtection first.", k.ID, k.DeletionProtectionDescription)
		}
		k.State = KeyPendingDeletion
		k.DeleteAt = now.Add(time.Duration(days) * 24 * time.Hour)
		return nil
	})
}

// cancelKeyDeletion returns a key to Enabled, as Alibaba does, or to the
// RestoreState asked for: AWS leaves a recovered key Disabled.
func (c *call) cancelKeyDeletion() (any, error) {
	restore := KeyEnabled
	switch v := c.str("RestoreState"); v {
	case "", string(KeyEnabled):
	case string(KeyDisabled):
		restore = KeyDisabled
	default:
		return nil, invalidParam("RestoreState", "it must be Enabled or Disabled")
	}
	return c.changeKey(func(k *Key) error {
		if k.State != KeyPendingDeletion {
			return stateError(k, "taken out of deletion")
		}
		k.State = restore
		k.DeleteAt = time.Time{}
		if k.Origin == OriginExternal {
			// A key whose material was never imported, or was deleted,
			// goes back to waiting for it.
			v, err := c.s.store.GetVersion(c.ctx, k.ID, k.PrimaryVersionID)
			if err != nil {
				return storeErr(err)
			}
			if len(v.Wrapped) == 0 {
				k.State = KeyPendingImport
			}
		}
		return nil
	})
}

func (c *call) updateKeyDescription() (any, error) {
	desc, err := c.description("Description")
	if err != nil {
		return nil, err
	}
	return c.changeKey(func(k *Key) error {
		// Both key-state tables (Alibaba's and AWS's) refuse only a key
		// pending deletion; a disabled key or one awaiting its material
		// may be described.
		if k.State == KeyPendingDeletion {
			return Errorf(CodePendingDeletion, "The key %q is pending deletion.", k.ID)
		}
		k.Description = desc
		return nil
	})
}

func (c *call) updateRotationPolicy() (any, error) {
	v := c.str("EnableAutomaticRotation")
	if v == "" {
		return nil, missingParam("EnableAutomaticRotation")
	}
	enable, err := c.bool("EnableAutomaticRotation", false)
	if err != nil {
		return nil, err
	}
	return c.setRotation(enable, false)
}

// enableKeyRotation and disableKeyRotation are UpdateRotationPolicy under the
// names AWS gives them, each with its own policy action. AWS counts the first
// automatic rotation from the day rotation is enabled, where Alibaba counts
// it from the key's last rotation.
func (c *call) enableKeyRotation() (any, error)  { return c.setRotation(true, true) }
func (c *call) disableKeyRotation() (any, error) { return c.setRotation(false, false) }

// setRotation turns automatic rotation on, every RotationInterval (default
// 365 days), or off. Turned on, the schedule counts from the key's last
// rotation, or from now if fromNow; already on, it keeps counting from
// where it did, and only the interval changes. Either way the schedule is
// recorded in the key (RotationBase), so that NextRotationDate, in
// DescribeKey and GetKeyRotationStatus alike, is when rotation happens.
func (c *call) setRotation(enable, fromNow bool) (any, error) {
	interval := 365 * 24 * time.Hour
	if v := c.str("RotationInterval"); v != "" {
		var err error
		if interval, err = parseInterval("RotationInterval", v); err != nil {
			return nil, err
		}
	}
	return c.changeKey(func(k *Key) error {
		// Only an Enabled key's policy changes, on or off: Alibaba's
		// key-state table answers UpdateRotationPolicy with Rejected.Disabled,
		// Rejected.PendingDeletion or Rejected.PendingImport, and AWS's
		// refuses Enable/DisableKeyRotation on a disabled key
		// (DisabledException) or one pending deletion.
		if err := usable(k); err != nil {
			return err
		}
		if enable {
			if err := rotates(k); err != nil {
				return err
			}
		}
		switch {
		case !enable:
			// Nothing of the schedule is kept: turned on again, rotation
			// starts a schedule of its own.
			k.RotationInterval, k.RotationBase = 0, time.Time{}
		case !k.AutomaticRotation && fromNow:
			k.RotationBase = c.s.clock.Now().UTC().Truncate(time.Second)
		case !k.AutomaticRotation:
			k.RotationBase = time.Time{}
		}
		k.AutomaticRotation = enable
		if enable {
			k.RotationInterval = interval
		}
		return nil
	})
}

// rotate makes a new primary version. For an automatic rotation that loses a race
// to another instance, the other's result stands. A limited rotation on
// demand counts the key's versions at each try (onDemandLimit), so racing
// rotations never pass the quota: the version is added only if the key is
// still as counted.
func (s *Service) rotate(ctx context.Context, k Key, auto, limited bool) (Key, error) {
	for try := retries(ctx); try.again(); {
		if limited {
			vs, _, err := s.store.ListVersions(ctx, k.ID, Page{})
			if err != nil {
				return Key{}, storeErr(err)
			}
			if err := onDemandLimit(&k, vs); err != nil {
				return Key{}, err
			}
		}
		now := s.clock.Now().UTC().Truncate(time.Second)
		vid := newVersionID()
		v, err := s.root.newVersion(s.rand, k.ID, vid, now, materialSize(k.KeySpec))
		if err != nil {
			return Key{}, internal("new key version: %w", err)
		}
		v.RotationType = RotationOnDemand
		if auto {
			v.RotationType = RotationAutomatic
		}
		next := k
		next.PrimaryVersionID, next.LastRotatedAt = vid, now
		// An automatic rotation restarts the schedule from now. One on
		// demand does not move it, as AWS documents for RotateKeyOnDemand
		// and kmsless applies to CreateKeyVersion too; without a schedule
		// there is nothing to keep.
		next.RotationBase = time.Time{}
		if !auto && k.AutomaticRotation {
			next.RotationBase = k.rotationBase()
		}
		next.Revision++
		err = s.store.AddVersion(ctx, next, v)
		if err == nil {
			s.cache.InvalidateKey(ctx, k.ID)
			return next, nil
		}
		if !errors.Is(err, ErrConflict) {
			return Key{}, storeErr(err)
		}
		if k, err = s.store.GetKey(ctx, k.ID); err != nil {
			return Key{}, storeErr(err)
		}
		s.cache.InvalidateKey(ctx, k.ID)
		if auto && s.clock.Now().Before(k.NextRotation()) {
			return k, nil
		}
	}
	return Key{}, Errorf(CodeStateModifiedFailed, "The key %q is being changed by another request; retry.", k.ID)
}

// maxOnDemandRotations is the most rotations on demand AWS allows a key, a
// quota it does not adjust. Alibaba's CreateKeyVersion has no such bound,
// but the versions it makes count towards it.
const maxOnDemandRotations = 25

// onDemandLimit refuses RotateKeyOnDemand on a key that vs, its versions,
// show rotated on demand maxOnDemandRotations times.
func onDemandLimit(k *Key, vs []KeyVersion) error {
	n := 0
	for i := range vs {
		if vs[i].RotationType == RotationOnDemand {
			n++
		}
	}
	if n >= maxOnDemandRotations {
		return Errorf(CodeLimitExceeded, "The key %s has been rotated on demand %d times, the most a key may be.", k.ID, n)
	}
	return nil
}

func (c *call) createKeyVersion() (any, error) { return c.newKeyVersion(false) }

func (c *call) rotateKeyOnDemand() (any, error) { return c.newKeyVersion(true) }

// newKeyVersion rotates a key on demand, within maxOnDemandRotations if
// limited.
func (c *call) newKeyVersion(limited bool) (any, error) {
	t, err := c.resolve("KeyId")
	if err != nil {
		return nil, err
	}
	if err := usable(&t.key); err != nil {
		return nil, err
	}
	if t.key.Origin == OriginExternal && symmetric(&t.key) {
		return c.rotateImported(t.key, limited)
	}
	if err := rotates(&t.key); err != nil {
		return nil, err
	}
	k, err := c.s.rotate(c.ctx, t.key, false, limited)
	if err != nil {
		return nil, err
	}
	return KeyVersion{KeyID: k.ID, VersionID: k.PrimaryVersionID, CreatedAt: k.LastRotatedAt}, nil
}

func (c *call) listKeyVersions() (any, error) {
	page, num, size, err := c.page()
	if err != nil {
		return nil, err
	}
	t, err := c.resolve("KeyId")
	if err != nil {
		return nil, err
	}
	vs, total, err := c.listedVersions(&t.key, page, true, false)
	if err != nil {
		return nil, err
	}
	for i := range vs {
		vs[i].Wrapped, vs[i].Digest = nil, nil
	}
	return Listing[KeyVersion]{Items: vs, Total: total, PageNumber: num, PageSize: size}, nil
}

// listedVersions pages k's versions, oldest first, as listings show them:
// from the second unless first, an EXTERNAL key's material pending
// rotation only when pending, and material withdrawn before its rotation
// never. An EXTERNAL key's versions are all read (a handful: each came
// from an import) and paged here, since which are listed depends on them.
func (c *call) listedVersions(k *Key, page Page, first, pending bool) ([]KeyVersion, int, error) {
	skip := 1
	if first {
		skip = 0
	}
	if k.Origin != OriginExternal {
		page.Offset += skip
		vs, total, err := c.s.store.ListVersions(c.ctx, k.ID, page)
		if err != nil {
			return nil, 0, storeErr(err)
		}
		return vs, max(total-skip, 0), nil
	}
	all, _, err := c.materials(k)
	if err != nil {
		return nil, 0, err
	}
	vs := all[:0]
	for i, v := range all {
		if i >= skip && v.RotationType != RotationWithdrawn && (pending || v.RotationType != RotationPending) {
			vs = append(vs, v)
		}
	}
	return pageItems(vs, page), len(vs), nil
}

// listKeyRotations lists the versions rotations made, oldest first: every
// version but the first, which the key was made with, and but an EXTERNAL
// key's material pending rotation, unless AllKeyMaterial asks for those too.
func (c *call) listKeyRotations() (any, error) {
	page, num, size, err := c.page()
	if err != nil {
		return nil, err
	}
	all, err := c.bool("AllKeyMaterial", false)
	if err != nil {
		return nil, err
	}
	t, err := c.resolve("KeyId")
	if err != nil {
		return nil, err
	}
	k := &t.key
	vs, total, err := c.listedVersions(k, page, all, all)
	if err != nil {
		return nil, err
	}
	items := make([]Rotation, len(vs))
	now := c.s.clock.Now()
	for i, v := range vs {
		r := Rotation{KeyVersion: v, First: all && page.Offset+i == 0, Current: v.VersionID == k.PrimaryVersionID}
		if k.Origin == OriginExternal {
			r.External = true
			r.Imported = len(v.Wrapped) > 0 && (r.ExpireAt.IsZero() || now.Before(r.ExpireAt))
			if !r.Imported {
				r.ExpireAt = time.Time{}
			}
		}
		r.Wrapped, r.Digest = nil, nil
		items[i] = r
	}
	return Listing[Rotation]{Items: items, Total: total, PageNumber: num, PageSize: size}, nil
}

func (c *call) describeKeyVersion() (any, error) {
	vid, err := c.required("KeyVersionId")
	if err != nil {
		return nil, err
	}
	t, err := c.resolve("KeyId")
	if err != nil {
		return nil, err
	}
	v, err := c.s.store.GetVersion(c.ctx, t.key.ID, vid)
	if errors.Is(err, ErrNotFound) || err == nil && (v.RotationType == RotationPending || v.RotationType == RotationWithdrawn) {
		// Material pending rotation is no version until the rotation.
		return nil, Errorf(CodeKeyNotFound, "The key %q has no version %q.", t.key.ID, ClipText(vid))
	}
	if err != nil {
		return nil, storeErr(err)
	}
	v.Wrapped = nil
	return v, nil
}

func (c *call) aliasName() (string, error) {
	name, err := c.required("AliasName")
	if err != nil {
		return "", err
	}
	return name, validAliasName("AliasName", name)
}

// aliasTarget reads AliasName and KeyId for CreateAlias and UpdateAlias and
// authorizes the action on the alias and on the key. The target must be a key:
// an alias naming an alias, in any spelling, would let a caller allowed on one
// alias reach a key through it without the key's own authorization.
func (c *call) aliasTarget() (string, Key, error) {
	name, err := c.aliasName()
	if err != nil {
		return "", Key{}, err
	}
	if err := c.authorize(c.s.AliasARN(name)); err != nil {
		return "", Key{}, err
	}
	ref, err := c.parseRef("KeyId")
	if err != nil {
		return "", Key{}, err
	}
	if ref.alias != "" {
		return "", Key{}, invalidParam("KeyId", "it must name a key, not an alias")
	}
	var k Key
	if err := c.authorizeKey(&k, ref.keyID, ""); err != nil {
		return "", Key{}, err
	}
	if k.State == KeyPendingDeletion {
		return "", Key{}, Errorf(CodePendingDeletion, "The key %q is pending deletion.", k.ID)
	}
	return name, k, nil
}

func (c *call) createAlias() (any, error) {
	name, k, err := c.aliasTarget()
	if err != nil {
		return nil, err
	}
	now := c.s.clock.Now().UTC().Truncate(time.Second)
	a := Alias{Name: name, KeyID: k.ID, CreatedAt: now, UpdatedAt: now}
	err = c.s.store.CreateAlias(c.ctx, a)
	if errors.Is(err, ErrExists) {
		// A key past its deletion date holds the name until it is purged.
		if _, lerr := c.s.liveAlias(c.ctx, name); errors.Is(lerr, ErrNotFound) {
			err = c.s.store.CreateAlias(c.ctx, a)
		} else if lerr != nil {
			return nil, aliasErr(name, lerr)
		}
	}
	switch {
	case errors.Is(err, ErrExists):
		return nil, Errorf(CodeAliasAlreadyExists, "The alias %q already exists.", name)
	case errors.Is(err, ErrNotFound):
		return nil, Errorf(CodeKeyNotFound, "The key %q does not exist.", k.ID)
	case err != nil:
		return nil, storeErr(err)
	}
	c.s.aliasChanged(c.ctx, name, k.ID)
	return nil, nil
}

// aliasChanged drops what this instance keeps of alias name and of the
// aliases of the keys it left and joined.
func (s *Service) aliasChanged(ctx context.Context, name string, keyIDs ...string) {
	s.cache.InvalidateAlias(ctx, name)
	for _, id := range keyIDs {
		s.aliasCache.forget(id)
	}
}

// aliasErr is the answer to a store error met reading alias name.
func aliasErr(name string, err error) error {
	switch {
	case errors.Is(err, ErrNotFound):
		return Errorf(CodeAliasNotFound, "The alias %q does not exist.", name)
	case errors.Is(err, ErrConflict):
		return Errorf(CodeStateModifiedFailed, "The alias %q is being changed by another request; retry.", name)
	}
	return storeErr(err)
}

func (c *call) updateAlias() (any, error) {
	name, k, err := c.aliasTarget()
	if err != nil {
		return nil, err
	}
	// An alias of a key past its deletion date is gone with the key.
	old, err := c.s.liveAlias(c.ctx, name)
	if err != nil {
		return nil, aliasErr(name, err)
	}
	now := c.s.clock.Now().UTC().Truncate(time.Second)
	err = c.s.store.UpdateAlias(c.ctx, Alias{Name: name, KeyID: k.ID, UpdatedAt: now})
	if err != nil {
		return nil, aliasErr(name, err)
	}
	c.s.aliasChanged(c.ctx, name, old.KeyID, k.ID)
	return nil, nil
}

func (c *call) deleteAlias() (any, error) {
	name, err := c.aliasName()
	if err != nil {
		return nil, err
	}
	if err := c.authorize(c.s.AliasARN(name)); err != nil {
		return nil, err
	}
	old, err := c.s.liveAlias(c.ctx, name)
	if err != nil {
		return nil, aliasErr(name, err)
	}
	if err := c.s.store.DeleteAlias(c.ctx, name); err != nil {
		return nil, aliasErr(name, err)
	}
	c.s.aliasChanged(c.ctx, name, old.KeyID)
	return nil, nil
}

func (c *call) listAliases() (any, error) {
	page, num, size, err := c.page()
	if err != nil {
		return nil, err
	}
	if err := c.authorize(c.s.CollectionARN("alias")); err != nil {
		return nil, err
	}
	return c.aliasPage("", page, num, size)
}

func (c *call) listAliasesByKeyID() (any, error) {
	page, num, size, err := c.page()
	if err != nil {
		return nil, err
	}
	t, err := c.resolve("KeyId")
	if err != nil {
		return nil, err
	}
	return c.aliasPage(t.key.ID, page, num, size)
}

// aliasPage lists the aliases of keyID (all of them when it is empty), which
// the caller has authorized: by number, or by position when the request
// says where to start (Request.AliasesAfter).
func (c *call) aliasPage(keyID string, page Page, num, size int) (any, error) {
	if c.req.AliasesAfter != nil {
		return c.aliasesAfter(keyID, *c.req.AliasesAfter, size)
	}
	as, total, err := c.s.store.ListAliases(c.ctx, keyID, c.s.clock.Now(), page)
	if err != nil {
		return nil, storeErr(err)
	}
	return Listing[Alias]{Items: as, Total: total, PageNumber: num, PageSize: size}, nil
}

// aliasesAfter is a listing of aliases by position: the size aliases after
// the position, read with one more to tell whether a next page is due, so
// that a page costs what it lists and counts nothing.
func (c *call) aliasesAfter(keyID string, after AliasPosition, size int) (any, error) {
	as, err := c.s.store.ListAliasesAfter(c.ctx, keyID, c.s.clock.Now(), after, size+1)
	if err != nil {
		return nil, storeErr(err)
	}
	more := len(as) > size
	return AliasPage{Items: as[:min(len(as), size)], More: more}, nil
}
