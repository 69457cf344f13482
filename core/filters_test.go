package core_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/alibaba"
)

// listed runs ListKeys with Filters and the other parameters kv, and returns
// the key IDs of the page and its TotalCount.
func (f *svcFixture) listed(filters string, kv ...string) ([]string, int) {
	f.t.Helper()
	r := f.ok("ListKeys", append([]string{"Filters", filters}, kv...)...).(*alibaba.ListKeysResponse)
	var ids []string
	for _, k := range r.Keys.Key {
		ids = append(ids, k.KeyId)
	}
	return ids, r.TotalCount
}

// allKeys lists every key in the service's order, unfiltered.
func (f *svcFixture) allKeys() []string {
	f.t.Helper()
	ids, _ := f.listed("", "PageSize", "100")
	return ids
}

// inOrder returns the members of want in the order of all.
func inOrder(all []string, want ...string) []string {
	out := []string{}
	for _, id := range all {
		if slices.Contains(want, id) {
			out = append(out, id)
		}
	}
	return out
}

func sameKeys(t *testing.T, what string, got []string, total int, want []string) {
	t.Helper()
	if got == nil {
		got = []string{}
	}
	if !slices.Equal(got, want) || total != len(want) {
		t.Errorf("%s = %q (TotalCount %d), want %q (TotalCount %d)", what, got, total, want, len(want))
	}
}

