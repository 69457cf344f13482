package rpc_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsless/kmsless/core"
)

// listKeys runs ListKeys through the SDK with filters and returns the key IDs
// of the page and its TotalCount.
func (e *env) listKeys(filters string, number, size int32) ([]string, int32) {
	e.t.Helper()
	req := &kms.ListKeysRequest{PageNumber: tea.Int32(number), PageSize: tea.Int32(size)}
	if filters != "" {
		req.Filters = tea.String(filters)
	}
	r, err := e.client.ListKeys(req)
	if err != nil {
		e.t.Fatalf("ListKeys %s: %v", filters, err)
	}
	if tea.Int32Value(r.Body.PageNumber) != number || tea.Int32Value(r.Body.PageSize) != size {
		e.t.Fatalf("ListKeys %s: PageNumber %d, PageSize %d; want %d, %d", filters, tea.Int32Value(r.Body.PageNumber), tea.Int32Value(r.Body.PageSize), number, size)
	}
	ids := []string{}
	if r.Body.Keys != nil {
		for _, k := range r.Body.Keys.Key {
			ids = append(ids, tea.StringValue(k.KeyId))
		}
	}
	return ids, tea.Int32Value(r.Body.TotalCount)
}

// TestListKeysFiltersThroughTheSDK: the SDK's Filters lists only the keys
// that meet them (one state or another, and every Key given), and pages and
// counts those keys alone.
func TestListKeysFiltersThroughTheSDK(t *testing.T) {
	e := newEnv(t)
	var enabled, disabled []string
	for i := range 5 {
		id := e.createKey()
		if i%2 == 1 {
			if _, err := e.client.DisableKey(&kms.DisableKeyRequest{KeyId: tea.String(id)}); err != nil {
				t.Fatal(err)
			}
			disabled = append(disabled, id)
		} else {
			enabled = append(enabled, id)
		}
	}
	pending := e.createKey()
	if _, err := e.client.ScheduleKeyDeletion(&kms.ScheduleKeyDeletionRequest{KeyId: tea.String(pending), PendingWindowInDays: tea.Int32(7)}); err != nil {
		t.Fatal(err)
	}
	tagged, err := e.client.CreateKey(&kms.CreateKeyRequest{Tags: tea.String(`[{"TagKey":"team","TagValue":"payments"}]`)})
	if err != nil {
		t.Fatal(err)
	}
	team := tea.StringValue(tagged.Body.KeyMetadata.KeyId)
	all, total := e.listKeys("", 1, 100)
	if total != 7 {
		t.Fatalf("unfiltered: TotalCount %d, want 7", total)
	}
	only := func(ids ...string) []string {
		out := []string{}
		for _, id := range all {
			if slices.Contains(ids, id) {
				out = append(out, id)
			}
		}
		return out
	}

	for _, tc := range []struct {
		filters string
		want    []string
	}{
		{`[{"Key":"KeyState","Values":["Disabled"]}]`, only(disabled...)},
		{`[{"Key":"KeyState","Values":["Enabled"]}]`, only(append(enabled, team)...)},
		{`[{"Key":"KeyState","Values":["PendingDeletion"]}]`, []string{pending}},
		{`[{"Key":"KeyState","Values":["Disabled","PendingDeletion"]}]`, only(append(disabled, pending)...)},
		{`[{"Key":"KeyState","Values":["Enabled"]},{"Key":"TagKey","Values":["team"]}]`, []string{team}},
		{`[{"Key":"KeyState","Values":["Disabled"]},{"Key":"TagKey","Values":["team"]}]`, []string{}},
		{`[{"Key":"KeyState","Values":["PendingImport"]}]`, []string{}},
	} {
		got, total := e.listKeys(tc.filters, 1, 100)
		if !slices.Equal(got, tc.want) || int(total) != len(tc.want) {
			t.Errorf("%s: %q (TotalCount %d), want %q", tc.filters, got, total, tc.want)
		}
	}

	// Pages of 2 over the 4 Enabled keys: TotalCount is 4 on every page.
	const state = `[{"Key":"KeyState","Values":["Enabled"]}]`
	var paged []string
	for page := int32(1); page <= 3; page++ {
		got, total := e.listKeys(state, page, 2)
		if total != 4 {
			t.Fatalf("Enabled, page %d of 2: TotalCount %d, want 4", page, total)
		}
		paged = append(paged, got...)
	}
	if want := only(append(enabled, team)...); !slices.Equal(paged, want) {
		t.Fatalf("Enabled in pages of 2 = %q, want %q", paged, want)
	}
}

// TestListKeysRefusesMalformedFiltersThroughTheSDK: Filters that are not a
// list of Key-Values pairs, or that name an unknown Key or too many pairs or
// values, are a 400 InvalidParameter naming Filters, not a full listing.
func TestListKeysRefusesMalformedFiltersThroughTheSDK(t *testing.T) {
	e := newEnv(t)
	e.createKey()
	for _, filters := range []string{
		`not json`,
		`[{"Key":"KeyState","Values":["Disabled"]}`,
		`[{"Key":"Colour","Values":["Blue"]}]`,
		`[{"Key":"KeyState","Vaules":["Disabled"]}]`,
		"[" + strings.Repeat(`{"Key":"KeyState","Values":["Enabled"]},`, 10) + `{"Key":"KeyState","Values":["Enabled"]}]`,
		`[{"Key":"TagKey","Values":["a","b","c","d","e","f","g","h","i","j","k"]}]`,
	} {
		_, err := e.client.ListKeys(&kms.ListKeysRequest{Filters: tea.String(filters)})
		se := sdkError(t, err, core.CodeInvalidParameter, http.StatusBadRequest)
		if !strings.Contains(tea.StringValue(se.Message), "Filters") {
			t.Errorf("%s: message %q does not name Filters", filters, tea.StringValue(se.Message))
		}
	}
}
