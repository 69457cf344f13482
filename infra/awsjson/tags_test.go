package awsjson_test

import (
	"encoding/base64"
	"fmt"
	"maps"
	"slices"
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

// walkTags lists a key's tag keys by following NextMarker, pages of limit,
// calling between after each page but the last. Each marker must be one AWS
// documents: 1 to 320 characters from U+0020 to U+00FF.
func (e *env) walkTags(t *testing.T, id string, limit int32, between func(page int)) []string {
	t.Helper()
	var keys []string
	in := &kms.ListResourceTagsInput{KeyId: aws.String(id), Limit: aws.Int32(limit)}
	for page := 1; ; page++ {
		out, err := e.aws.ListResourceTags(bg, in)
		if err != nil {
			t.Fatal(err)
		}
		for _, tag := range out.Tags {
			keys = append(keys, aws.ToString(tag.TagKey))
		}
		if !out.Truncated {
			return keys
		}
		if m := aws.ToString(out.NextMarker); m == "" || len(m) > 320 || strings.ContainsFunc(m, func(r rune) bool { return r < 0x20 || r > 0xff }) {
			t.Fatalf("page %d: NextMarker %q (%d characters) is not one AWS documents", page, m, len(m))
		}
		between(page)
		in.Marker = out.NextMarker
	}
}

// A marker resumes after the last tag key listed, so a tag removed from a
// page already read does not shift the next: k01 was there throughout.
func TestSDKTagMarkersSurviveUntagging(t *testing.T) {
	e := newEnv(t)
	id := e.createKey()
	if _, err := e.aws.TagResource(bg, &kms.TagResourceInput{KeyId: aws.String(id), Tags: tagList(0, 3, "v")}); err != nil {
		t.Fatal(err)
	}
	got := e.walkTags(t, id, 1, func(page int) {
		if page == 1 {
			if _, err := e.aws.UntagResource(bg, &kms.UntagResourceInput{KeyId: aws.String(id), TagKeys: []string{"k00"}}); err != nil {
				t.Fatal(err)
			}
		}
	})
	if want := []string{"k00", "k01", "k02"}; !slices.Equal(got, want) {
		t.Fatalf("listed %v, want %v", got, want)
	}
}

// A marker after a tag key too long to hold whole within AWS's 320
// characters holds its first bytes and its digest: it resumes after that
// key among others that share them, and once the key is untagged, at the
// first that shares them, so that the keys there throughout are all listed
// (one that sorts before it, again).
func TestSDKTagMarkersOfLongKeys(t *testing.T) {
	e := newEnv(t)
	id := e.createKey()
	shared := strings.Repeat("\U0001F600", 55) // 220 bytes
	before, longest, after := shared+"a", strings.Repeat("\U0001F600", 128), shared+strings.Repeat("\U0001F601", 73)
	if _, err := e.aws.TagResource(bg, &kms.TagResourceInput{KeyId: aws.String(id), Tags: []types.Tag{
		{TagKey: aws.String("k00"), TagValue: aws.String("v")},
		{TagKey: aws.String(before), TagValue: aws.String("v")},
		{TagKey: aws.String(longest), TagValue: aws.String("v")},
		{TagKey: aws.String(after), TagValue: aws.String("v")},
	}}); err != nil {
		t.Fatal(err)
	}
	all := []string{"k00", before, longest, after}
	if got := e.walkTags(t, id, 1, func(int) {}); !slices.Equal(got, all) {
		t.Fatalf("listed %d tags, not the 4 in order", len(got))
	}
	got := e.walkTags(t, id, 1, func(page int) {
		if page == 3 { // the marker names longest
			if _, err := e.aws.UntagResource(bg, &kms.UntagResourceInput{KeyId: aws.String(id), TagKeys: []string{longest}}); err != nil {
				t.Fatal(err)
			}
		}
	})
	if want := []string{"k00", before, longest, before, after}; !slices.Equal(got, want) {
		t.Fatalf("listed %d tags, not k00, before, longest, before, after", len(got))
	}
}

// Tags added between pages are listed once if they sort after the marker,
// and not at all if before it; those there throughout, exactly once.
func TestSDKTagMarkersSurviveTagging(t *testing.T) {
	e := newEnv(t)
	id := e.createKey()
	if _, err := e.aws.TagResource(bg, &kms.TagResourceInput{KeyId: aws.String(id), Tags: []types.Tag{
		{TagKey: aws.String("k01"), TagValue: aws.String("v")},
		{TagKey: aws.String("k03"), TagValue: aws.String("v")},
		{TagKey: aws.String("k05"), TagValue: aws.String("v")},
	}}); err != nil {
		t.Fatal(err)
	}
	got := e.walkTags(t, id, 2, func(page int) {
		if page == 1 {
			if _, err := e.aws.TagResource(bg, &kms.TagResourceInput{KeyId: aws.String(id), Tags: tagList(0, 5, "w")}); err != nil {
				t.Fatal(err)
			}
		}
	})
	if want := []string{"k01", "k03", "k04", "k05"}; !slices.Equal(got, want) {
		t.Fatalf("listed %v, want %v", got, want)
	}
}

func TestSDKTagMarkersRefuseForgeries(t *testing.T) {
	e := newEnv(t)
	id := e.createKey()
	if _, err := e.aws.TagResource(bg, &kms.TagResourceInput{KeyId: aws.String(id), Tags: tagList(0, 2, "v")}); err != nil {
		t.Fatal(err)
	}
	first, err := e.aws.ListResourceTags(bg, &kms.ListResourceTagsInput{KeyId: aws.String(id), Limit: aws.Int32(1)})
	if err != nil || first.NextMarker == nil {
		t.Fatalf("the first page: %v", err)
	}
	marker := func(b ...byte) string { return base64.RawURLEncoding.EncodeToString(b) }
	// The first marker, of k00, is 4 bytes: its last character holds 2 bits
	// of them and 4 spare ones, which base64 decodes alike set or not.
	m := *first.NextMarker
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	spare := m[:len(m)-1] + string(alphabet[strings.IndexByte(alphabet, m[len(m)-1])+1])
	for name, m := range map[string]string{
		"garbage":                 "%%not a marker%%",
		"a page number":           "2",
		"another version":         marker(append([]byte{2}, "k00"...)...),
		"no tag key":              marker(1),
		"a tag key not UTF-8":     marker(1, 'k', 0xff),
		"a tag key too long":      marker(append([]byte{1}, strings.Repeat("k", 129)...)...),
		"a cut key too short":     marker(append(append([]byte{2}, make([]byte, 16)...), strings.Repeat("k", 216)...)...),
		"a cut key too long":      marker(append(append([]byte{2}, make([]byte, 16)...), strings.Repeat("k", 221)...)...),
		"a cut key not UTF-8":     marker(append(append([]byte{2}, make([]byte, 16)...), strings.Repeat("\xff", 220)...)...),
		"a cut key of no digest":  marker(append([]byte{2}, strings.Repeat("k", 220)...)...),
		"a marker cut short":      (*first.NextMarker)[:1],
		"a marker with more":      *first.NextMarker + "=",
		"a marker padded to size": strings.Repeat("A", 4096),
		// Found by FuzzParseTagMarker: "AX1" read as the marker "AX0".
		"a spare bit set":     spare,
		"a line break inside": m[:2] + "\n" + m[2:],
	} {
		_, err := e.aws.ListResourceTags(bg, &kms.ListResourceTagsInput{KeyId: aws.String(id), Marker: aws.String(m)})
		var bad *types.InvalidMarkerException
		if !asType(err, &bad) {
			t.Errorf("%s: want *types.InvalidMarkerException, got %v", name, err)
		}
	}
	next, err := e.aws.ListResourceTags(bg, &kms.ListResourceTagsInput{KeyId: aws.String(id), Limit: aws.Int32(1), Marker: first.NextMarker})
	if err != nil || len(next.Tags) != 1 || aws.ToString(next.Tags[0].TagKey) != "k01" || next.Truncated {
		t.Fatalf("the page after the first: %+v, %v", next, err)
	}

	// The marker after the longest tag key, 128 characters of 4 bytes, is
	// one this service takes back.
	longest := strings.Repeat("\U0001F600", 128)
	if _, err := e.aws.TagResource(bg, &kms.TagResourceInput{KeyId: aws.String(id), Tags: []types.Tag{
		{TagKey: aws.String(longest), TagValue: aws.String("v")},
		{TagKey: aws.String("\U0001F601"), TagValue: aws.String("v")},
	}}); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"k00": "v", "k01": "v", longest: "v", "\U0001F601": "v"}
	if got, pages := e.awsTags(t, id, 1); !maps.Equal(got, want) || pages != 4 {
		t.Fatalf("%d pages of %d tags; want 4 of 4", pages, len(got))
	}
}

// A tag key AWS's rules here take, a NUL in it included, pages by its
// marker like any other: the marker is base64, whatever the key holds.
func TestSDKTagMarkersPageTagKeysOfAnyCharacter(t *testing.T) {
	e := newEnv(t)
	id := e.createKey()
	want := map[string]string{"\x00": "a", "k\x00": "b", "k\x01\x7f": "c", "z": "d"}
	var tags []types.Tag
	for k, v := range want {
		tags = append(tags, types.Tag{TagKey: aws.String(k), TagValue: aws.String(v)})
	}
	if _, err := e.aws.TagResource(bg, &kms.TagResourceInput{KeyId: aws.String(id), Tags: tags}); err != nil {
		t.Fatal(err)
	}
	// Found by FuzzListResourceTagsWalk: the marker after "\x00" was
	// refused as ValidationException, naming a parameter no caller sends.
	if got, pages := e.awsTags(t, id, 1); !maps.Equal(got, want) || pages != 4 {
		t.Fatalf("%d pages of %q; want 4 of %q", pages, got, want)
	}
}
