package core

import (
	"cmp"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
	"time"
)

// Secrets are Alibaba's generic secrets: a name, and up to ten versions of a
// value, each sealed under a symmetric key of the caller's choosing as
// Encrypt seals (bound to the secret's name and the version's ID) and
// opened only for a caller who may also Decrypt under that key. Stage labels
// name versions: ACSCurrent is the value GetSecretValue answers by default.
const (
	SecretTypeGeneric = "Generic"
	StageCurrent      = "ACSCurrent"
	StagePrevious     = "ACSPrevious"
	// MaxSecretData is the longest SecretData, in bytes as sent.
	MaxSecretData = 30720
	// maxSecretVersions is how many versions a secret keeps: a new one past
	// it drops the oldest that carries no stage.
	maxSecretVersions = 10
	// maxSecretStages is how many stage labels a secret may carry.
	maxSecretStages = 8
	// secretRecovery is the default and the bounds of DeleteSecret's
	// recovery window, in days.
	secretRecovery, minSecretRecovery, maxSecretRecovery = 30, 7, 30
)

// Context keys that bind a secret's sealed value to its place.
const (
	secretNameContext    = "SecretName"
	secretVersionContext = "VersionId"
)

// SecretValue is GetSecretValue's result: the secret, the version asked for,
// its stages and its value. The adapter clears Data once it has encoded it.
type SecretValue struct {
	Secret  GenericSecret
	Version SecretVersion
	Stages  []string
	Data    []byte
}

// SecretCreated is CreateSecret's result: the secret and its first version.
type SecretCreated struct {
	Secret    GenericSecret
	VersionID string
}

// SecretStored is PutSecretValue's result: the version stored (or found
// stored with the same value) and the stages it carries.
type SecretStored struct {
	Name, VersionID string
	Stages          []string
}

// SecretNamed is the result of an action that answers with the secret's
// name alone: UpdateSecret, RestoreSecret, UpdateSecretVersionStage.
type SecretNamed struct {
	Name string
}

// SecretDeletion is DeleteSecret's result: when the secret goes (now, for
// a forced deletion).
type SecretDeletion struct {
	Name     string
	DeleteAt time.Time
}

// SecretDescription is DescribeSecret's result, the secret without its
// versions; Tags says whether the caller asked for its tags.
type SecretDescription struct {
	Secret GenericSecret
	Tags   bool
}

// SecretListing is ListSecrets' result; Tags says whether the caller asked
// for the secrets' tags.
type SecretListing struct {
	Listing[GenericSecret]
	Tags bool
}

// SecretVersionInfo is one version as ListSecretVersionIds lists it.
type SecretVersionInfo struct {
	ID        string
	CreatedAt time.Time
	Stages    []string
}

// SecretVersions is ListSecretVersionIds' result.
type SecretVersions struct {
	Name string
	Listing[SecretVersionInfo]
}

// Password is GetRandomPassword's result. The adapter clears it once it has
// encoded it.
type Password struct {
	Text []byte
}

// validSecretName reports whether name is 1 to 192 letters, digits or any of
// "_/+=.@-", as Alibaba allows.
func validSecretName(name string) bool {
	return validLabel(name, 192, "_/+=.@-")
}

// secretName reads SecretName, a name or the ARN of a secret in this region
// and account. An action that a secret's policy may allow is authorized
// once the secret is read (loadSecret); for the others, CreateSecret, it
// checks that the caller's own policy may allow the action on the secret.
func (c *call) secretName() (string, error) {
	name, err := c.required("SecretName")
	if err != nil {
		return "", err
	}
	if strings.HasPrefix(name, "acs:kms:") {
		rest, ok := strings.CutPrefix(name, c.s.arnPrefix)
		if ok {
			name, ok = strings.CutPrefix(rest, "secret/")
		}
		if !ok {
			return "", Errorf(CodeResourceNotFound, "The secret %q is not in this region and account.", ClipText(rest))
		}
	}
	if !validSecretName(name) {
		return "", invalidParam("SecretName", "it must be 1 to 192 letters, digits or _/+=.@-")
	}
	if !onResource[c.act] && !c.req.Caller.Policy.mayAllowOn(c.act, c.s.SecretARN(name)) {
		return "", c.denied()
	}
	return name, nil
}

