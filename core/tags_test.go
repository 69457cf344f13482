package core_test

import (
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/alibaba"
)

// tagsOf is a key's tags as ListResourceTags lists them.
func (f *svcFixture) tagsOf(id string) map[string]string {
	f.t.Helper()
	out := map[string]string{}
	for _, tag := range f.ok("ListResourceTags", "KeyId", id).(*alibaba.ListResourceTagsResponse).Tags.Tag {
		out[tag.TagKey] = tag.TagValue
	}
	return out
}

// fullTags is a Tags list of core.MaxTags tags.
func fullTags() string {
	tags := make([]string, core.MaxTags)
	for i := range tags {
		tags[i] = fmt.Sprintf(`{"TagKey":"k%d","TagValue":"v"}`, i)
	}
	return "[" + strings.Join(tags, ",") + "]"
}

// TestTagResourcesThatFailsOnOneKeyTagsNone holds TagResources to all or
// nothing for a bad request: a key that would carry too many tags, or one
// past its deletion date, refuses the request before any key is tagged.
func TestTagResourcesThatFailsOnOneKeyTagsNone(t *testing.T) {
	f := newSvcFixture(t)
	a, full := f.createKey(), f.createKey("Tags", fullTags())
	writes := f.store.writes.Load()
	_, err := f.call("TagResources", "ResourceType", "key", "ResourceId.1", a, "ResourceId.2", full, "Tag.1.Key", "team", "Tag.1.Value", "x")
	mustCode(t, err, core.CodeInvalidParameter)
	if got := f.tagsOf(a); len(got) != 0 {
		t.Fatalf("the refused request tagged %s: %v", a, got)
	}
	if n := f.store.writes.Load() - writes; n != 0 {
		t.Fatalf("the refused request made %d store writes", n)
	}

	doomed := f.createKey()
	f.ok("ScheduleKeyDeletion", "KeyId", doomed, "PendingWindowInDays", "7")
	f.clock.Advance(7 * 24 * time.Hour)
	_, err = f.call("TagResources", "ResourceType", "key", "ResourceId.1", a, "ResourceId.2", doomed, "Tag.1.Key", "team", "Tag.1.Value", "x")
	mustCode(t, err, core.CodeKeyNotFound)
	if got := f.tagsOf(a); len(got) != 0 {
		t.Fatalf("the refused request tagged %s: %v", a, got)
	}

	// A request that fits every key tags them all.
	f.ok("TagResources", "ResourceType", "key", "ResourceId.1", a, "ResourceId.2", full, "Tag.1.Key", "k0", "Tag.1.Value", "w")
	if got := f.tagsOf(a); !maps.Equal(got, map[string]string{"k0": "w"}) {
		t.Fatalf("tags of %s = %v", a, got)
	}
	if got := f.tagsOf(full); len(got) != core.MaxTags || got["k0"] != "w" {
		t.Fatalf("tags of %s = %v", full, got)
	}
}

// TestUntagResourcesThatFailsOnOneKeyUntagsNone is the same rule for
// UntagResources.
func TestUntagResourcesThatFailsOnOneKeyUntagsNone(t *testing.T) {
	f := newSvcFixture(t)
	a, doomed := f.createKey("Tags", `[{"TagKey":"team","TagValue":"x"}]`), f.createKey()
	f.ok("ScheduleKeyDeletion", "KeyId", doomed, "PendingWindowInDays", "7")
	f.clock.Advance(7 * 24 * time.Hour)
	_, err := f.call("UntagResources", "ResourceType", "key", "ResourceId.1", a, "ResourceId.2", doomed, "All", "true")
	mustCode(t, err, core.CodeKeyNotFound)
	if got := f.tagsOf(a); !maps.Equal(got, map[string]string{"team": "x"}) {
		t.Fatalf("the refused request left %s with %v", a, got)
	}
}

// TestTagsOfAKeyPendingDeletionStay holds both key-state tables: a key
// pending deletion refuses TagResource and UntagResource, and still lists
// its tags.
func TestTagsOfAKeyPendingDeletionStay(t *testing.T) {
	f := newSvcFixture(t)
	id := f.createKey("Tags", `[{"TagKey":"team","TagValue":"x"}]`)
	f.ok("ScheduleKeyDeletion", "KeyId", id, "PendingWindowInDays", "7")
	_, err := f.call("TagResource", "KeyId", id, "Tags", `[{"TagKey":"env","TagValue":"prod"}]`)
	mustCode(t, err, core.CodePendingDeletion)
	_, err = f.call("UntagResource", "KeyId", id, "TagKeys", `["team"]`)
	mustCode(t, err, core.CodePendingDeletion)
	_, err = f.call("UntagResources", "ResourceType", "key", "ResourceId.1", id, "All", "true")
	mustCode(t, err, core.CodePendingDeletion)
	if got := f.tagsOf(id); !maps.Equal(got, map[string]string{"team": "x"}) {
		t.Fatalf("tags of a key pending deletion = %v", got)
	}
}

