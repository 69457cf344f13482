package rpc_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"

	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsless/kmsless/core"
)

// tagPages walks ListTagResources through the SDK from its first page,
// following NextToken, and returns each page's rows as "id:key=value".
func tagPages(t *testing.T, client *kms.Client, ids []string, token string) [][]string {
	t.Helper()
	var pages [][]string
	for {
		req := &kms.ListTagResourcesRequest{RegionId: tea.String(testRegion), ResourceType: tea.String("key")}
		if len(ids) > 0 {
			req.ResourceId = tea.StringSlice(ids)
		}
		if token != "" {
			req.NextToken = tea.String(token)
		}
		r, err := client.ListTagResources(req)
		if err != nil {
			t.Fatalf("ListTagResources page %d: %v", len(pages)+1, err)
		}
		var rows []string
		for _, row := range r.Body.TagResources.TagResource {
			rows = append(rows, tea.StringValue(row.ResourceId)+":"+tea.StringValue(row.TagKey)+"="+tea.StringValue(row.TagValue))
		}
		pages = append(pages, rows)
		if token = tea.StringValue(r.Body.NextToken); token == "" {
			return pages
		}
		if len(pages) > 10 {
			t.Fatal("ListTagResources never ends")
		}
	}
}

// TestListTagResourcesPagesWithNextToken: 420 rows come as pages of 200, 200
// and 20, each row once, ordered by key as ListKeys lists keys (creation
// time, then ID) and then by tag key, whether the keys are named or not and
// in whatever order they are named; NextToken is empty on the last page.
func TestListTagResourcesPagesWithNextToken(t *testing.T) {
	e := newEnv(t)
	for range 21 {
		e.createKey()
	}
	ids, _ := e.listKeys("", 1, 100)
	tags := make([]*kms.TagResourcesRequestTag, core.MaxTags)
	for i := range tags {
		tags[i] = &kms.TagResourcesRequestTag{Key: tea.String(fmt.Sprintf("t%02d", i)), Value: tea.String(fmt.Sprint(i))}
	}
	if _, err := e.client.TagResources(&kms.TagResourcesRequest{RegionId: tea.String(testRegion), ResourceType: tea.String("key"),
		ResourceId: tea.StringSlice(ids), Tag: tags}); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, id := range ids {
		for i := range core.MaxTags {
			want = append(want, fmt.Sprintf("%s:t%02d=%d", id, i, i))
		}
	}
	reversed := slices.Clone(ids)
	slices.Reverse(reversed)
	for name, named := range map[string][]string{"every key": nil, "named keys": reversed} {
		pages := tagPages(t, e.client, named, "")
		var sizes []int
		for _, p := range pages {
			sizes = append(sizes, len(p))
		}
		if !slices.Equal(sizes, []int{200, 200, 20}) {
			t.Errorf("%s: pages of %v rows, want 200, 200, 20", name, sizes)
		}
		if got := slices.Concat(pages...); !slices.Equal(got, want) {
			t.Errorf("%s: the pages hold %d rows, not each of the %d once in key, tag key order", name, len(got), len(want))
		}
	}
}

// TestListTagResourcesTokenReachesNoMoreThanItsCaller: a NextToken holds a
// place in the listing, not a permission. A caller allowed one key, given
// another caller's token, lists only that key's rows after the place; a
// token it cannot have been given is InvalidParameter.
func TestListTagResourcesTokenReachesNoMoreThanItsCaller(t *testing.T) {
	const id, secret = "LTAI5tOneKeyLister0001", "one-key-secret"
	e := newEnv(t, withPrincipal("one-key", id, secret, 1000, core.MustPolicy(core.Statement{
		Effect: "Allow", Action: []string{"kms:ListTagResources"}, Resource: []string{"acs:kms:*:*:key/*"},
		Condition: []core.Condition{{Operator: "StringEquals", Key: "kms:tag/owner", Values: []string{"one-key"}}}})))
	for range 11 {
		e.createKey()
	}
	ids, _ := e.listKeys("", 1, 100)
	mine := ids[5]
	tags := make([]*kms.TagResourcesRequestTag, core.MaxTags-1)
	for i := range tags {
		tags[i] = &kms.TagResourcesRequestTag{Key: tea.String(fmt.Sprintf("t%02d", i)), Value: tea.String("x")}
	}
	if _, err := e.client.TagResources(&kms.TagResourcesRequest{RegionId: tea.String(testRegion), ResourceType: tea.String("key"),
		ResourceId: tea.StringSlice(ids), Tag: tags}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.TagResource(&kms.TagResourceRequest{KeyId: tea.String(mine), Tags: tea.String(`[{"TagKey":"owner","TagValue":"one-key"}]`)}); err != nil {
		t.Fatal(err)
	}
	// 11 keys of 19 tags, and mine's owner tag: the admin's first page of
	// 200 rows ends among the last key's, past mine.
	first, err := e.client.ListTagResources(&kms.ListTagResourcesRequest{RegionId: tea.String(testRegion), ResourceType: tea.String("key")})
	if err != nil {
		t.Fatal(err)
	}
	token := tea.StringValue(first.Body.NextToken)
	if token == "" {
		t.Fatal("210 rows in one page")
	}
	one := e.sdk(id, secret)
	_, err = one.ListTagResources(&kms.ListTagResourcesRequest{RegionId: tea.String(testRegion), ResourceType: tea.String("key"), NextToken: tea.String(token)})
	sdkError(t, err, core.CodeNoPermission, http.StatusForbidden)
	for _, other := range []string{ids[0], ids[10]} {
		_, err = one.ListTagResources(&kms.ListTagResourcesRequest{RegionId: tea.String(testRegion), ResourceType: tea.String("key"),
			ResourceId: tea.StringSlice([]string{other}), NextToken: tea.String(token)})
		sdkError(t, err, core.CodeNoPermission, http.StatusForbidden)
	}
	if pages := tagPages(t, one, []string{mine}, token); len(pages) != 1 || len(pages[0]) != 0 {
		t.Errorf("mine after the admin's first page: %v, want nothing, its rows being before the token's place", pages)
	}
	if pages := tagPages(t, one, []string{mine}, ""); len(pages) != 1 || len(pages[0]) != core.MaxTags {
		t.Errorf("mine from the start: %d pages, %v", len(pages), pages)
	}

	for _, bad := range []string{"not a token", "AQ", "AgFhAWI", token + "x", token[:len(token)-2]} {
		_, err := e.client.ListTagResources(&kms.ListTagResourcesRequest{RegionId: tea.String(testRegion), ResourceType: tea.String("key"), NextToken: tea.String(bad)})
		sdkError(t, err, core.CodeInvalidParameter, http.StatusBadRequest)
	}
}