// authorizeSecret authorizes the action on secret sec, as authorizeKey does
// on a key: the caller's own policy, with the secret's tags among the
// facts, then the secret's.
func (c *call) authorizeSecret(sec *GenericSecret) error {
	kp, err := c.policyOf(&c.s.secretPolicies, "secret", sec.Name, sec.Policy)
	if err != nil {
		return err
	}
	arn := []string{c.s.SecretARN(sec.Name)}
	c.facts.Tags = sec.Tags
	own := c.req.Caller.Policy.allows(c.act, &c.facts, arn...)
	if c.underPolicy(c.act, false, kp, own, arn) == keyAllows {
		return nil
	}
	return c.denied()
}

func (c *call) secretStore() (SecretStore, error) {
	if c.s.secrets == nil {
		return nil, internal("no secret store is configured")
	}
	return c.s.secrets, nil
}

// loadSecret reads a secret that exists, for a caller allowed the action
// on it: one past its deletion date is purged here and answered as
// missing. A caller whose own policy could not allow the action is denied
// alike whether or not the secret exists.
func (c *call) loadSecret(name string) (GenericSecret, error) {
	st, err := c.secretStore()
	if err != nil {
		return GenericSecret{}, err
	}
	sec, err := st.GetSecret(c.ctx, name)
	if err == nil && sec.PastDeletion(c.s.clock.Now()) {
		if _, derr := c.s.dropSecret(c.ctx, &sec); derr != nil {
			return GenericSecret{}, storeErr(derr)
		}
		err = ErrNotFound
	}
	switch {
	case errors.Is(err, ErrNotFound):
		if !c.req.Caller.Policy.mayAllowOn(c.act, c.s.SecretARN(name)) {
			return GenericSecret{}, c.denied()
		}
		return GenericSecret{}, Errorf(CodeResourceNotFound, "The secret %q does not exist.", name)
	case err != nil:
		return GenericSecret{}, storeErr(err)
	}
	if err := c.authorizeSecret(&sec); err != nil {
		return GenericSecret{}, err
	}
	return sec, nil
}

// liveSecret is loadSecret for an action that a secret scheduled for
// deletion refuses.
func (c *call) liveSecret(name string) (GenericSecret, error) {
	sec, err := c.loadSecret(name)
	if err == nil && !sec.DeleteAt.IsZero() {
		err = Errorf(CodePendingDeletion, "The secret %q is scheduled for deletion; RestoreSecret brings it back.", name)
	}
	return sec, err
}

// changeSecret applies fn to the stored secret and writes it back, trying
// again when another request changed it meanwhile; fn's errUnchanged leaves
// it as it is.
func (c *call) changeSecret(name string, live bool, fn func(*GenericSecret) error) (GenericSecret, error) {
	load := c.loadSecret
	if live {
		load = c.liveSecret
	}
	for try := retries(c.ctx); try.again(); {
		sec, err := load(name)
		if err != nil {
			return GenericSecret{}, err
		}
		if err := fn(&sec); errors.Is(err, errUnchanged) {
			return sec, nil
		} else if err != nil {
			return GenericSecret{}, err
		}
		sec.Revision++
		sec.UpdatedAt = c.s.clock.Now().UTC().Truncate(time.Second)
		err = c.s.secrets.UpdateSecret(c.ctx, sec)
		switch {
		case err == nil:
			return sec, nil
		case errors.Is(err, ErrNotFound):
			return GenericSecret{}, Errorf(CodeResourceNotFound, "The secret %q does not exist.", name)
		case !errors.Is(err, ErrConflict):
			return GenericSecret{}, storeErr(err)
		}
	}
	return GenericSecret{}, Errorf(CodeStateModifiedFailed, "The secret %q kept changing; retry.", name)
}