// TestListKeysFiltersByKeyState lists each state apart, as DescribeKey
// reports it: an imported key whose material has expired is PendingImport,
// and a key past its deletion date is in no listing.
func TestListKeysFiltersByKeyState(t *testing.T) {
	f := newSvcFixture(t)
	enabled, disabled, pending, doomed := f.createKey(), f.createKey(), f.createKey(), f.createKey()
	external := f.createKey("Origin", core.OriginExternal)
	f.ok("DisableKey", "KeyId", disabled)
	f.ok("ScheduleKeyDeletion", "KeyId", doomed, "PendingWindowInDays", "7")
	f.clock.Advance(24 * time.Hour)
	f.ok("ScheduleKeyDeletion", "KeyId", pending, "PendingWindowInDays", "7")
	now := f.clock.Now()
	expired := core.Key{
		ID: "key-expiredmaterial00000000", KeySpec: "Aliyun_AES_256", KeyUsage: "ENCRYPT/DECRYPT", Origin: core.OriginExternal,
		ProtectionLevel: "SOFTWARE", State: core.KeyEnabled, CreatedAt: now, PrimaryVersionID: "v1",
		MaterialExpireAt: now.Add(time.Hour), Revision: 1,
	}
	if err := f.store.Store.CreateKey(background, expired, core.KeyVersion{KeyID: expired.ID, VersionID: "v1", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(6*24*time.Hour + time.Minute) // doomed is past its date; expired's material has expired
	all := f.allKeys()
	if len(all) != 5 {
		t.Fatalf("unfiltered listing = %q, want 5 keys", all)
	}
	for state, want := range map[string][]string{
		"Enabled":         {enabled},
		"Disabled":        {disabled},
		"PendingDeletion": {pending},
		"PendingImport":   inOrder(all, external, expired.ID),
	} {
		got, total := f.listed(`[{"Key":"KeyState","Values":["` + state + `"]}]`)
		sameKeys(t, "KeyState "+state, got, total, want)
	}
	if got := f.describe(expired.ID).KeyState; got != "PendingImport" {
		t.Fatalf("DescribeKey says %s for expired material, want PendingImport", got)
	}
}

// TestListKeysFiltersCombineOrWithinAKeyAndAcrossKeys: the values of one
// Key, in one pair or several, are alternatives; different Keys must all
// hold.
func TestListKeysFiltersCombineOrWithinAKeyAndAcrossKeys(t *testing.T) {
	f := newSvcFixture(t)
	a := f.createKey("Tags", `[{"TagKey":"team","TagValue":"payments"}]`)
	b := f.createKey("Tags", `[{"TagKey":"team","TagValue":"search"},{"TagKey":"env","TagValue":"prod"}]`)
	c := f.createKey()
	d := f.createKey("Tags", `[{"TagKey":"env","TagValue":"payments"}]`)
	f.ok("DisableKey", "KeyId", b)
	f.ok("DisableKey", "KeyId", d)
	f.ok("CreateAlias", "AliasName", "alias/a", "KeyId", a)
	f.ok("CreateAlias", "AliasName", "alias/c", "KeyId", c)
	f.ok("ScheduleKeyDeletion", "KeyId", c, "PendingWindowInDays", "7")
	all := f.allKeys()

	for _, tc := range []struct {
		filters string
		want    []string
	}{
		{`[{"Key":"KeyState","Values":["Enabled","Disabled"]}]`, inOrder(all, a, b, d)},
		{`[{"Key":"KeyState","Values":["Enabled"]},{"Key":"KeyState","Values":["PendingDeletion"]}]`, inOrder(all, a, c)},
		{`[{"Key":"KeyState","Values":["Disabled"]},{"Key":"TagKey","Values":["team"]}]`, []string{b}},
		{`[{"Key":"TagKey","Values":["team","env"]},{"Key":"KeyState","Values":["Enabled","Disabled"]}]`, inOrder(all, a, b, d)},
		{`[{"Key":"TagValue","Values":["payments"]}]`, inOrder(all, a, d)},
		{`[{"Key":"TagKey","Values":["team"]},{"Key":"TagValue","Values":["prod"]}]`, []string{b}},
		{`[{"Key":"AliasName","Values":["alias/a","alias/c","alias/none"]}]`, inOrder(all, a, c)},
		{`[{"Key":"AliasName","Values":["alias/c"]},{"Key":"KeyState","Values":["Enabled"]}]`, nil},
		{`[{"Key":"keyId","Values":["` + d + `","` + a + `"]}]`, inOrder(all, a, d)},
		{`[{"Key":"KeySpec","Values":["Aliyun_AES_256"]},{"Key":"KeyUsage","Values":["ENCRYPT/DECRYPT"]},{"Key":"ProtectionLevel","Values":["SOFTWARE"]}]`, all},
		{`[{"Key":"KeySpec","Values":["RSA_2048"]}]`, nil},
		{`[{"Key":"ProtectionLevel","Values":["HSM"]}]`, nil},
		{`[{"Key":"KeyUsage","Values":["SIGN/VERIFY"]}]`, nil},
		{`[{"Key":"CreatorType","Values":["User"]}]`, all},
		{`[{"Key":"CreatorType","Values":["Service"]}]`, nil},
		{`[{"Key":"DKMSInstanceId","Values":["kst-hzz0123456789"]}]`, nil},
		{`[{"Key":"Creator","Values":["1234567890123456"]},{"Key":"KeyState","Values":["Disabled"]}]`, inOrder(all, b, d)},
		{`[{"Key":"Creator","Values":["someone-else"]}]`, nil},
		// Empty Values place no condition.
		{`[{"Key":"KeyState","Values":[]}]`, all},
		{`[{"Key":"KeyState","Values":[]},{"Key":"TagKey","Values":["env"]}]`, inOrder(all, b, d)},
		{`[]`, all},
	} {
		got, total := f.listed(tc.filters, "PageSize", "100")
		want := tc.want
		if want == nil {
			want = []string{}
		}
		sameKeys(t, tc.filters, got, total, want)
	}
}

// TestListKeysPagesTheFilteredSet: PageNumber and PageSize page the keys that
// meet the filter, and TotalCount counts them on every page, across more keys
// than a filtered listing reads from the store at once.
func TestListKeysPagesTheFilteredSet(t *testing.T) {
	f := newSvcFixture(t)
	created := f.clock.Now()
	var disabled []string
	for i := range 1203 {
		k := core.Key{
			ID: fmt.Sprintf("key-page%020d", i), KeySpec: "Aliyun_AES_256", KeyUsage: "ENCRYPT/DECRYPT", Origin: "Aliyun_KMS",
			ProtectionLevel: "SOFTWARE", State: core.KeyEnabled, CreatedAt: created.Add(time.Duration(i) * time.Second),
			PrimaryVersionID: "v1", Revision: 1,
		}
		if i%3 == 1 {
			k.State = core.KeyDisabled
			disabled = append(disabled, k.ID)
		}
		if err := f.store.Store.CreateKey(background, k, core.KeyVersion{KeyID: k.ID, VersionID: "v1", CreatedAt: k.CreatedAt}); err != nil {
			t.Fatal(err)
		}
	}
	const filter = `[{"Key":"KeyState","Values":["Disabled"]}]`
	var got []string
	for page := 1; ; page++ {
		r := f.ok("ListKeys", "Filters", filter, "PageNumber", strconv.Itoa(page), "PageSize", "100").(*alibaba.ListKeysResponse)
		if r.TotalCount != len(disabled) || r.PageNumber != page || r.PageSize != 100 {
			t.Fatalf("page %d: TotalCount %d, PageNumber %d, PageSize %d; want %d, %d, 100", page, r.TotalCount, r.PageNumber, r.PageSize, len(disabled), page)
		}
		if len(r.Keys.Key) == 0 {
			break
		}
		for _, k := range r.Keys.Key {
			got = append(got, k.KeyId)
		}
	}
	if !slices.Equal(got, disabled) {
		t.Fatalf("Disabled keys in pages of 100: %d keys, want the %d in creation order", len(got), len(disabled))
	}
	last, total := f.listed(filter, "PageNumber", "6", "PageSize", "71")
	if total != len(disabled) || !slices.Equal(last, disabled[355:]) {
		t.Fatalf("page 6 of 71 = %d keys (TotalCount %d), want the last %d", len(last), total, len(disabled)-355)
	}
}

// TestListKeysRefusesMalformedFilters reads Filters as strictly as every
// other JSON a caller sends: what it does not read exactly so it refuses,
// naming Filters, rather than list keys the filter meant to leave out.
func TestListKeysRefusesMalformedFilters(t *testing.T) {
	f := newSvcFixture(t)
	f.createKey()
	pairs := func(n int) string {
		return "[" + strings.Repeat(`{"Key":"KeyState","Values":["Enabled"]},`, n-1) + `{"Key":"KeyState","Values":["Enabled"]}]`
	}
	values := func(n int) string {
		return `[{"Key":"TagKey","Values":["v"` + strings.Repeat(`,"v"`, n-1) + `]}]`
	}
	for _, filters := range []string{
		`not json`,
		`null`,
		`{"Key":"KeyState","Values":["Enabled"]}`,
		`[{"Key":"KeyState","Values":["Enabled"]}`,
		`[{"Key":"KeyState","Values":["Enabled"]}] []`,
		`[["KeyState","Enabled"]]`,
		`[{"Key":"KeyState"}]`,
		`[{"Values":["Enabled"]}]`,
		`[{"Key":"KeyState","Values":null}]`,
		`[{"Key":null,"Values":["Enabled"]}]`,
		`[{"Key":"KeyState","Values":"Enabled"}]`,
		`[{"Key":"KeyState","Values":[1]}]`,
		`[{"key":"KeyState","Values":["Enabled"]}]`,
		`[{"Key":"KeyState","values":["Disabled"],"Values":["Enabled"]}]`,
		`[{"Key":"KeyState","Key":"KeySpec","Values":["Enabled"]}]`,
		`[{"Key":"KeyState","Values":["Enabled"],"Values":["Disabled"]}]`,
		`[{"Key":"State","Values":["Enabled"]}]`,
		`[{"Key":"KeyId","Values":["key-x"]}]`,
		`[{"Key":"KeyState","Values":["enabled"]}]`,
		`[{"Key":"CreatorType","Values":["user"]}]`,
		pairs(11),
		values(11),
	} {
		_, err := f.call("ListKeys", "Filters", filters)
		if ke := core.AsError(err); ke == nil || ke.Code != core.CodeInvalidParameter || !strings.Contains(ke.Message, "Filters") {
			t.Errorf("%s: got %v, want InvalidParameter naming Filters", filters, err)
		}
	}
	for _, filters := range []string{pairs(10), values(10)} {
		if _, err := f.call("ListKeys", "Filters", filters); err != nil {
			t.Errorf("%s: %v", filters, err)
		}
	}
}

// pagingStore is the in-memory store, recording the pages ListKeys is asked
// for.
type pagingStore struct {
	*countingStore
	pages []core.Page
}

func (s *pagingStore) ListKeys(ctx context.Context, asOf time.Time, p core.Page) ([]core.Key, int, error) {
	s.pages = append(s.pages, p)
	return s.countingStore.ListKeys(ctx, asOf, p)
}

// TestListKeysWithoutFiltersLeavesPagingToTheStore: a listing without a
// filter reads one page from the store, the one asked for, however many keys
// there are.
func TestListKeysWithoutFiltersLeavesPagingToTheStore(t *testing.T) {
	f := newSvcFixture(t)
	s := &pagingStore{countingStore: f.store}
	rk, err := core.NewRootKey(f.root)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := core.New(core.Config{Store: s, Partitions: s, Root: rk, Clock: f.clock, Region: "cn-hangzhou", AccountID: "1234567890123456"})
	if err != nil {
		t.Fatal(err)
	}
	f.svc = svc
	for range 3 {
		f.createKey()
	}
	for _, filters := range []string{"", "[]", `[{"Key":"KeyState","Values":[]}]`} {
		s.pages = nil
		ids, total := f.listed(filters, "PageNumber", "2", "PageSize", "2")
		if len(ids) != 1 || total != 3 {
			t.Fatalf("Filters %q: page 2 of 2 = %q (TotalCount %d), want 1 key of 3", filters, ids, total)
		}
		if want := []core.Page{{Offset: 2, Limit: 2}}; !slices.Equal(s.pages, want) {
			t.Fatalf("Filters %q: the store was asked for %+v, want %+v", filters, s.pages, want)
		}
	}
}

// TestListSecretsPagesTheFilteredSet: a filtered ListSecrets over more
// secrets than three pages of the store's listing counts and pages only
// those that meet the filter and are not past their deletion dates, and
// never holds more than a store page (500) of secrets at once.
func TestListSecretsPagesTheFilteredSet(t *testing.T) {
	f := newSvcFixture(t)
	now := f.clock.Now()
	var want []string
	f.storeSecrets(1201, func(i int, sec *core.GenericSecret) {
		sec.Description = "odd"
		if i%2 == 0 {
			sec.Description = "even"
		}
		if i%5 == 0 {
			sec.DeleteAt = now.Add(-time.Minute)
		}
		if sec.Description == "even" && sec.DeleteAt.IsZero() {
			want = append(want, sec.Name)
		}
	})
	var got []string
	for page := 1; ; page++ {
		r := f.ok("ListSecrets", "Filters", `[{"Key":"Description","Values":["even"]}]`, "PageNumber", strconv.Itoa(page), "PageSize", "100").(*alibaba.ListSecretsResponse)
		if r.TotalCount != len(want) {
			t.Fatalf("page %d: TotalCount %d; want %d", page, r.TotalCount, len(want))
		}
		if len(r.SecretList.Secret) == 0 {
			break
		}
		for _, s := range r.SecretList.Secret {
			got = append(got, s.SecretName)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("the pages listed %d secrets; want the %d even ones not past their dates, in order", len(got), len(want))
	}
	if most := f.store.mostSecrets.Load(); most > 500 {
		t.Fatalf("one listing gave ListSecrets %d secrets; want at most a page (500)", most)
	}
}
