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