// changedSecret is changeSecret for an action that answers with the
// secret's name alone.
func (c *call) changedSecret(name string, live bool, fn func(*GenericSecret) error) (any, error) {
	if _, err := c.changeSecret(name, live, fn); err != nil {
		return nil, err
	}
	return SecretNamed{Name: name}, nil
}

// secretData reads SecretData and SecretDataType: text, or binary as base64.
func (c *call) secretData() (string, string, error) {
	data, err := c.required("SecretData")
	if err != nil {
		return "", "", err
	}
	if len(data) > MaxSecretData {
		return "", "", invalidParam("SecretData", "it is longer than %d bytes", MaxSecretData)
	}
	kind, err := oneOf(c, "SecretDataType", "text", "text", "binary")
	if err != nil {
		return "", "", err
	}
	if _, err := base64.StdEncoding.DecodeString(data); kind == "binary" && err != nil {
		return "", "", invalidParam("SecretData", "a binary secret's data must be base64-encoded")
	}
	return data, kind, nil
}

func versionID(param, v string) error {
	if !validLabel(v, 64, "._-") {
		return invalidParam(param, "it must be 1 to 64 letters, digits, ., _ or -")
	}
	return nil
}

// sealSecret seals data as version id of secret name under the key ref
// names, loaded into k. The caller must be allowed to Encrypt under it,
// which it checks first.
func (c *call) sealSecret(k *Key, ref keyRef, name, id, kind, data string) (SecretVersion, error) {
	ctx := secretContext(name, id)
	err := c.asAction("kms:Encrypt", ctx, func() error { return c.sealingRef(k, ref) })
	if err != nil {
		return SecretVersion{}, err
	}
	pt := []byte(data)
	defer clear(pt)
	sealed, err := c.seal(k, ctx, pt)
	if err != nil {
		return SecretVersion{}, err
	}
	return SecretVersion{ID: id, CreatedAt: c.s.clock.Now().UTC().Truncate(time.Second), DataType: kind, Sealed: sealed.Blob}, nil
}

func secretContext(name, id string) EncryptionContext {
	return EncryptionContext{secretNameContext: name, secretVersionContext: id}
}

// asAction runs fn as action, with the facts that action's conditions read:
// a secret's value is sealed and opened under the caller's own permission to
// Encrypt or Decrypt under its key, so that a secret is never a way round
// the key's policy.
func (c *call) asAction(action string, ctx EncryptionContext, fn func() error) error {
	act, facts := c.act, c.facts
	c.act = idOf(action)
	c.facts.Context, c.facts.Algorithm = ctx, &symmetricDefault
	defer func() { c.act, c.facts = act, facts }()
	return fn()
}

