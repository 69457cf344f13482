package core_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/kmsless/kmsless/core"
)

// aliasesAfter asks for one page of action (ListAliases or
// ListAliasesByKeyId) by position as p.
func (f *svcFixture) aliasesAfter(p *core.Principal, action string, after core.AliasPosition, kv ...string) (core.AliasPage, error) {
	r, err := f.svc.Handle(background, &core.Request{ID: "REQ", Action: action, Params: svcParams(kv...), Caller: p, AliasesAfter: &after})
	page, _ := r.(core.AliasPage)
	return page, err
}

// aliasWalk lists action's aliases by position in pages of size, each from
// the last alias of the one before, calling between after each page but the
// last, and returns their names.
func (f *svcFixture) aliasWalk(action, size string, between func(page []core.Alias), kv ...string) []string {
	f.t.Helper()
	var names []string
	var after core.AliasPosition
	for pages := 0; ; pages++ {
		if pages > 20 {
			f.t.Fatalf("the walk never ends: %q", names)
		}
		page, err := f.aliasesAfter(f.admin, action, after, append(kv, "PageSize", size)...)
		if err != nil {
			f.t.Fatal(err)
		}
		for _, a := range page.Items {
			names = append(names, a.Name)
		}
		if !page.More {
			return names
		}
		after = page.Items[len(page.Items)-1].Position()
		between(page.Items)
	}
}

// ListAliases by position walks the listing from each page's last alias: an
// alias deleted, or whose key passes its deletion date, between pages is out
// of it, and no other is lost for it.
func TestListAliasesAfterWalksByPosition(t *testing.T) {
	f := newSvcFixture(t)
	keep, doomed := f.createKey(), f.createKey()
	var want []string
	for i := range 7 {
		name := fmt.Sprintf("alias/a%d", i)
		f.ok("CreateAlias", "AliasName", name, "KeyId", keep)
		want = append(want, name)
	}
	f.ok("CreateAlias", "AliasName", "alias/a5-doomed", "KeyId", doomed)
	first := true
	got := f.aliasWalk("ListAliases", "2", func(page []core.Alias) {
		if first {
			// The first alias listed is deleted, and a key with an alias
			// still to come passes its deletion date.
			first = false
			f.ok("DeleteAlias", "AliasName", page[0].Name)
			f.pastDeletion(doomed)
		}
	})
	if !slices.Equal(got, want) {
		t.Fatalf("ListAliases by position in pages of 2 = %q, want %q", got, want)
	}
	page, err := f.aliasesAfter(f.admin, "ListAliases", core.AliasPosition{}, "PageSize", "100")
	if err != nil || len(page.Items) != 6 || page.More || page.Items[0].Name != want[1] {
		t.Fatalf("after the deletions, ListAliases by position = %+v, %v; want the 6 other aliases", page, err)
	}
	// A page says more follow only when an alias does: not the doomed key's.
	page, err = f.aliasesAfter(f.admin, "ListAliases", core.AliasPosition{Name: "alias/a4"}, "PageSize", "1")
	if err != nil || len(page.Items) != 1 || !page.More || page.Items[0].Name != "alias/a5" {
		t.Fatalf("ListAliases after alias/a4 in a page of 1 = %+v, %v; want alias/a5 and more to come", page, err)
	}
	page, err = f.aliasesAfter(f.admin, "ListAliases", core.AliasPosition{Name: "alias/a4"}, "PageSize", "2")
	if err != nil || len(page.Items) != 2 || page.More || page.Items[1].Name != "alias/a6" {
		t.Fatalf("ListAliases after alias/a4 in a page of 2 = %+v, %v; want alias/a5, alias/a6 and no more", page, err)
	}
}

// ListAliasesByKeyId by position walks the key's aliases alone, and an alias
// re-pointed away between pages moves no other out of the walk.
func TestListAliasesByKeyIdAfterWalksByPosition(t *testing.T) {
	f := newSvcFixture(t)
	mine, other := f.createKey(), f.createKey()
	var want []string
	for i := range 5 {
		name := fmt.Sprintf("alias/m%d", i)
		f.ok("CreateAlias", "AliasName", name, "KeyId", mine)
		f.ok("CreateAlias", "AliasName", fmt.Sprintf("alias/o%d", i), "KeyId", other)
		want = append(want, name)
	}
	first := true
	got := f.aliasWalk("ListAliasesByKeyId", "2", func(page []core.Alias) {
		if first {
			first = false
			f.ok("UpdateAlias", "AliasName", page[1].Name, "KeyId", other)
		}
	}, "KeyId", mine)
	if !slices.Equal(got, want) {
		t.Fatalf("ListAliasesByKeyId by position in pages of 2 = %q, want %q", got, want)
	}
}

// By position, ListAliases is authorized as ListAliases is, on the alias
// collection, and ListAliasesByKeyId as it is, on the key; PageSize keeps
// its bounds.
func TestListAliasesAfterIsAuthorizedAsByNumber(t *testing.T) {
	f := newSvcFixture(t)
	id, other := f.createKey(), f.createKey()
	f.ok("CreateAlias", "AliasName", "alias/x", "KeyId", id)

	onKey := allowOn("on-key", []string{"kms:ListAliases"}, f.svc.KeyARN(id))
	_, err := f.aliasesAfter(onKey, "ListAliases", core.AliasPosition{}, "PageSize", "10")
	mustCode(t, err, core.CodeNoPermission)
	onAliases := allowOn("on-aliases", []string{"kms:ListAliases"}, f.svc.CollectionARN("alias"))
	if page, err := f.aliasesAfter(onAliases, "ListAliases", core.AliasPosition{}, "PageSize", "10"); err != nil || len(page.Items) != 1 {
		t.Fatalf("ListAliases allowed on the alias collection: %+v, %v", page, err)
	}

	byKey := allowOn("by-key", []string{"kms:ListAliasesByKeyId"}, f.svc.KeyARN(id))
	if page, err := f.aliasesAfter(byKey, "ListAliasesByKeyId", core.AliasPosition{}, "KeyId", id, "PageSize", "10"); err != nil || len(page.Items) != 1 {
		t.Fatalf("ListAliasesByKeyId allowed on the key: %+v, %v", page, err)
	}
	_, err = f.aliasesAfter(byKey, "ListAliasesByKeyId", core.AliasPosition{}, "KeyId", other, "PageSize", "10")
	mustCode(t, err, core.CodeNoPermission)
	_, err = f.aliasesAfter(f.admin, "ListAliasesByKeyId", core.AliasPosition{}, "PageSize", "10")
	mustCode(t, err, core.CodeMissingParameter)

	_, err = f.aliasesAfter(f.admin, "ListAliases", core.AliasPosition{}, "PageSize", "101")
	mustCode(t, err, core.CodeInvalidParameter)
}
