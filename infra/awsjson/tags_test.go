package awsjson_test

import (
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/kmsless/kmsless/core"
)

// tagList is n tags k<from>… with value v.
func tagList(from, n int, v string) []types.Tag {
	tags := make([]types.Tag, n)
	for i := range tags {
		tags[i] = types.Tag{TagKey: aws.String(fmt.Sprintf("k%02d", from+i)), TagValue: aws.String(v)}
	}
	return tags
}

// awsTags lists a key's tags through the SDK's paginator, pages of limit;
// it returns the tags and the number of pages.
func (e *env) awsTags(t *testing.T, id string, limit int32) (map[string]string, int) {
	t.Helper()
	got, pages := map[string]string{}, 0
	p := kms.NewListResourceTagsPaginator(e.aws, &kms.ListResourceTagsInput{KeyId: aws.String(id), Limit: aws.Int32(limit)})
	for p.HasMorePages() {
		out, err := p.NextPage(bg)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(out.Tags) > int(limit) {
			t.Fatalf("page %d has %d tags, over the limit %d", pages, len(out.Tags), limit)
		}
		for _, tag := range out.Tags {
			k := aws.ToString(tag.TagKey)
			if _, dup := got[k]; dup {
				t.Fatalf("tag %s listed twice", k)
			}
			got[k] = aws.ToString(tag.TagValue)
		}
	}
	return got, pages
}

