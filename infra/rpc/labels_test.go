package rpc_test

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsless/kmsless/core"
)

func tagsOf(t *testing.T, e *env, keyID string) map[string]string {
	t.Helper()
	r, err := e.client.ListResourceTags(&kms.ListResourceTagsRequest{KeyId: tea.String(keyID)})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, tag := range r.Body.Tags.Tag {
		if tea.StringValue(tag.KeyId) != keyID {
			t.Errorf("a tag of %s listed for %s", tea.StringValue(tag.KeyId), keyID)
		}
		out[tea.StringValue(tag.TagKey)] = tea.StringValue(tag.TagValue)
	}
	return out
}

func TestSDKTagsLifecycle(t *testing.T) {
	e := newEnv(t)
	created, err := e.client.CreateKey(&kms.CreateKeyRequest{Tags: tea.String(`[{"TagKey":"team","TagValue":"payments"},{"TagKey":"env","TagValue":"prod"}]`)})
	if err != nil {
		t.Fatal(err)
	}
	a, b := tea.StringValue(created.Body.KeyMetadata.KeyId), e.createKey()
	if got := tagsOf(t, e, a); len(got) != 2 || got["team"] != "payments" {
		t.Fatalf("tags from CreateKey = %v", got)
	}
	if _, err := e.client.TagResource(&kms.TagResourceRequest{KeyId: tea.String(a), Tags: tea.String(`[{"TagKey":"team","TagValue":"ledger"},{"TagKey":"cost","TagValue":"42"}]`)}); err != nil {
		t.Fatal(err)
	}
	if got := tagsOf(t, e, a); len(got) != 3 || got["team"] != "ledger" || got["cost"] != "42" {
		t.Fatalf("after TagResource = %v", got)
	}
	if _, err := e.client.UntagResource(&kms.UntagResourceRequest{KeyId: tea.String(a), TagKeys: tea.String(`["cost","absent"]`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.TagResources(&kms.TagResourcesRequest{RegionId: tea.String(testRegion), ResourceType: tea.String("key"),
		ResourceId: tea.StringSlice([]string{a, b}), Tag: []*kms.TagResourcesRequestTag{{Key: tea.String("shared"), Value: tea.String("yes")}}}); err != nil {
		t.Fatal(err)
	}
	if got := tagsOf(t, e, b); len(got) != 1 || got["shared"] != "yes" {
		t.Fatalf("b after TagResources = %v", got)
	}
	// Rows come in the order ListKeys lists their keys, whatever order the
	// request names the keys in.
	listed, _ := e.listKeys("", 1, 100)
	var want []string
	for _, id := range listed {
		want = append(want, id+":shared=yes")
	}
	for _, named := range [][]string{{a, b}, {b, a}} {
		list, err := e.client.ListTagResources(&kms.ListTagResourcesRequest{RegionId: tea.String(testRegion), ResourceType: tea.String("key"),
			ResourceId: tea.StringSlice(named), Tag: []*kms.ListTagResourcesRequestTag{{Key: tea.String("shared")}}})
		if err != nil {
			t.Fatal(err)
		}
		var seen []string
		for _, r := range list.Body.TagResources.TagResource {
			seen = append(seen, tea.StringValue(r.ResourceId)+":"+tea.StringValue(r.TagKey)+"="+tea.StringValue(r.TagValue))
		}
		if !slices.Equal(seen, want) {
			t.Fatalf("ListTagResources of %v = %v, want %v", named, seen, want)
		}
	}
	if _, err := e.client.UntagResources(&kms.UntagResourcesRequest{RegionId: tea.String(testRegion), ResourceType: tea.String("key"),
		ResourceId: tea.StringSlice([]string{a, b}), All: tea.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if got := tagsOf(t, e, a); len(got) != 0 {
		t.Fatalf("after UntagResources All = %v", got)
	}
}

func TestSDKTagLimits(t *testing.T) {
	e := newEnv(t)
	key := e.createKey()
	var many []string
	for i := range 21 {
		many = append(many, fmt.Sprintf(`{"TagKey":"t%d","TagValue":"v"}`, i))
	}
	long := strings.Repeat("k", 129)
	for name, tags := range map[string]string{
		"21 tags":                     "[" + strings.Join(many, ",") + "]",
		"a 129-character key":         `[{"TagKey":"` + long + `","TagValue":"v"}]`,
		"a 129-character value":       `[{"TagKey":"k","TagValue":"` + long + `"}]`,
		"reserved acs: prefix":        `[{"TagKey":"acs:owner","TagValue":"v"}]`,
		"reserved aliyun prefix":      `[{"TagKey":"Aliyun-x","TagValue":"v"}]`,
		"a character outside the set": `[{"TagKey":"a<b","TagValue":"v"}]`,
		"not JSON":                    `team=payments`,
	} {
		_, err := e.client.TagResource(&kms.TagResourceRequest{KeyId: tea.String(key), Tags: tea.String(tags)})
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		sdkError(t, err, core.CodeInvalidParameter, http.StatusBadRequest)
	}
	// 20 tags fit; one more, added later, does not.
	if _, err := e.client.TagResource(&kms.TagResourceRequest{KeyId: tea.String(key), Tags: tea.String("[" + strings.Join(many[:20], ",") + "]")}); err != nil {
		t.Fatal(err)
	}
	_, err := e.client.TagResource(&kms.TagResourceRequest{KeyId: tea.String(key), Tags: tea.String(`[{"TagKey":"one-more","TagValue":"v"}]`)})
	sdkError(t, err, core.CodeInvalidParameter, http.StatusBadRequest)
}

func TestSDKDeletionProtectionIsEnforced(t *testing.T) {
	e := newEnv(t)
	key := e.createKey()
	if _, err := e.client.SetDeletionProtection(&kms.SetDeletionProtectionRequest{ProtectedResourceArn: tea.String(keyARN(key)),
		EnableDeletionProtection: tea.Bool(true), DeletionProtectionDescription: tea.String("holds the ledger")}); err != nil {
		t.Fatal(err)
	}
	d, err := e.client.DescribeKey(&kms.DescribeKeyRequest{KeyId: tea.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	if m := d.Body.KeyMetadata; tea.StringValue(m.DeletionProtection) != "Enabled" || tea.StringValue(m.DeletionProtectionDescription) != "holds the ledger" {
		t.Fatalf("DescribeKey shows %s (%s)", tea.StringValue(m.DeletionProtection), tea.StringValue(m.DeletionProtectionDescription))
	}
	_, err = e.client.ScheduleKeyDeletion(&kms.ScheduleKeyDeletionRequest{KeyId: tea.String(key), PendingWindowInDays: tea.Int32(7)})
	sdkError(t, err, core.CodeDeletionProtection, http.StatusConflict)
	if _, err := e.client.SetDeletionProtection(&kms.SetDeletionProtectionRequest{ProtectedResourceArn: tea.String(keyARN(key)),
		EnableDeletionProtection: tea.Bool(false)}); err != nil {
		t.Fatal(err)
	}
	d, _ = e.client.DescribeKey(&kms.DescribeKeyRequest{KeyId: tea.String(key)})
	if m := d.Body.KeyMetadata; tea.StringValue(m.DeletionProtection) != "Disabled" || tea.StringValue(m.DeletionProtectionDescription) != "" {
		t.Fatalf("after turning it off: %s (%s)", tea.StringValue(m.DeletionProtection), tea.StringValue(m.DeletionProtectionDescription))
	}
	if _, err := e.client.ScheduleKeyDeletion(&kms.ScheduleKeyDeletionRequest{KeyId: tea.String(key), PendingWindowInDays: tea.Int32(7)}); err != nil {
		t.Fatal(err)
	}
}

func TestSDKUpdateKeyDescriptionAndDescribeRegions(t *testing.T) {
	e := newEnv(t)
	key := e.createKey()
	if _, err := e.client.UpdateKeyDescription(&kms.UpdateKeyDescriptionRequest{KeyId: tea.String(key), Description: tea.String("orders, since 2026")}); err != nil {
		t.Fatal(err)
	}
	d, err := e.client.DescribeKey(&kms.DescribeKeyRequest{KeyId: tea.String(key)})
	if err != nil || tea.StringValue(d.Body.KeyMetadata.Description) != "orders, since 2026" {
		t.Fatalf("DescribeKey after UpdateKeyDescription = %v, %v", d, err)
	}
	r, err := e.client.DescribeRegions()
	if err != nil {
		t.Fatal(err)
	}
	if rs := r.Body.Regions.Region; len(rs) != 1 || tea.StringValue(rs[0].RegionId) != testRegion {
		t.Fatalf("DescribeRegions = %v", r.Body)
	}
}

// TestSDKAccountKmsStatus: the account has KMS, and turning it on again
// succeeds; both are actions a policy names, refused to one that does not.
func TestSDKAccountKmsStatus(t *testing.T) {
	const id, secret = "LTAI5tRegionsOnly00001", "regions-secret"
	e := newEnv(t, withPrincipal("regions", id, secret, 1000,
		core.MustPolicy(core.Statement{Effect: "Allow", Action: []string{"kms:DescribeRegions"}, Resource: []string{"*"}})))
	r, err := e.client.DescribeAccountKmsStatus()
	if err != nil || tea.StringValue(r.Body.AccountStatus) != "Enabled" || tea.StringValue(r.Body.RequestId) == "" {
		t.Fatalf("DescribeAccountKmsStatus = %v, %v", r, err)
	}
	if _, err := e.client.OpenKmsService(); err != nil {
		t.Fatalf("OpenKmsService: %v", err)
	}
	narrow := e.sdk(id, secret)
	for name, call := range map[string]func() error{
		"DescribeAccountKmsStatus": func() error { _, err := narrow.DescribeAccountKmsStatus(); return err },
		"OpenKmsService":           func() error { _, err := narrow.OpenKmsService(); return err },
	} {
		var se *tea.SDKError
		if err := call(); err == nil || !errors.As(err, &se) || tea.StringValue(se.Code) != core.CodeNoPermission {
			t.Errorf("%s by a principal allowed only DescribeRegions: %v", name, err)
		}
	}
}

// A tag condition reads the key's tags as stored when the request comes.
func TestTagConditionFollowsTheKeysTags(t *testing.T) {
	const id, secret = "LTAI5tPaymentsTeam0001", "payments-secret"
	e := newEnv(t, withPrincipal("payments", id, secret, 1000, core.MustPolicy(core.Statement{
		Effect: "Allow", Action: []string{"kms:Encrypt"}, Resource: []string{"*"},
		Condition: []core.Condition{{Operator: "StringEquals", Key: "kms:tag/team", Values: []string{"payments"}}}})))
	key := e.createKey()
	team := e.sdk(id, secret)
	_, err := team.Encrypt(&kms.EncryptRequest{KeyId: tea.String(key), Plaintext: tea.String("aGk=")})
	sdkError(t, err, core.CodeNoPermission, http.StatusForbidden)
	if _, err := e.client.TagResource(&kms.TagResourceRequest{KeyId: tea.String(key), Tags: tea.String(`[{"TagKey":"team","TagValue":"payments"}]`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := team.Encrypt(&kms.EncryptRequest{KeyId: tea.String(key), Plaintext: tea.String("aGk=")}); err != nil {
		t.Fatalf("after tagging: %v", err)
	}
}

// TestUntagResourcesAllYieldsToNamedTagKeys: All removes every tag only when
// no TagKey.N is named, as the SDK documents it.
func TestUntagResourcesAllYieldsToNamedTagKeys(t *testing.T) {
	e := newEnv(t)
	id := e.createKey()
	if _, err := e.client.TagResources(&kms.TagResourcesRequest{RegionId: tea.String(testRegion), ResourceType: tea.String("key"),
		ResourceId: tea.StringSlice([]string{id}), Tag: []*kms.TagResourcesRequestTag{
			{Key: tea.String("a"), Value: tea.String("1")}, {Key: tea.String("b"), Value: tea.String("2")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.UntagResources(&kms.UntagResourcesRequest{RegionId: tea.String(testRegion), ResourceType: tea.String("key"),
		ResourceId: tea.StringSlice([]string{id}), TagKey: tea.StringSlice([]string{"a"}), All: tea.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if got := tagsOf(t, e, id); len(got) != 1 || got["b"] != "2" {
		t.Fatalf("All=true with TagKey.1=a left %v, want b=2", got)
	}
}

// TestListTagResourcesByTagAlone lists, without ResourceId.N, the tags of
// every key that match the filter.
func TestListTagResourcesByTagAlone(t *testing.T) {
	e := newEnv(t)
	a, b, untagged := e.createKey(), e.createKey(), e.createKey()
	for id, team := range map[string]string{a: "pay", b: "ledger"} {
		if _, err := e.client.TagResources(&kms.TagResourcesRequest{RegionId: tea.String(testRegion), ResourceType: tea.String("key"),
			ResourceId: tea.StringSlice([]string{id}), Tag: []*kms.TagResourcesRequestTag{{Key: tea.String("team"), Value: tea.String(team)}}}); err != nil {
			t.Fatal(err)
		}
	}
	list := func(tags ...*kms.ListTagResourcesRequestTag) []string {
		r, err := e.client.ListTagResources(&kms.ListTagResourcesRequest{RegionId: tea.String(testRegion), ResourceType: tea.String("key"), Tag: tags})
		if err != nil {
			t.Fatalf("ListTagResources by tag alone: %v", err)
		}
		var seen []string
		for _, r := range r.Body.TagResources.TagResource {
			seen = append(seen, tea.StringValue(r.ResourceId)+":"+tea.StringValue(r.TagKey)+"="+tea.StringValue(r.TagValue))
		}
		slices.Sort(seen)
		return seen
	}
	if got := list(&kms.ListTagResourcesRequestTag{Key: tea.String("team"), Value: tea.String("pay")}); !slices.Equal(got, []string{a + ":team=pay"}) {
		t.Errorf("team=pay: %v", got)
	}
	want := []string{a + ":team=pay", b + ":team=ledger"}
	slices.Sort(want)
	if got := list(); !slices.Equal(got, want) || slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, untagged) }) {
		t.Errorf("every key's tags: %v, want %v", got, want)
	}
}