// TestTagRulesOfAnotherProtocol holds the rules a protocol sets for its own
// requests: its count per key, and its code for passing it; and a key with
// more tags than Alibaba's limit, tagged under the other protocol's rules,
// may still be untagged and have its values changed under Alibaba's.
func TestTagRulesOfAnotherProtocol(t *testing.T) {
	f := newSvcFixture(t)
	rules := core.TagRules{PerKey: 30, TooMany: "TooManyTags", Checked: true}
	as := func(action string, kv ...string) (any, error) {
		return f.svc.Handle(background, &core.Request{ID: "REQ", Action: action, Params: svcParams(kv...), Caller: f.admin, TagRules: rules})
	}
	list := func(from, to int) string {
		var tags []string
		for i := from; i < to; i++ {
			tags = append(tags, fmt.Sprintf(`{"TagKey":"k%d","TagValue":"%s"}`, i, strings.Repeat("v", 200)))
		}
		return "[" + strings.Join(tags, ",") + "]"
	}
	created, err := as("CreateKey", "Tags", list(0, 25))
	if err != nil {
		t.Fatal(err)
	}
	id := created.(core.Key).ID
	if _, err := as("TagResource", "KeyId", id, "Tags", list(25, 31)); err == nil || core.AsError(err).Code != "TooManyTags" {
		t.Fatalf("a 31st tag: %v", err)
	}
	_, err = as("CreateKey", "Tags", list(0, 31))
	if err == nil || core.AsError(err).Code != "TooManyTags" {
		t.Fatalf("a new key with 31 tags: %v", err)
	}
	// Under Alibaba's rules: no more tags, but values change and tags go.
	_, err = f.call("TagResource", "KeyId", id, "Tags", `[{"TagKey":"k25","TagValue":"v"}]`)
	mustCode(t, err, core.CodeInvalidParameter)
	f.ok("TagResource", "KeyId", id, "Tags", `[{"TagKey":"k0","TagValue":"v"}]`)
	f.ok("UntagResource", "KeyId", id, "TagKeys", `["k1","k2"]`)
	if got := f.tagsOf(id); len(got) != 23 || got["k0"] != "v" {
		t.Fatalf("%d tags, k0=%q; want 23 and v", len(got), got["k0"])
	}
}

// Tags given to CreateKey tag the new key, so they need kms:TagResource on it
// too, as AWS documents: a caller denied tagging cannot set, by creating a
// key, the tags that kms:tag/… conditions read.
func TestCreateKeyWithTagsNeedsTagResource(t *testing.T) {
	s, _ := memService(t, core.Config{})
	create := func(p *core.Policy, params core.Params) error {
		caller := &core.Principal{Name: "maker", AccessKeyID: "maker", Policy: p}
		_, err := s.Handle(background, &core.Request{ID: "r", Action: "CreateKey", Params: params, Caller: caller})
		return err
	}
	tagged := core.Params{"Tags": `[{"TagKey":"team","TagValue":"payments"}]`}
	denied := core.MustPolicy(
		core.Statement{Effect: "Allow", Action: []string{"kms:*"}, Resource: []string{"*"}},
		core.Statement{Effect: "Deny", Action: []string{"kms:TagResource"}, Resource: []string{"*"}})
	if e := mustCode(t, create(denied, tagged), core.CodeNoPermission); !strings.Contains(e.Message, "kms:TagResource") {
		t.Errorf("refusal %q does not name kms:TagResource", e.Message)
	}
	if err := create(denied, core.Params{}); err != nil {
		t.Errorf("CreateKey without tags, by a caller denied tagging: %v", err)
	}
	createOnly := core.MustPolicy(core.Statement{Effect: "Allow", Action: []string{"kms:CreateKey"}, Resource: []string{"acs:kms:*:*:key"}})
	mustCode(t, create(createOnly, tagged), core.CodeNoPermission)
	both := core.MustPolicy(
		core.Statement{Effect: "Allow", Action: []string{"kms:CreateKey"}, Resource: []string{"acs:kms:*:*:key"}},
		core.Statement{Effect: "Allow", Action: []string{"kms:TagResource"}, Resource: []string{"acs:kms:*:*:key/*"}})
	if err := create(both, tagged); err != nil {
		t.Errorf("CreateKey with tags, allowed CreateKey and TagResource on keys: %v", err)
	}
}