func TestSDKTagsLifecycle(t *testing.T) {
	e := newEnv(t)
	// AWS's rules, wider than Alibaba's: a value of 256 characters.
	long := strings.Repeat("é", 256)
	created, err := e.aws.CreateKey(bg, &kms.CreateKeyInput{Tags: []types.Tag{
		{TagKey: aws.String("team"), TagValue: aws.String("payments")},
		{TagKey: aws.String("note"), TagValue: aws.String(long)},
		{TagKey: aws.String("empty"), TagValue: aws.String("")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(created.KeyMetadata.KeyId)
	want := map[string]string{"team": "payments", "note": long, "empty": ""}
	if got, _ := e.awsTags(t, id, 50); !maps.Equal(got, want) {
		t.Fatalf("tags of the new key = %v", got)
	}

	// Up to AWS's 50 a key, more than Alibaba's 20, over pages.
	if _, err := e.aws.TagResource(bg, &kms.TagResourceInput{KeyId: aws.String(keyARN(id)), Tags: tagList(0, 46, "v")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.aws.TagResource(bg, &kms.TagResourceInput{KeyId: aws.String(id), Tags: []types.Tag{
		{TagKey: aws.String("team"), TagValue: aws.String("ledger")},
		{TagKey: aws.String("k46"), TagValue: aws.String("v")},
	}}); err != nil {
		t.Fatal(err)
	}
	for i := range 47 {
		want[fmt.Sprintf("k%02d", i)] = "v"
	}
	want["team"] = "ledger"
	got, pages := e.awsTags(t, id, 20)
	if !maps.Equal(got, want) || pages != 3 {
		t.Fatalf("%d pages of %d tags; want 3 pages of %d: %v", pages, len(got), len(want), got)
	}
	first, err := e.aws.ListResourceTags(bg, &kms.ListResourceTagsInput{KeyId: aws.String(id)})
	if err != nil || len(first.Tags) != 50 || first.Truncated || first.NextMarker != nil {
		t.Fatalf("the default page: %d tags, truncated %v, %v", len(first.Tags), first.Truncated, err)
	}

	// A 51st tag is refused, and changes nothing.
	_, err = e.aws.TagResource(bg, &kms.TagResourceInput{KeyId: aws.String(id), Tags: tagList(47, 1, "v")})
	var tagErr *types.TagException
	if !asType(err, &tagErr) {
		t.Fatalf("a 51st tag: want *types.TagException, got %v", err)
	}

	// Untagging a key that is not there is no error.
	if _, err := e.aws.UntagResource(bg, &kms.UntagResourceInput{KeyId: aws.String(id), TagKeys: []string{"note", "k00", "absent"}}); err != nil {
		t.Fatal(err)
	}
	delete(want, "note")
	delete(want, "k00")
	if got, _ := e.awsTags(t, id, 7); !maps.Equal(got, want) {
		t.Fatalf("after UntagResource: %v", got)
	}
}

func TestSDKTagErrors(t *testing.T) {
	e := newEnv(t)
	keys := func() int {
		l, err := e.aws.ListKeys(bg, &kms.ListKeysInput{})
		if err != nil {
			t.Fatal(err)
		}
		return len(l.Keys)
	}
	var tagErr *types.TagException
	// A bad tag creates no key.
	for name, tags := range map[string][]types.Tag{
		"aws: prefix":  {{TagKey: aws.String("AWS:cloudformation:stack-id"), TagValue: aws.String("x")}},
		"acs: prefix":  {{TagKey: aws.String("acs:rm:rgId"), TagValue: aws.String("x")}},
		"a key twice":  {{TagKey: aws.String("a"), TagValue: aws.String("1")}, {TagKey: aws.String("a"), TagValue: aws.String("2")}},
		"51 tags":      tagList(0, 51, "v"),
		"a long key":   {{TagKey: aws.String(strings.Repeat("k", 129)), TagValue: aws.String("x")}},
		"a long value": {{TagKey: aws.String("k"), TagValue: aws.String(strings.Repeat("v", 257))}},
	} {
		_, err := e.aws.CreateKey(bg, &kms.CreateKeyInput{Tags: tags})
		if strings.HasPrefix(name, "a long") {
			apiErrorNamed(t, name, err, "ValidationException")
		} else if !asType(err, &tagErr) {
			t.Errorf("%s: want *types.TagException, got %v", name, err)
		}
	}
	if n := keys(); n != 0 {
		t.Fatalf("refused CreateKey requests made %d keys", n)
	}

	id := e.createKey()
	_, err := e.aws.TagResource(bg, &kms.TagResourceInput{KeyId: aws.String(id), Tags: []types.Tag{{TagKey: aws.String("aws:x"), TagValue: aws.String("y")}}})
	if !asType(err, &tagErr) {
		t.Errorf("TagResource aws:x: want *types.TagException, got %v", err)
	}
	_, err = e.aws.TagResource(bg, &kms.TagResourceInput{KeyId: aws.String("key-doesnotexist0000000000"), Tags: tagList(0, 1, "v")})
	var nf *types.NotFoundException
	if !asType(err, &nf) {
		t.Errorf("TagResource of no key: want *types.NotFoundException, got %v", err)
	}
	_, err = e.aws.ListResourceTags(bg, &kms.ListResourceTagsInput{KeyId: aws.String(id), Marker: aws.String("not-a-marker")})
	var marker *types.InvalidMarkerException
	if !asType(err, &marker) {
		t.Errorf("a made-up marker: want *types.InvalidMarkerException, got %v", err)
	}
	_, err = e.aws.ListResourceTags(bg, &kms.ListResourceTagsInput{KeyId: aws.String(id), Limit: aws.Int32(51)})
	apiErrorNamed(t, "Limit 51", err, "ValidationException")

	// A key pending deletion keeps its tags, and lists them.
	if _, err := e.aws.TagResource(bg, &kms.TagResourceInput{KeyId: aws.String(id), Tags: tagList(0, 1, "v")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.aws.ScheduleKeyDeletion(bg, &kms.ScheduleKeyDeletionInput{KeyId: aws.String(id), PendingWindowInDays: aws.Int32(7)}); err != nil {
		t.Fatal(err)
	}
	var invalidState *types.KMSInvalidStateException
	if _, err := e.aws.TagResource(bg, &kms.TagResourceInput{KeyId: aws.String(id), Tags: tagList(1, 1, "v")}); !asType(err, &invalidState) {
		t.Errorf("TagResource pending deletion: want *types.KMSInvalidStateException, got %v", err)
	}
	if _, err := e.aws.UntagResource(bg, &kms.UntagResourceInput{KeyId: aws.String(id), TagKeys: []string{"k00"}}); !asType(err, &invalidState) {
		t.Errorf("UntagResource pending deletion: want *types.KMSInvalidStateException, got %v", err)
	}
	if got, _ := e.awsTags(t, id, 50); !maps.Equal(got, map[string]string{"k00": "v"}) {
		t.Errorf("tags of a key pending deletion: %v", got)
	}
}

// TestSDKTagsAreAuthorizedAsTheAlibabaActions holds the AWS operations to
// the policy names the Alibaba ones have: kms:ListResourceTags lists, and
// does not tag.
func TestSDKTagsAreAuthorizedAsTheAlibabaActions(t *testing.T) {
	lister := core.MustPolicy(core.Statement{Effect: "Allow", Action: []string{"kms:ListResourceTags"}, Resource: []string{"acs:kms:*:*:key/*"}})
	e := newEnv(t, withPrincipal("lister", "AKIALISTER0000000001", "lister-secret", 1000, lister))
	id := e.createKey()
	c := e.client("AKIALISTER0000000001", "lister-secret")
	if _, err := c.ListResourceTags(bg, &kms.ListResourceTagsInput{KeyId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	_, err := c.TagResource(bg, &kms.TagResourceInput{KeyId: aws.String(id), Tags: tagList(0, 1, "v")})
	if ae := apiError(t, err, "AccessDeniedException"); !strings.Contains(ae.ErrorMessage(), "kms:TagResource") {
		t.Errorf("denied with %q", ae.ErrorMessage())
	}
	_, err = c.UntagResource(bg, &kms.UntagResourceInput{KeyId: aws.String(id), TagKeys: []string{"k00"}})
	apiError(t, err, "AccessDeniedException")
}
