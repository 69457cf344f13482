package core

import (
	"encoding/json"
	"errors"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Alibaba Cloud KMS's limits on tags.
const (
	// MaxTags is the most tags one key carries.
	MaxTags = 20
	// MaxTagLen is the longest tag key or value, in characters.
	MaxTagLen = 128
)

// checkTag checks one tag against Alibaba's rules: a key of 1 to 128
// characters that does not start with "aliyun" or "acs:", a value of at most
// 128, both of letters, digits and / \ _ - . + = : @ (and, in values, spaces).
func checkTag(param, key, value string) error {
	if key == "" || utf8.RuneCountInString(key) > MaxTagLen {
		return invalidParam(param, "a tag key must be 1 to %d characters", MaxTagLen)
	}
	if utf8.RuneCountInString(value) > MaxTagLen {
		return invalidParam(param, "the value of tag %q is longer than %d characters", key, MaxTagLen)
	}
	if l := strings.ToLower(key); strings.HasPrefix(l, "aliyun") || strings.HasPrefix(l, "acs:") {
		return invalidParam(param, "the tag key %q starts with a reserved prefix (aliyun, acs:)", key)
	}
	if !tagText(key, false) || !tagText(value, true) {
		return invalidParam(param, "tag %q may contain only letters, digits and / \\ _ - . + = : @", key)
	}
	return nil
}

func tagText(s string, spaces bool) bool {
	for _, r := range s {
		switch {
		case unicode.IsLetter(r), unicode.IsDigit(r), strings.ContainsRune(`/\_-.+=:@`, r), spaces && r == ' ':
		default:
			return false
		}
	}
	return true
}

// TagRules are a protocol's rules for tags where they differ from
// Alibaba's. A protocol whose rules for each tag differ checks each as it
// reads it, in its own terms; what core alone can check, how many tags a key
// carries once a change is applied to the stored key, is left here.
type TagRules struct {
	// PerKey is the most tags one key carries (0: MaxTags, Alibaba's).
	PerKey int
	// TooMany is the code of a request that would give a key more than
	// PerKey tags ("": InvalidParameter).
	TooMany string
	// Checked says the protocol has checked each tag against its own rules,
	// which then replace Alibaba's (checkTag).
	Checked bool
}

func (r TagRules) perKey() int {
	if r.PerKey > 0 {
		return r.PerKey
	}
	return MaxTags
}

// tooMany refuses a request that would give a key more tags than the rules
// allow.
func (r TagRules) tooMany(param, format string, args ...any) error {
	e := invalidParam(param, format, args...)
	if r.TooMany != "" {
		e.Code = r.TooMany
	}
	return e
}

// checkTags checks a key's whole set of tags.
func checkTags(param string, tags map[string]string, rules TagRules) error {
	if len(tags) > rules.perKey() {
		return rules.tooMany(param, "a key carries at most %d tags", rules.perKey())
	}
	if rules.Checked {
		return nil
	}
	for k, v := range tags {
		if err := checkTag(param, k, v); err != nil {
			return err
		}
	}
	return nil
}

// KeyTags is the result of ListResourceTags: one key's tags.
type KeyTags struct {
	KeyID string
	Tags  map[string]string
}

// TaggedResource is one tag of one resource, an item of ListTagResources.
type TaggedResource struct {
	ResourceID, Key, Value string
}

// TagListing is one page of ListTagResources.
type TagListing struct {
	Items []TaggedResource
	// NextToken asks for the next page; empty on the last.
	NextToken string
}

// TagPageSize is how many rows a page of ListTagResources holds, as on
// Alibaba, which takes no page size.
const TagPageSize = 200

// Regions is the result of DescribeRegions: the regions this service answers
// for (its one region).
type Regions []string

// AccountStatus is the result of DescribeAccountKmsStatus.
type AccountStatus struct{ Enabled bool }

// tagList reads a JSON list of {"TagKey":…,"TagValue":…}, as CreateKey and
// TagResource take their Tags; empty means none. Member names match exactly
// and each once, as everywhere kmsless reads a caller's JSON: encoding/json
// alone would take "tagkey" for TagKey and keep the last of two.
func (c *call) tagList(param string) (map[string]string, error) {
	text := c.str(param)
	if text == "" {
		return nil, nil
	}
	malformed := invalidParam(param, `it must be a JSON list like [{"TagKey":"k","TagValue":"v"}]`)
	dec := json.NewDecoder(strings.NewReader(text))
	if t, err := dec.Token(); err != nil || t != json.Delim('[') {
		return nil, malformed
	}
	tags := map[string]string{}
	for dec.More() {
		if t, err := dec.Token(); err != nil || t != json.Delim('{') {
			return nil, malformed
		}
		var key, value *string
		for dec.More() {
			name, err := dec.Token()
			if err != nil {
				return nil, malformed
			}
			var member **string
			switch name {
			case "TagKey":
				member = &key
			case "TagValue":
				member = &value
			default:
				var skip json.RawMessage
				if dec.Decode(&skip) != nil {
					return nil, malformed
				}
				continue
			}
			if *member != nil {
				return nil, invalidParam(param, "a tag names %s twice", name)
			}
			var v *string
			if dec.Decode(&v) != nil {
				return nil, malformed
			}
			if v == nil {
				v = new(string)
			}
			*member = v
		}
		if _, err := dec.Token(); err != nil {
			return nil, malformed
		}
		if key == nil {
			return nil, invalidParam(param, "every tag needs a TagKey")
		}
		if _, dup := tags[*key]; dup {
			return nil, invalidParam(param, "the tag key %q appears twice", ClipText(*key))
		}
		tags[*key] = ""
		if value != nil {
			tags[*key] = *value
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, malformed
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, malformed
	}
	return tags, checkTags(param, tags, c.req.TagRules)
}

// MaxIndexed bounds the items of a repeated parameter (Name.1, Name.2, …).
const MaxIndexed = 50

// Indexed reads a repeated parameter: prefix.1suffix, prefix.2suffix, … up
// to the first missing one, at most MaxIndexed of them; more is true when
// the next one is there too.
func (p Params) Indexed(prefix, suffix string) (items []string, more bool) {
	for i := 1; ; i++ {
		v, ok := p[prefix+"."+strconv.Itoa(i)+suffix]
		if !ok {
			return items, false
		}
		if i > MaxIndexed {
			return items, true
		}
		items = append(items, v)
	}
}

// indexed reads a repeated parameter (Params.Indexed), refusing more than
// MaxIndexed items.
func (c *call) indexed(prefix, suffix string) ([]string, error) {
	out, more := c.p.Indexed(prefix, suffix)
	if more {
		return nil, invalidParam(prefix, "it takes at most %d items", MaxIndexed)
	}
	return out, nil
}

// indexedTags reads Tag.N.Key and Tag.N.Value.
func (c *call) indexedTags() (map[string]string, error) {
	keys, err := c.indexed("Tag", ".Key")
	if err != nil {
		return nil, err
	}
	tags := make(map[string]string, len(keys))
	for i, k := range keys {
		if _, dup := tags[k]; dup {
			return nil, invalidParam("Tag", "the tag key %q appears twice", ClipText(k))
		}
		tags[k] = c.p["Tag."+strconv.Itoa(i+1)+".Value"]
	}
	return tags, nil
}

// keyResources reads ResourceType (key) and ResourceId.N and resolves every
// key, authorizing the action on each, before anything changes.
func (c *call) keyResources() ([]Key, error) {
	if rt := c.str("ResourceType"); rt != "" && rt != "key" {
		return nil, invalidParam("ResourceType", "this service has only keys")
	}
	ids, err := c.indexed("ResourceId", "")
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, missingParam("ResourceId.1")
	}
	keys := make([]Key, 0, len(ids))
	for _, id := range ids {
		ref, err := c.parseRefValue("ResourceId", id)
		if err != nil {
			return nil, err
		}
		var k Key
		if err := c.resolveRef(&k, ref); err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// retag applies fn to the tags of each key, keeping each within the limits.
// When it changes several keys, it works out and checks every key's new tags
// from the stored key before it writes any, so that a request that would
// break a limit on one key, or names a key that is gone, writes nothing.
//
// The writes are still one compare-and-set per key, not one transaction: a
// change made by another request between the check and the writes (tags that
// fill a later key, its deletion) can fail a later write after earlier keys
// were changed. The error names that key, and the request may be sent again
// as it was: applying it twice leaves the same tags.
func (c *call) retag(keys []Key, fn func(map[string]string)) error {
	apply := func(k *Key) error {
		tags, err := retagged(k, fn, c.req.TagRules)
		if err == nil {
			k.Tags = tags
		}
		return err
	}
	if len(keys) > 1 {
		for _, k := range keys {
			stored, err := c.s.storedKey(c.ctx, k.ID)
			if err != nil {
				return keyErr(k.ID, err)
			}
			if err := apply(&stored); err != nil && !errors.Is(err, errUnchanged) {
				return err
			}
		}
	}
	for _, k := range keys {
		if _, err := c.s.mutate(c.ctx, k.ID, apply); err != nil {
			return err
		}
	}
	return nil
}

// retagSecret applies fn to the tags of the secret SecretName names: Alibaba's
// TagResource and UntagResource take it in place of KeyId. The limits are a
// key's; a secret scheduled for deletion keeps its tags, as such a key does.
func (c *call) retagSecret(fn func(map[string]string)) error {
	if c.str("KeyId") != "" {
		return invalidParam("SecretName", "it names a secret; KeyId names a key: give one of them")
	}
	name, err := c.secretName()
	if err != nil {
		return err
	}
	rules := c.req.TagRules
	_, err = c.changeSecret(name, true, func(sec *GenericSecret) error {
		tags := make(map[string]string, len(sec.Tags))
		maps.Copy(tags, sec.Tags)
		fn(tags)
		if maps.Equal(tags, sec.Tags) {
			return errUnchanged
		}
		if len(tags) > rules.perKey() && len(tags) > len(sec.Tags) {
			return rules.tooMany("Tags", "the secret %q would carry more than %d tags", name, rules.perKey())
		}
		if len(tags) == 0 {
			tags = nil
		}
		sec.Tags = tags
		return nil
	})
	return err
}

// retagged is k's tags after fn, checked against the limits, or errUnchanged.
// A key pending deletion keeps its tags, as both key-state tables say. A
// change that removes tags is allowed whatever the count: a key tagged to
// AWS's limit can still be untagged through the Alibaba API.
func retagged(k *Key, fn func(map[string]string), rules TagRules) (map[string]string, error) {
	if k.State == KeyPendingDeletion {
		return nil, Errorf(CodePendingDeletion, "The key %q is pending deletion.", k.ID)
	}
	tags := make(map[string]string, len(k.Tags))
	maps.Copy(tags, k.Tags)
	fn(tags)
	if maps.Equal(tags, k.Tags) {
		return nil, errUnchanged
	}
	if len(tags) > rules.perKey() && len(tags) > len(k.Tags) {
		return nil, rules.tooMany("Tag", "the key %q would carry more than %d tags", k.ID, rules.perKey())
	}
	if len(tags) == 0 {
		tags = nil
	}
	return tags, nil
}

func (c *call) tagResource() (any, error) {
	tags, err := c.tagList("Tags")
	if err != nil {
		return nil, err
	}
	if len(tags) == 0 {
		return nil, missingParam("Tags")
	}
	retag := func(m map[string]string) { maps.Copy(m, tags) }
	if c.str("CertificateId") != "" {
		return nil, c.retagCertificate(retag)
	}
	if c.str("SecretName") != "" {
		return nil, c.retagSecret(retag)
	}
	c.changes = true
	t, err := c.resolve("KeyId")
	if err != nil {
		return nil, err
	}
	return nil, c.retag([]Key{t.key}, retag)
}

func (c *call) tagResources() (any, error) {
	tags, err := c.indexedTags()
	if err != nil {
		return nil, err
	}
	if len(tags) == 0 {
		return nil, missingParam("Tag.1.Key")
	}
	if err := checkTags("Tag", tags, c.req.TagRules); err != nil {
		return nil, err
	}
	c.changes = true
	keys, err := c.keyResources()
	if err != nil {
		return nil, err
	}
	return nil, c.retag(keys, func(m map[string]string) { maps.Copy(m, tags) })
}

func (c *call) untagResource() (any, error) {
	text, err := c.required("TagKeys")
	if err != nil {
		return nil, err
	}
	var names []string
	if err := json.Unmarshal([]byte(text), &names); err != nil || len(names) == 0 {
		return nil, invalidParam("TagKeys", `it must be a JSON list of tag keys like ["k1","k2"]`)
	}
	untag := func(m map[string]string) {
		for _, n := range names {
			delete(m, n)
		}
	}
	if c.str("CertificateId") != "" {
		return nil, c.retagCertificate(untag)
	}
	if c.str("SecretName") != "" {
		return nil, c.retagSecret(untag)
	}
	c.changes = true
	t, err := c.resolve("KeyId")
	if err != nil {
		return nil, err
	}
	return nil, c.retag([]Key{t.key}, untag)
}

func (c *call) untagResources() (any, error) {
	names, err := c.indexed("TagKey", "")
	if err != nil {
		return nil, err
	}
	all, err := c.bool("All", false)
	if err != nil {
		return nil, err
	}
	if len(names) == 0 && !all {
		return nil, missingParam("TagKey.1")
	}
	c.changes = true
	keys, err := c.keyResources()
	if err != nil {
		return nil, err
	}
	return nil, c.retag(keys, func(m map[string]string) {
		// All takes effect only when no tag key is named.
		if all && len(names) == 0 {
			clear(m)
		}
		for _, n := range names {
			delete(m, n)
		}
	})
}

func (c *call) listResourceTags() (any, error) {
	t, err := c.resolve("KeyId")
	if err != nil {
		return nil, err
	}
	return KeyTags{KeyID: t.key.ID, Tags: t.key.Tags}, nil
}

// listTagResources lists the matching tags of the named keys, or of every
// key, a page at a time, ordered by key as the store lists keys (creation
// time, then ID) and then by tag key: an order that keys made or deleted
// between pages do not shift, so a caller who follows NextToken sees every
// row that lasted the whole listing exactly once. A page of every key's tags
// reads the keys from its NextToken's place on, only until it has one row
// more than a page: its cost does not grow with the keys before that place.
func (c *call) listTagResources() (any, error) {
	filter, err := c.indexedTags()
	if err != nil {
		return nil, err
	}
	p := tagPage{filter: filter}
	if token := c.str("NextToken"); token != "" {
		cur, ok := parseTagCursor(token)
		if !ok {
			return nil, invalidParam("NextToken", "it must be a NextToken this service returned")
		}
		p.after = &cur
	}
	if _, named := c.p["ResourceId.1"]; named {
		err = c.namedKeyTags(&p)
	} else {
		err = c.everyKeyTags(&p)
	}
	if err != nil {
		return nil, err
	}
	return p.listing(), nil
}

// namedKeyTags fills p from the keys ResourceId.N names (at most
// MaxIndexed), each authorized, put in listing order.
func (c *call) namedKeyTags(p *tagPage) error {
	keys, err := c.keyResources()
	if err != nil {
		return err
	}
	slices.SortFunc(keys, func(a, b Key) int { return a.Position().Compare(b.Position()) })
	// A key named twice lists its tags once.
	keys = slices.CompactFunc(keys, func(a, b Key) bool { return a.ID == b.ID })
	for i := range keys {
		if p.add(&keys[i]) {
			break
		}
	}
	return nil
}

// tagScan is how many keys a page of every key's tags reads from the store
// at a time: one read fills a page when each key has a matching tag.
const tagScan = TagPageSize + 1

// everyKeyTags fills p from every key, for a caller allowed the action on
// the key collection, as ListKeys is: the key at p's cursor, whose later
// tags may remain, then the keys after it, until p is full.
func (c *call) everyKeyTags(p *tagPage) error {
	if err := c.authorize(c.s.CollectionARN("key")); err != nil {
		return err
	}
	now := c.s.clock.Now()
	var from KeyPosition
	if p.after != nil {
		from = p.after.key
		// The key at the cursor is read as it is now: gone, past its
		// deletion date or moved, it has no rows left at that place.
		k, err := c.s.store.GetKey(c.ctx, from.ID)
		switch {
		case errors.Is(err, ErrNotFound):
		case err != nil:
			return storeErr(err)
		case k.Position().Compare(from) == 0 && !k.PastDeletion(now) && p.add(&k):
			return nil
		}
	}
	for k, err := range c.s.keysAfter(c.ctx, now, from, tagScan) {
		if err != nil {
			return storeErr(err)
		}
		if p.add(k) {
			return nil
		}
	}
	return nil
}

// tagPage gathers one page of ListTagResources: the rows after its cursor
// that match its filter, in order.
type tagPage struct {
	// filter maps a tag key to the value a row must have ("": any).
	filter map[string]string
	// after is the cursor the page starts after (nil: from the first row).
	after *tagCursor
	items []TaggedResource
	// end is the place of the last item, where the next page starts.
	end tagCursor
	// more says a row matched beyond the page.
	more bool
}

// add adds k's matching rows after the cursor, by tag key, and reports
// whether the page is full: a row beyond it has matched, which tells that
// a NextToken is due. Keys come to it in listing order.
func (p *tagPage) add(k *Key) bool {
	pos := k.Position()
	// at places k against the cursor's key: before it, the key itself
	// (whose tags up to the cursor's are listed already), or after it.
	at := 1
	if p.after != nil {
		at = pos.Compare(p.after.key)
	}
	if at < 0 {
		return false
	}
	for _, name := range slices.Sorted(maps.Keys(k.Tags)) {
		value := k.Tags[name]
		if at == 0 && name <= p.after.tagKey {
			continue
		}
		if want, ok := p.filter[name]; len(p.filter) > 0 && (!ok || want != "" && want != value) {
			continue
		}
		if len(p.items) == TagPageSize {
			p.more = true
			return true
		}
		p.items = append(p.items, TaggedResource{ResourceID: k.ID, Key: name, Value: value})
		p.end = tagCursor{key: pos, tagKey: name}
	}
	return false
}

func (p *tagPage) listing() TagListing {
	out := TagListing{Items: p.items}
	if p.more {
		out.NextToken = p.end.token()
	}
	return out
}

func (c *call) describeRegions() (any, error) {
	if err := c.authorize(); err != nil {
		return nil, err
	}
	return Regions{c.s.region}, nil
}

// describeAccountKmsStatus answers whether the account has KMS: here it
// always does. Like DescribeRegions it is on no resource.
func (c *call) describeAccountKmsStatus() (any, error) {
	if err := c.authorize(); err != nil {
		return nil, err
	}
	return AccountStatus{Enabled: true}, nil
}

// openKmsService turns on what is always on: it succeeds and changes
// nothing, as Alibaba's does for an account that has KMS.
func (c *call) openKmsService() (any, error) {
	return nil, c.authorize()
}

func (c *call) setDeletionProtection() (any, error) {
	on, err := c.bool("EnableDeletionProtection", false)
	if err != nil {
		return nil, err
	}
	if c.str("EnableDeletionProtection") == "" {
		return nil, missingParam("EnableDeletionProtection")
	}
	desc, err := c.description("DeletionProtectionDescription")
	if err != nil {
		return nil, err
	}
	param := "KeyId"
	if c.str("ProtectedResourceArn") != "" {
		param = "ProtectedResourceArn"
	}
	c.changes = true
	t, err := c.resolve(param)
	if err != nil {
		return nil, err
	}
	_, err = c.s.mutate(c.ctx, t.key.ID, func(k *Key) error {
		if k.State == KeyPendingDeletion {
			return Errorf(CodePendingDeletion, "The key %q is pending deletion.", k.ID)
		}
		k.DeletionProtection, k.DeletionProtectionDescription = on, ""
		if on {
			k.DeletionProtectionDescription = desc
		}
		return nil
	})
	return nil, err
}
