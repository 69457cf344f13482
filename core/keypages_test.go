package core_test

import (
	"slices"
	"testing"

	"github.com/kmsless/kmsless/core"
)

// keysAfter asks for one page of ListKeys by position as p.
func (f *svcFixture) keysAfter(p *core.Principal, after core.KeyPosition, size string) (core.KeyPage, error) {
	r, err := f.svc.Handle(background, &core.Request{ID: "REQ", Action: "ListKeys", Params: core.Params{"PageSize": size}, Caller: p, KeysAfter: &after})
	page, _ := r.(core.KeyPage)
	return page, err
}

// ListKeys by position walks the listing from each page's last key: a key
// past its deletion date is out of it, and no other is lost for it.
func TestListKeysAfterWalksByPosition(t *testing.T) {
	f := newSvcFixture(t)
	for range 5 {
		f.createKey()
	}
	want := f.allKeys()
	var got []string
	var after core.KeyPosition
	for pages := 0; ; pages++ {
		if pages > len(want) {
			t.Fatalf("the walk never ends: %q", got)
		}
		page, err := f.keysAfter(f.admin, after, "2")
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range page.Items {
			got = append(got, k.ID)
		}
		if pages == 0 {
			// The first key listed leaves the listing after the first page.
			f.pastDeletion(got[0])
		}
		if !page.More {
			break
		}
		after = page.Items[len(page.Items)-1].Position()
	}
	if !slices.Equal(got, want) {
		t.Fatalf("ListKeys by position in pages of 2 = %q, want %q", got, want)
	}
	page, err := f.keysAfter(f.admin, core.KeyPosition{}, "100")
	if err != nil || len(page.Items) != 4 || page.More || page.Items[0].ID != want[1] {
		t.Fatalf("after the deletion, ListKeys by position = %+v, %v; want the 4 other keys", page, err)
	}
}

// ListKeys by position is authorized as ListKeys is: on the key collection.
func TestListKeysAfterIsAuthorizedOnTheKeyCollection(t *testing.T) {
	f := newSvcFixture(t)
	id := f.createKey()
	onKey := allowOn("on-key", []string{"kms:ListKeys"}, f.svc.KeyARN(id))
	_, err := f.keysAfter(onKey, core.KeyPosition{}, "10")
	mustCode(t, err, core.CodeNoPermission)
	onKeys := allowOn("on-keys", []string{"kms:ListKeys"}, f.svc.CollectionARN("key"))
	if page, err := f.keysAfter(onKeys, core.KeyPosition{}, "10"); err != nil || len(page.Items) != 1 {
		t.Fatalf("allowed on the key collection: %+v, %v", page, err)
	}
	_, err = f.keysAfter(f.admin, core.KeyPosition{}, "101")
	mustCode(t, err, core.CodeInvalidParameter)
}