func (c *call) createSecret() (any, error) {
	name, err := c.secretName()
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(name, "acs/") {
		return nil, invalidParam("SecretName", "names that start with acs/ are reserved")
	}
	id, err := c.required("VersionId")
	if err != nil {
		return nil, err
	}
	if err := versionID("VersionId", id); err != nil {
		return nil, err
	}
	data, kind, err := c.secretData()
	if err != nil {
		return nil, err
	}
	if _, err := oneOf(c, "SecretType", SecretTypeGeneric, SecretTypeGeneric); err != nil {
		return nil, err
	}
	if err := noAutomaticRotation(c); err != nil {
		return nil, err
	}
	if err := noExtendedConfig(c); err != nil {
		return nil, err
	}
	desc, err := c.description("Description")
	if err != nil {
		return nil, err
	}
	tags, err := c.tagList("Tags")
	if err != nil {
		return nil, err
	}
	// A secret being made has no tags yet for the caller's policy to read.
	if err := c.authorize(c.s.SecretARN(name)); err != nil {
		return nil, err
	}
	if err := inNoInstance(c); err != nil {
		return nil, err
	}
	policy := c.str("Policy")
	if policy != "" {
		c.facts.Tags = tags
		if err := c.applyPolicy(&policyPut{what: "secret", doc: policy}, c.s.SecretARN(name), ""); err != nil {
			return nil, err
		}
	}
	ref, err := c.parseRef("EncryptionKeyId")
	if err != nil {
		return nil, err
	}
	st, err := c.secretStore()
	if err != nil {
		return nil, err
	}
	var k Key
	v, err := c.sealSecret(&k, ref, name, id, kind, data)
	if err != nil {
		return nil, err
	}
	sec := GenericSecret{
		Name: name, Description: desc, KeyID: k.ID, Creator: c.req.Caller.Name,
		CreatedAt: v.CreatedAt, UpdatedAt: v.CreatedAt, Tags: tags,
		Stages: map[string]string{StageCurrent: id}, Versions: []SecretVersion{v}, Policy: policy, Revision: 1,
	}
	err = st.CreateSecret(c.ctx, sec)
	if errors.Is(err, ErrExists) {
		// One past its deletion date holds the name until it is purged.
		if _, lerr := c.loadSecret(name); lerr != nil && AsError(lerr).Code == CodeResourceNotFound {
			err = st.CreateSecret(c.ctx, sec)
		}
	}
	switch {
	case errors.Is(err, ErrExists):
		return nil, Errorf(CodeResourceExist, "The secret %q already exists.", name)
	case err != nil:
		return nil, storeErr(err)
	}
	return SecretCreated{Secret: sec, VersionID: id}, nil
}

// cmpErr is err when there is one, else alt.
func cmpErr(err, alt error) error {
	if err != nil {
		return err
	}
	return alt
}

func (c *call) getSecretValue() (any, error) {
	name, err := c.secretName()
	if err != nil {
		return nil, err
	}
	id, stage := c.str("VersionId"), c.str("VersionStage")
	// A generic secret has no extended configuration to fetch.
	if _, err := c.bool("FetchExtendedConfig", false); err != nil {
		return nil, err
	}
	sec, err := c.liveSecret(name)
	if err != nil {
		return nil, err
	}
	if id == "" {
		stage = cmp.Or(stage, StageCurrent)
		if id = sec.Stages[stage]; id == "" {
			return nil, Errorf(CodeResourceNotFound, "No version of the secret %q carries the stage %q.", name, ClipText(stage))
		}
	} else if stage != "" && sec.Stages[stage] != id {
		return nil, Errorf(CodeResourceNotFound, "The version %q of the secret %q does not carry the stage %q.", ClipText(id), name, ClipText(stage))
	}
	i := slices.IndexFunc(sec.Versions, func(v SecretVersion) bool { return v.ID == id })
	if i < 0 {
		return nil, Errorf(CodeResourceNotFound, "The secret %q has no version %q.", name, ClipText(id))
	}
	v := sec.Versions[i]
	var o Opened
	err = c.asAction("kms:Decrypt", secretContext(name, id), func() error {
		var err error
		o, err = c.openBlob(v.Sealed, secretContext(name, id), "")
		return err
	})
	if err != nil {
		if AsError(err).Code == CodeInvalidCiphertext {
			// The value does not open where it is: the store was changed.
			return nil, internal("secret %q version %q does not open under its key", name, id)
		}
		return nil, err
	}
	return SecretValue{Secret: sec, Version: v, Stages: stagesOf(&sec, id), Data: o.Plaintext}, nil
}

// stagesOf lists the stages version id carries, in order.
func stagesOf(sec *GenericSecret, id string) []string {
	var out []string
	for stage, v := range sec.Stages {
		if v == id {
			out = append(out, stage)
		}
	}
	slices.Sort(out)
	return out
}

// setStage puts stage on version id. Moving ACSCurrent hands ACSPrevious to
// the version that carried it.
func setStage(sec *GenericSecret, stage, id string) {
	from, had := sec.Stages[stage]
	sec.Stages[stage] = id
	if stage == StageCurrent && had && from != id {
		sec.Stages[StagePrevious] = from
	}
}

func checkStage(param, stage string) error {
	if !validLabel(stage, 64, "._-") {
		return invalidParam(param, "a stage must be 1 to 64 letters, digits, ., _ or -")
	}
	return nil
}

func (c *call) putSecretValue() (any, error) {
	name, err := c.secretName()
	if err != nil {
		return nil, err
	}
	id, err := c.required("VersionId")
	if err != nil {
		return nil, err
	}
	if err := versionID("VersionId", id); err != nil {
		return nil, err
	}
	data, kind, err := c.secretData()
	if err != nil {
		return nil, err
	}
	stages := []string{StageCurrent}
	if text := c.str("VersionStages"); text != "" {
		stages = nil
		if json.Unmarshal([]byte(text), &stages) != nil || len(stages) == 0 || len(stages) > maxSecretStages {
			return nil, invalidParam("VersionStages", `it must be a JSON list of 1 to %d stages, like ["ACSCurrent"]`, maxSecretStages)
		}
		for _, s := range stages {
			if err := checkStage("VersionStages", s); err != nil {
				return nil, err
			}
		}
	}
	sec, err := c.liveSecret(name)
	if err != nil {
		return nil, err
	}
	if i := slices.IndexFunc(sec.Versions, func(v SecretVersion) bool { return v.ID == id }); i >= 0 {
		return c.samePut(&sec, sec.Versions[i], kind, data)
	}
	var k Key
	v, err := c.sealSecret(&k, keyRef{keyID: sec.KeyID}, name, id, kind, data)
	if err != nil {
		return nil, err
	}
	// A put of the same version that another request stored meanwhile
	// (a retry racing its first try) is answered as if it came after.
	var meanwhile *SecretVersion
	sec, err = c.changeSecret(name, true, func(sec *GenericSecret) error {
		if i := slices.IndexFunc(sec.Versions, func(v SecretVersion) bool { return v.ID == id }); i >= 0 {
			meanwhile = &sec.Versions[i]
			return errUnchanged
		}
		if sec.KeyID != k.ID {
			return Errorf(CodeStateModifiedFailed, "The secret %q changed its key meanwhile; retry.", name)
		}
		sec.Versions = append(sec.Versions, v)
		for _, s := range stages {
			setStage(sec, s, id)
		}
		if len(sec.Stages) > maxSecretStages {
			return invalidParam("VersionStages", "a secret carries at most %d stages", maxSecretStages)
		}
		pruneVersions(sec)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if meanwhile != nil {
		return c.samePut(&sec, *meanwhile, kind, data)
	}
	return SecretStored{Name: name, VersionID: id, Stages: stagesOf(&sec, id)}, nil
}

// samePut answers a PutSecretValue of a version that exists: the same value
// again succeeds and changes nothing, another is refused.
func (c *call) samePut(sec *GenericSecret, v SecretVersion, kind, data string) (any, error) {
	var o Opened
	ctx := secretContext(sec.Name, v.ID)
	err := c.asAction("kms:Decrypt", ctx, func() error {
		var err error
		o, err = c.openBlob(v.Sealed, ctx, "")
		return err
	})
	if err != nil {
		return nil, err
	}
	defer clear(o.Plaintext)
	// In constant time: the answer says whether a guess is the value, and
	// its timing must not say how much of it was right.
	if v.DataType != kind || subtle.ConstantTimeCompare(o.Plaintext, []byte(data)) != 1 {
		return nil, Errorf(CodeResourceExist, "The version %q of the secret %q holds another value; versions do not change.", v.ID, sec.Name)
	}
	return SecretStored{Name: sec.Name, VersionID: v.ID, Stages: stagesOf(sec, v.ID)}, nil
}

// pruneVersions drops the oldest versions that carry no stage while the
// secret holds more than it keeps. At most maxSecretStages carry one, so
// there is always one to drop.
func pruneVersions(sec *GenericSecret) {
	staged := map[string]bool{}
	for _, id := range sec.Stages {
		staged[id] = true
	}
	for i := 0; len(sec.Versions) > maxSecretVersions && i < len(sec.Versions); {
		if staged[sec.Versions[i].ID] {
			i++
			continue
		}
		sec.Versions = slices.Delete(sec.Versions, i, i+1)
	}
}

func (c *call) updateSecretVersionStage() (any, error) {
	name, err := c.secretName()
	if err != nil {
		return nil, err
	}
	stage, err := c.required("VersionStage")
	if err != nil {
		return nil, err
	}
	if err := checkStage("VersionStage", stage); err != nil {
		return nil, err
	}
	from, to := c.str("RemoveFromVersion"), c.str("MoveToVersion")
	if from == "" && to == "" {
		return nil, missingParam("MoveToVersion")
	}
	if to == "" && stage == StageCurrent {
		return nil, invalidParam("VersionStage", "ACSCurrent cannot be removed, only moved to another version")
	}
	return c.changedSecret(name, true, func(sec *GenericSecret) error {
		holder := sec.Stages[stage]
		if from != "" && holder != from {
			return invalidParam("RemoveFromVersion", "the stage %s is not on the version %q", stage, ClipText(from))
		}
		if to == "" {
			delete(sec.Stages, stage)
			return nil
		}
		if !slices.ContainsFunc(sec.Versions, func(v SecretVersion) bool { return v.ID == to }) {
			return Errorf(CodeResourceNotFound, "The secret %q has no version %q.", name, ClipText(to))
		}
		if holder != "" && holder != to && from == "" {
			return invalidParam("RemoveFromVersion", "the stage %s is on the version %q; name it to move the stage", stage, holder)
		}
		setStage(sec, stage, to)
		if len(sec.Stages) > maxSecretStages {
			return invalidParam("VersionStage", "a secret carries at most %d stages", maxSecretStages)
		}
		return nil
	})
}

func (c *call) describeSecret() (any, error) {
	name, err := c.secretName()
	if err != nil {
		return nil, err
	}
	tags, err := c.bool("FetchTags", false)
	if err != nil {
		return nil, err
	}
	sec, err := c.loadSecret(name)
	if err != nil {
		return nil, err
	}
	sec.Versions = nil
	return SecretDescription{Secret: sec, Tags: tags}, nil
}

func (c *call) updateSecret() (any, error) {
	name, err := c.secretName()
	if err != nil {
		return nil, err
	}
	desc, err := c.description("Description")
	if err != nil {
		return nil, err
	}
	if err := noExtendedConfig(c); err != nil {
		return nil, err
	}
	return c.changedSecret(name, true, func(sec *GenericSecret) error {
		sec.Description = desc
		return nil
	})
}

func (c *call) deleteSecret() (any, error) {
	name, err := c.secretName()
	if err != nil {
		return nil, err
	}
	force, err := c.bool("ForceDeleteWithoutRecovery", false)
	if err != nil {
		return nil, err
	}
	days, given, err := c.int("RecoveryWindowInDays", minSecretRecovery, maxSecretRecovery)
	if err != nil {
		return nil, err
	}
	if force && given {
		return nil, invalidParam("RecoveryWindowInDays", "it cannot be given with ForceDeleteWithoutRecovery")
	}
	if !given {
		days = secretRecovery
	}
	if force {
		for try := retries(c.ctx); try.again(); {
			sec, err := c.loadSecret(name)
			if err != nil {
				return nil, err
			}
			err = c.s.secrets.DeleteSecret(c.ctx, name, sec.Revision)
			switch {
			case err == nil || errors.Is(err, ErrNotFound):
				return SecretDeletion{Name: name, DeleteAt: c.s.clock.Now().UTC().Truncate(time.Second)}, nil
			case !errors.Is(err, ErrConflict):
				return nil, storeErr(err)
			}
		}
		return nil, Errorf(CodeStateModifiedFailed, "The secret %q kept changing; retry.", name)
	}
	sec, err := c.changeSecret(name, true, func(sec *GenericSecret) error {
		sec.DeleteAt = c.s.clock.Now().UTC().Truncate(time.Second).Add(time.Duration(days) * 24 * time.Hour)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return SecretDeletion{Name: name, DeleteAt: sec.DeleteAt}, nil
}

func (c *call) restoreSecret() (any, error) {
	name, err := c.secretName()
	if err != nil {
		return nil, err
	}
	return c.changedSecret(name, false, func(sec *GenericSecret) error {
		if sec.DeleteAt.IsZero() {
			return Errorf(CodeStateModifiedFailed, "The secret %q is not scheduled for deletion.", name)
		}
		sec.DeleteAt = time.Time{}
		return nil
	})
}

// SecretPolicy is GetSecretPolicy's result: the document put on the secret,
// or none for the default policy.
type SecretPolicy struct {
	Name, Document string
}

func (c *call) getSecretPolicy() (any, error) {
	if err := c.policyName("secret"); err != nil {
		return nil, err
	}
	name, err := c.secretName()
	if err != nil {
		return nil, err
	}
	sec, err := c.loadSecret(name)
	if err != nil {
		return nil, err
	}
	return SecretPolicy{Name: name, Document: sec.Policy}, nil
}

// setSecretPolicy puts a policy document on a secret, as setKeyPolicy does
// on a key: a secret scheduled for deletion refuses it.
func (c *call) setSecretPolicy() (any, error) {
	p, err := c.policyPut("secret")
	if err != nil {
		return nil, err
	}
	name, err := c.secretName()
	if err != nil {
		return nil, err
	}
	_, err = c.changeSecret(name, true, func(sec *GenericSecret) error {
		// loadSecret left the secret's tags among the facts.
		if err := c.applyPolicy(p, c.s.SecretARN(name), sec.Policy); err != nil {
			return err
		}
		sec.Policy = p.doc
		return nil
	})
	if err != nil {
		return nil, err
	}
	c.s.secretPolicies.put(name, p.doc, p.kp)
	return nil, nil
}

// listSecrets lists secrets by name, a page at a time. Filtered, it walks
// every secret's metadata, a store page at a time, and counts and pages
// those that meet the filter itself, as a filtered ListKeys does.
func (c *call) listSecrets() (any, error) {
	filter, err := c.filter("Filters", secretFilters, `[{"Key":"SecretName","Values":["db/password"]}]`)
	if err != nil {
		return nil, err
	}
	tags, err := c.bool("FetchTags", false)
	if err != nil {
		return nil, err
	}
	p, num, size, err := c.page()
	if err != nil {
		return nil, err
	}
	if err := c.authorize(c.s.CollectionARN("secret")); err != nil {
		return nil, err
	}
	st, err := c.secretStore()
	if err != nil {
		return nil, err
	}
	now := c.s.clock.Now()
	var items []GenericSecret
	var total int
	if filter == nil {
		items, total, err = st.ListSecrets(c.ctx, now, p)
	} else {
		err = c.s.eachSecret(c.ctx, func(sec *GenericSecret) error {
			if sec.PastDeletion(now) || !filter.meetsSecret(sec) {
				return nil
			}
			if total >= p.Offset && len(items) < p.Limit {
				items = append(items, *sec)
			}
			total++
			return nil
		})
	}
	if err != nil {
		return nil, storeErr(err)
	}
	return SecretListing{Listing: Listing[GenericSecret]{Items: items, Total: total, PageNumber: num, PageSize: size}, Tags: tags}, nil
}

func (c *call) listSecretVersionIds() (any, error) {
	name, err := c.secretName()
	if err != nil {
		return nil, err
	}
	all, err := c.bool("IncludeDeprecated", false)
	if err != nil {
		return nil, err
	}
	p, num, size, err := c.page()
	if err != nil {
		return nil, err
	}
	sec, err := c.loadSecret(name)
	if err != nil {
		return nil, err
	}
	var infos []SecretVersionInfo
	for _, v := range sec.Versions {
		stages := stagesOf(&sec, v.ID)
		if all || len(stages) > 0 {
			infos = append(infos, SecretVersionInfo{ID: v.ID, CreatedAt: v.CreatedAt, Stages: stages})
		}
	}
	start := min(p.Offset, len(infos))
	end := min(start+p.Limit, len(infos))
	return SecretVersions{Name: name, Listing: Listing[SecretVersionInfo]{
		Items: infos[start:end], Total: len(infos), PageNumber: num, PageSize: size,
	}}, nil
}

// Character classes of GetRandomPassword.
const (
	lowercase   = "abcdefghijklmnopqrstuvwxyz"
	uppercase   = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	digits      = "0123456789"
	punctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
)

func (c *call) getRandomPassword() (any, error) {
	n, given, err := c.int("PasswordLength", 8, 128)
	if err != nil {
		return nil, err
	}
	if !given {
		n = 32
	}
	// The excluded characters as a set: one pass over the parameter, which
	// may be 64 KiB long, rather than one per character of every class.
	var excluded [256]bool
	for _, r := range c.str("ExcludeCharacters") {
		if r < 256 {
			excluded[r] = true
		}
	}
	var classes []string
	for _, class := range []struct{ param, chars string }{
		{"ExcludeLowercase", lowercase}, {"ExcludeUppercase", uppercase},
		{"ExcludeNumbers", digits}, {"ExcludePunctuation", punctuation},
	} {
		skip, err := c.bool(class.param, false)
		if err != nil {
			return nil, err
		}
		kept := strings.Map(func(r rune) rune {
			if excluded[r] {
				return -1
			}
			return r
		}, class.chars)
		if !skip && kept != "" {
			classes = append(classes, kept)
		}
	}
	each, err := c.bool("RequireEachIncludedType", true)
	if err != nil {
		return nil, err
	}
	if len(classes) == 0 {
		return nil, invalidParam("ExcludeCharacters", "no characters are left to make a password of")
	}
	if err := c.authorize(c.s.CollectionARN("secret")); err != nil {
		return nil, err
	}
	all := strings.Join(classes, "")
	pw := make([]byte, n)
	for {
		if err := c.draw(pw, all); err != nil {
			clear(pw)
			return nil, err
		}
		if !each || hasEach(pw, classes) {
			return Password{Text: pw}, nil
		}
	}
}

// draw fills out with characters of set, each drawn uniformly from the
// service's random source (bytes past the largest multiple of len(set) are
// drawn again).
func (c *call) draw(out []byte, set string) error {
	limit := 256 - 256%len(set)
	var b [1]byte
	for i := range out {
		for {
			if _, err := io.ReadFull(c.s.rand, b[:]); err != nil {
				return internal("random: %w", err)
			}
			if int(b[0]) < limit {
				out[i] = set[int(b[0])%len(set)]
				break
			}
		}
	}
	return nil
}

func hasEach(pw []byte, classes []string) bool {
	for _, class := range classes {
		if !slices.ContainsFunc(pw, func(b byte) bool { return strings.IndexByte(class, b) >= 0 }) {
			return false
		}
	}
	return true
}

// noExtendedConfig refuses ExtendedConfig in any of the forms Alibaba's SDKs
// send it: whole as JSON (CreateSecret), or flattened into members such as
// ExtendedConfig.CustomData (UpdateSecret). It configures the secret types
// other than Generic, which this service does not hold.
func noExtendedConfig(c *call) error {
	for name, v := range c.p {
		if v != "" && (name == "ExtendedConfig" || strings.HasPrefix(name, "ExtendedConfig.")) {
			return invalidParam(ClipText(name), "an extended configuration belongs to secret types other than Generic")
		}
	}
	return nil
}

// noAutomaticRotation refuses EnableAutomaticRotation true: a generic
// secret is rotated by PutSecretValue.
func noAutomaticRotation(c *call) error {
	if on, err := c.bool("EnableAutomaticRotation", false); err != nil || on {
		return cmpErr(err, invalidParam("EnableAutomaticRotation", "a generic secret is rotated by PutSecretValue"))
	}
	return nil
}
