package awsjson_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/internal/testclock"
)

var arnFormat = regexp.MustCompile(`^arn:aws:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9_-]+$`)

func TestSDKCreateAndDescribeKeyNameItByARN(t *testing.T) {
	e := newEnv(t)
	out, err := e.aws.CreateKey(bg, &kms.CreateKeyInput{Description: aws.String("orders"), KeySpec: types.KeySpecSymmetricDefault, KeyUsage: types.KeyUsageTypeEncryptDecrypt})
	if err != nil {
		t.Fatal(err)
	}
	m := out.KeyMetadata
	id := aws.ToString(m.KeyId)
	if aws.ToString(m.Arn) != keyARN(id) || !arnFormat.MatchString(aws.ToString(m.Arn)) {
		t.Errorf("Arn %q, want %q", aws.ToString(m.Arn), keyARN(id))
	}
	if aws.ToString(m.AWSAccountId) != awsAccount || !m.Enabled || m.KeyState != types.KeyStateEnabled ||
		m.KeySpec != types.KeySpecSymmetricDefault || m.KeyUsage != types.KeyUsageTypeEncryptDecrypt ||
		m.Origin != types.OriginTypeAwsKms || m.KeyManager != types.KeyManagerTypeCustomer || aws.ToString(m.Description) != "orders" {
		t.Errorf("metadata %+v", m)
	}
	if m.CreationDate == nil || time.Since(*m.CreationDate) > time.Minute {
		t.Errorf("CreationDate %v", m.CreationDate)
	}
	if _, err := e.aws.CreateAlias(bg, &kms.CreateAliasInput{AliasName: aws.String("alias/orders"), TargetKeyId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{id, keyARN(id), "alias/orders", "arn:aws:kms:" + testRegion + ":" + awsAccount + ":alias/orders"} {
		d, err := e.aws.DescribeKey(bg, &kms.DescribeKeyInput{KeyId: aws.String(ref)})
		if err != nil {
			t.Fatalf("DescribeKey %s: %v", ref, err)
		}
		if aws.ToString(d.KeyMetadata.KeyId) != id {
			t.Errorf("DescribeKey %s: KeyId %s", ref, aws.ToString(d.KeyMetadata.KeyId))
		}
	}
	_, err = e.aws.DescribeKey(bg, &kms.DescribeKeyInput{KeyId: aws.String("arn:aws:kms:us-east-1:111122223333:key/" + id)})
	apiError(t, err, "NotFoundException")
	var nf *types.NotFoundException
	_, err = e.aws.DescribeKey(bg, &kms.DescribeKeyInput{KeyId: aws.String("key-doesnotexist0000000000")})
	if !asType(err, &nf) {
		t.Fatalf("unknown key: want *types.NotFoundException, got %v", err)
	}
	_, err = e.aws.CreateKey(bg, &kms.CreateKeyInput{KeySpec: types.KeySpecRsa2048})
	apiError(t, err, "ValidationException")
	// A policy of no statements would lock its caller out of the key.
	_, err = e.aws.CreateKey(bg, &kms.CreateKeyInput{Policy: aws.String(`{"Version":"2012-10-17"}`)})
	apiError(t, err, "MalformedPolicyDocumentException")
}

func TestSDKListKeysWalksMarkers(t *testing.T) {
	e := newEnv(t)
	want := map[string]bool{}
	for range 7 {
		want[e.createKey()] = true
	}
	got := map[string]bool{}
	p := kms.NewListKeysPaginator(e.aws, &kms.ListKeysInput{Limit: aws.Int32(2)})
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(bg)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, k := range out.Keys {
			id := aws.ToString(k.KeyId)
			if got[id] || !want[id] || aws.ToString(k.KeyArn) != keyARN(id) {
				t.Errorf("entry %s %s", id, aws.ToString(k.KeyArn))
			}
			got[id] = true
		}
	}
	if pages != 4 || len(got) != 7 {
		t.Errorf("%d pages, %d keys; want 4 pages of 7 keys", pages, len(got))
	}
}

// ListKeys' ResourceOwners: SELF lists the caller's keys, as without it,
// alone or with OTHER_ACCOUNTS_VIA_RAM, whose keys (those other accounts
// share through AWS RAM) this service, one account, has none of; asked for
// those alone, ListKeys answers an empty, final page to a caller allowed to
// list keys, refuses a marker, which no such page gives, and still refuses a
// caller without kms:ListKeys. Any other value is a ValidationException.
func TestSDKListKeysResourceOwners(t *testing.T) {
	e := newEnv(t, withPrincipal("reader", "AKIAREADER0000000001", "reader-secret", 1000,
		core.MustPolicy(core.Statement{Effect: "Allow", Action: []string{"kms:DescribeKey"}, Resource: []string{"*"}})))
	want := []string{e.createKey(), e.createKey(), e.createKey()}
	slices.Sort(want)
	self, shared := types.ResourceOwnerTypeSelf, types.ResourceOwnerTypeOtherAccountsViaRam
	var marker *string
	for _, owners := range [][]types.ResourceOwnerType{{self}, {self, shared}, {shared, self}} {
		var got []string
		p := kms.NewListKeysPaginator(e.aws, &kms.ListKeysInput{Limit: aws.Int32(2), ResourceOwners: owners})
		for p.HasMorePages() {
			out, err := p.NextPage(bg)
			if err != nil {
				t.Fatalf("%v: %v", owners, err)
			}
			for _, k := range out.Keys {
				got = append(got, aws.ToString(k.KeyId))
			}
			if out.NextMarker != nil {
				marker = out.NextMarker
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("ListKeys of %v = %q; want the caller's %q", owners, got, want)
		}
	}
	out, err := e.aws.ListKeys(bg, &kms.ListKeysInput{ResourceOwners: []types.ResourceOwnerType{shared}})
	if err != nil || len(out.Keys) != 0 || out.Truncated || out.NextMarker != nil {
		t.Fatalf("ListKeys of keys other accounts share: %v; want an empty, final page", err)
	}
	_, err = e.aws.ListKeys(bg, &kms.ListKeysInput{ResourceOwners: []types.ResourceOwnerType{shared}, Marker: marker})
	apiError(t, err, "InvalidMarkerException")
	reader := e.client("AKIAREADER0000000001", "reader-secret")
	_, err = reader.ListKeys(bg, &kms.ListKeysInput{ResourceOwners: []types.ResourceOwnerType{shared}})
	apiError(t, err, "AccessDeniedException")
	for _, owners := range [][]types.ResourceOwnerType{{}, {"SOMEONE"}, {"self"}, {self, shared, self}} {
		_, err := e.aws.ListKeys(bg, &kms.ListKeysInput{ResourceOwners: owners})
		apiError(t, err, "ValidationException")
	}
}

// A key that leaves the listing between two pages moves no other key out of
// the walk: the marker is a place in the listing, not a page number whose
// offset now lands one key further on.
func TestSDKListKeysWalkSkipsNoKeyWhenOneLeaves(t *testing.T) {
	clk := testclock.New(time.Now())
	e := newEnv(t, withClock(clk))
	var ids []string
	for range 7 {
		ids = append(ids, e.createKey())
	}
	first, err := e.aws.ListKeys(bg, &kms.ListKeysInput{Limit: aws.Int32(2)})
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Keys) != 2 || !first.Truncated {
		t.Fatalf("first page: %d keys, Truncated %v", len(first.Keys), first.Truncated)
	}
	// The first key listed is deleted: its window passes.
	gone := aws.ToString(first.Keys[0].KeyId)
	if _, err := e.aws.ScheduleKeyDeletion(bg, &kms.ScheduleKeyDeletionInput{KeyId: aws.String(gone), PendingWindowInDays: aws.Int32(7)}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(8 * 24 * time.Hour)
	made := e.createKey()

	got := map[string]int{aws.ToString(first.Keys[1].KeyId): 1}
	p := kms.NewListKeysPaginator(e.aws, &kms.ListKeysInput{Limit: aws.Int32(2), Marker: first.NextMarker})
	for p.HasMorePages() {
		out, err := p.NextPage(bg)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range out.Keys {
			got[aws.ToString(k.KeyId)]++
		}
	}
	for _, id := range append(ids, made) {
		if want := map[bool]int{true: 0, false: 1}[id == gone]; got[id] != want {
			t.Errorf("key %s listed %d times, want %d (deleted: %s; listed: %v)", id, got[id], want, gone, got)
		}
	}
}

// A marker this service did not make is refused as AWS refuses one, whether
// it is not base64url, a page number (which markers once were), of another
// listing, cut short, or longer than any marker.
// forgedMarkers are markers no listing made, spelled from marker, a genuine
// one of a version byte and a position, which it returns decoded.
func forgedMarkers(t *testing.T, marker string) (map[string]string, []byte) {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(marker)
	if err != nil {
		t.Fatalf("NextMarker %q is not base64url: %v", marker, err)
	}
	other := append([]byte{raw[0] + 1}, raw[1:]...)
	return map[string]string{
		"not base64url":     "not a marker!",
		"a page number":     "2",
		"another version":   base64.RawURLEncoding.EncodeToString(other),
		"cut short":         base64.RawURLEncoding.EncodeToString(raw[:len(raw)-1]),
		"with a byte more":  base64.RawURLEncoding.EncodeToString(append(raw, 'x')),
		"longer than any":   marker + strings.Repeat("A", 4096),
		"a tag marker":      base64.RawURLEncoding.EncodeToString([]byte("\x01Purpose")),
		"an empty position": base64.RawURLEncoding.EncodeToString(raw[:1]),
	}, raw
}

func TestSDKListKeysRefusesForgedMarkers(t *testing.T) {
	e := newEnv(t)
	for range 3 {
		e.createKey()
	}
	page, err := e.aws.ListKeys(bg, &kms.ListKeysInput{Limit: aws.Int32(1)})
	if err != nil || page.NextMarker == nil {
		t.Fatalf("first page: %+v, %v", page, err)
	}
	forgeries, _ := forgedMarkers(t, aws.ToString(page.NextMarker))
	for name, forged := range forgeries {
		_, err := e.aws.ListKeys(bg, &kms.ListKeysInput{Marker: aws.String(forged)})
		var invalid *types.InvalidMarkerException
		if !asType(err, &invalid) {
			t.Errorf("%s: want *types.InvalidMarkerException, got %v", name, err)
		}
	}
	if _, err := e.aws.ListKeys(bg, &kms.ListKeysInput{Marker: page.NextMarker}); err != nil {
		t.Errorf("the marker given back: %v", err)
	}
}

func TestSDKKeyStatesRefuseUse(t *testing.T) {
	e := newEnv(t)
	id := e.createKey()
	enc := func() error {
		_, err := e.aws.Encrypt(bg, &kms.EncryptInput{KeyId: aws.String(id), Plaintext: []byte("x")})
		return err
	}
	if _, err := e.aws.UpdateKeyDescription(bg, &kms.UpdateKeyDescriptionInput{KeyId: aws.String(id), Description: aws.String("new")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.aws.DisableKey(bg, &kms.DisableKeyInput{KeyId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	var disabled *types.DisabledException
	if err := enc(); !asType(err, &disabled) {
		t.Fatalf("disabled key: want *types.DisabledException, got %v", err)
	}
	if _, err := e.aws.EnableKey(bg, &kms.EnableKeyInput{KeyId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	if err := enc(); err != nil {
		t.Fatal(err)
	}
	_, err := e.aws.ScheduleKeyDeletion(bg, &kms.ScheduleKeyDeletionInput{KeyId: aws.String(id), PendingWindowInDays: aws.Int32(31)})
	apiError(t, err, "ValidationException")
	s, err := e.aws.ScheduleKeyDeletion(bg, &kms.ScheduleKeyDeletionInput{KeyId: aws.String(id), PendingWindowInDays: aws.Int32(7)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(s.KeyId) != keyARN(id) || s.KeyState != types.KeyStatePendingDeletion || aws.ToInt32(s.PendingWindowInDays) != 7 ||
		s.DeletionDate == nil || time.Until(*s.DeletionDate) < 6*24*time.Hour {
		t.Errorf("ScheduleKeyDeletion answered %+v", s)
	}
	var invalidState *types.KMSInvalidStateException
	if err := enc(); !asType(err, &invalidState) {
		t.Fatalf("key pending deletion: want *types.KMSInvalidStateException, got %v", err)
	}
	d, err := e.aws.DescribeKey(bg, &kms.DescribeKeyInput{KeyId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	if d.KeyMetadata.KeyState != types.KeyStatePendingDeletion || d.KeyMetadata.DeletionDate == nil || aws.ToString(d.KeyMetadata.Description) != "new" {
		t.Errorf("described as %+v", d.KeyMetadata)
	}
	c, err := e.aws.CancelKeyDeletion(bg, &kms.CancelKeyDeletionInput{KeyId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(c.KeyId) != keyARN(id) {
		t.Errorf("CancelKeyDeletion KeyId %q", aws.ToString(c.KeyId))
	}
	_, err = e.aws.CancelKeyDeletion(bg, &kms.CancelKeyDeletionInput{KeyId: aws.String(id)})
	if !asType(err, &invalidState) {
		t.Fatalf("cancelling twice: want *types.KMSInvalidStateException, got %v", err)
	}
}

func TestSDKAliasesLifecycle(t *testing.T) {
	e := newEnv(t)
	k1, k2 := e.createKey(), e.createKey()
	if _, err := e.aws.CreateAlias(bg, &kms.CreateAliasInput{AliasName: aws.String("alias/orders"), TargetKeyId: aws.String(keyARN(k1))}); err != nil {
		t.Fatal(err)
	}
	_, err := e.aws.CreateAlias(bg, &kms.CreateAliasInput{AliasName: aws.String("alias/orders"), TargetKeyId: aws.String(k2)})
	var exists *types.AlreadyExistsException
	if !asType(err, &exists) {
		t.Fatalf("alias taken: want *types.AlreadyExistsException, got %v", err)
	}
	if _, err := e.aws.UpdateAlias(bg, &kms.UpdateAliasInput{AliasName: aws.String("alias/orders"), TargetKeyId: aws.String(k2)}); err != nil {
		t.Fatal(err)
	}
	all, err := e.aws.ListAliases(bg, &kms.ListAliasesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all.Aliases) != 1 || aws.ToString(all.Aliases[0].TargetKeyId) != k2 ||
		aws.ToString(all.Aliases[0].AliasArn) != "arn:aws:kms:"+testRegion+":"+awsAccount+":alias/orders" {
		t.Fatalf("ListAliases %+v", all.Aliases)
	}
	byKey, err := e.aws.ListAliases(bg, &kms.ListAliasesInput{KeyId: aws.String(k1)})
	if err != nil {
		t.Fatal(err)
	}
	if len(byKey.Aliases) != 0 {
		t.Errorf("k1 still has aliases %+v", byKey.Aliases)
	}
	if _, err := e.aws.DeleteAlias(bg, &kms.DeleteAliasInput{AliasName: aws.String("alias/orders")}); err != nil {
		t.Fatal(err)
	}
	_, err = e.aws.DeleteAlias(bg, &kms.DeleteAliasInput{AliasName: aws.String("alias/orders")})
	apiError(t, err, "NotFoundException")
	_, err = e.aws.Encrypt(bg, &kms.EncryptInput{KeyId: aws.String("alias/orders"), Plaintext: []byte("x")})
	apiError(t, err, "NotFoundException")
}

// TestSDKAliasNamesAWSReservesAreRefused: alias/aws/ is AWS's own, and the
// two names AWS allows that the shared naming rule does not are refused with
// a message that says why.
func TestSDKAliasNamesAWSReservesAreRefused(t *testing.T) {
	e := newEnv(t)
	id := e.createKey()
	if _, err := e.aws.CreateAlias(bg, &kms.CreateAliasInput{AliasName: aws.String("alias/orders"), TargetKeyId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"alias/aws/s3", "arn:aws:kms:" + testRegion + ":" + awsAccount + ":alias/aws/s3"} {
		_, err := e.aws.CreateAlias(bg, &kms.CreateAliasInput{AliasName: aws.String(name), TargetKeyId: aws.String(id)})
		apiErrorNamed(t, "CreateAlias "+name, err, "NotAuthorizedException")
		_, err = e.aws.UpdateAlias(bg, &kms.UpdateAliasInput{AliasName: aws.String(name), TargetKeyId: aws.String(id)})
		apiErrorNamed(t, "UpdateAlias "+name, err, "NotAuthorizedException")
	}
	for name, why := range map[string]string{"alias/a:b": "':'", "alias/acs/orders": "alias/acs/"} {
		_, err := e.aws.CreateAlias(bg, &kms.CreateAliasInput{AliasName: aws.String(name), TargetKeyId: aws.String(id)})
		if msg := apiError(t, err, "ValidationException").ErrorMessage(); !strings.Contains(msg, why) || !strings.Contains(msg, "Alibaba") {
			t.Errorf("CreateAlias %s refused as %q", name, msg)
		}
	}
	l, err := e.aws.ListAliases(bg, &kms.ListAliasesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Aliases) != 1 {
		t.Errorf("ListAliases after the refusals: %d aliases, want 1", len(l.Aliases))
	}
}

// aliasWalk lists aliases with the SDK's paginator from in, and counts how
// often each name comes, checking each entry's ARN and target against
// targets (name → key ID) and each page's size against the limit.
func (e *env) aliasWalk(t *testing.T, in *kms.ListAliasesInput, targets map[string]string) (got map[string]int, pages int) {
	t.Helper()
	got = map[string]int{}
	p := kms.NewListAliasesPaginator(e.aws, in)
	for p.HasMorePages() {
		out, err := p.NextPage(bg)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if n := len(out.Aliases); n > int(aws.ToInt32(in.Limit)) || n == 0 && out.Truncated {
			t.Errorf("page %d: %d aliases, Truncated %v, in pages of %d", pages, n, out.Truncated, aws.ToInt32(in.Limit))
		}
		for _, a := range out.Aliases {
			name := aws.ToString(a.AliasName)
			if aws.ToString(a.AliasArn) != "arn:aws:kms:"+testRegion+":"+awsAccount+":"+name || aws.ToString(a.TargetKeyId) != targets[name] {
				t.Errorf("entry %s %s → %s", name, aws.ToString(a.AliasArn), aws.ToString(a.TargetKeyId))
			}
			got[name]++
		}
	}
	return got, pages
}

// createAliases makes aliases alias/<prefix>0 to alias/<prefix>(n-1) of
// key id, and records each target in targets.
func (e *env) createAliases(t *testing.T, prefix string, n int, id string, targets map[string]string) {
	t.Helper()
	for i := range n {
		name := fmt.Sprintf("alias/%s%d", prefix, i)
		if _, err := e.aws.CreateAlias(bg, &kms.CreateAliasInput{AliasName: aws.String(name), TargetKeyId: aws.String(id)}); err != nil {
			t.Fatal(err)
		}
		targets[name] = id
	}
}

// ListAliases' markers walk every alias once, with a KeyId the key's alone.
func TestSDKListAliasesWalksMarkers(t *testing.T) {
	e := newEnv(t)
	k1, k2 := e.createKey(), e.createKey()
	targets := map[string]string{}
	e.createAliases(t, "a", 4, k1, targets)
	e.createAliases(t, "b", 3, k2, targets)
	e.createAliases(t, "c", 3, k1, targets)

	got, pages := e.aliasWalk(t, &kms.ListAliasesInput{Limit: aws.Int32(2)}, targets)
	if pages != 5 || len(got) != 10 {
		t.Errorf("%d pages, %d aliases; want 5 pages of 10 aliases", pages, len(got))
	}
	for name := range targets {
		if got[name] != 1 {
			t.Errorf("alias %s listed %d times, want once", name, got[name])
		}
	}
	for _, ref := range []string{k1, keyARN(k1)} {
		got, pages = e.aliasWalk(t, &kms.ListAliasesInput{KeyId: aws.String(ref), Limit: aws.Int32(3)}, targets)
		if pages != 3 || len(got) != 7 {
			t.Errorf("KeyId %s: %d pages, %d aliases; want 3 pages of key 1's 7 aliases", ref, pages, len(got))
		}
		for name, id := range targets {
			if want := map[bool]int{true: 1, false: 0}[id == k1]; got[name] != want {
				t.Errorf("KeyId %s: alias %s listed %d times, want %d", ref, name, got[name], want)
			}
		}
	}
}

// ListAliases' Limit has AWS's bounds for it, 1 to 100 and 50 by default,
// not ListKeys' 1 to 1000.
func TestSDKListAliasesLimitIsAWSs(t *testing.T) {
	e := newEnv(t)
	id := e.createKey()
	e.createAliases(t, "l", 51, id, map[string]string{})
	page, err := e.aws.ListAliases(bg, &kms.ListAliasesInput{})
	if err != nil || len(page.Aliases) != 50 || !page.Truncated {
		t.Fatalf("without a Limit: %d aliases, truncated %v, %v; want 50 and more", len(page.Aliases), page.Truncated, err)
	}
	if page, err := e.aws.ListAliases(bg, &kms.ListAliasesInput{Limit: aws.Int32(100)}); err != nil || len(page.Aliases) != 51 {
		t.Fatalf("Limit 100: %d aliases, %v", len(page.Aliases), err)
	}
	for _, limit := range []int32{0, 101, 1000} {
		_, err := e.aws.ListAliases(bg, &kms.ListAliasesInput{Limit: aws.Int32(limit)})
		apiErrorNamed(t, fmt.Sprint("Limit ", limit), err, "ValidationException")
	}
}

// An alias that leaves the listing between two pages moves no other alias
// out of the walk, of all aliases or of one key's: the marker is a place in
// the listing, not a page number whose offset now lands one alias further on.
func TestSDKListAliasesWalkSkipsNoAliasWhenOneLeaves(t *testing.T) {
	for _, byKey := range []bool{false, true} {
		t.Run(map[bool]string{false: "all", true: "by key"}[byKey], func(t *testing.T) {
			e := newEnv(t)
			mine, other := e.createKey(), e.createKey()
			targets := map[string]string{}
			e.createAliases(t, "m", 7, mine, targets)
			e.createAliases(t, "o", 3, other, targets)
			in := &kms.ListAliasesInput{Limit: aws.Int32(2)}
			if byKey {
				in.KeyId = aws.String(mine)
			}
			first, err := e.aws.ListAliases(bg, in)
			if err != nil {
				t.Fatal(err)
			}
			if len(first.Aliases) != 2 || !first.Truncated {
				t.Fatalf("first page: %d aliases, Truncated %v", len(first.Aliases), first.Truncated)
			}
			// The first alias listed is deleted; another is made after it.
			gone := aws.ToString(first.Aliases[0].AliasName)
			if _, err := e.aws.DeleteAlias(bg, &kms.DeleteAliasInput{AliasName: aws.String(gone)}); err != nil {
				t.Fatal(err)
			}
			e.createAliases(t, "n", 1, mine, targets)

			next := *in
			next.Marker = first.NextMarker
			got, _ := e.aliasWalk(t, &next, targets)
			got[aws.ToString(first.Aliases[1].AliasName)]++
			for name, id := range targets {
				want := 1
				if name == gone || byKey && id != mine {
					want = 0
				}
				if got[name] != want {
					t.Errorf("alias %s listed %d times, want %d (deleted: %s; listed: %v)", name, got[name], want, gone, got)
				}
			}
		})
	}
}

// A marker this service did not make is refused as AWS refuses one, with or
// without a KeyId: a page number (which markers once were), another
// listing's, one that names no alias, in either the marker's form (the
// alias's name) or the base64 form it had before. The longest alias's
// marker fits the 320 characters AWS documents, and a marker of the
// earlier form, handed out before an upgrade, still resumes the walk.
func TestSDKListAliasesRefusesForgedMarkers(t *testing.T) {
	e := newEnv(t)
	id := e.createKey()
	e.createAliases(t, "a", 3, id, map[string]string{})
	longest := "alias/" + strings.Repeat("Z", 249) // first, before alias/a0
	if _, err := e.aws.CreateAlias(bg, &kms.CreateAliasInput{AliasName: aws.String(longest), TargetKeyId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	e.createKey()
	page, err := e.aws.ListAliases(bg, &kms.ListAliasesInput{Limit: aws.Int32(1)})
	if err != nil || page.NextMarker == nil {
		t.Fatalf("first page: %+v, %v", page, err)
	}
	keys, err := e.aws.ListKeys(bg, &kms.ListKeysInput{Limit: aws.Int32(1)})
	if err != nil || keys.NextMarker == nil {
		t.Fatalf("first page of keys: %+v, %v", keys, err)
	}
	earlier := func(name string) string {
		return base64.RawURLEncoding.EncodeToString(append([]byte{4, byte(len(name))}, name...))
	}
	forgeries := map[string]string{
		"a page number":          "2",
		"a ListKeys marker":      aws.ToString(keys.NextMarker),
		"a tag marker":           base64.RawURLEncoding.EncodeToString([]byte("\x01Purpose")),
		"no alias name":          "orders",
		"alias/ alone":           "alias/",
		"an alias with ':'":      "alias/a:b",
		"a name too long":        longest + "z",
		"the reserved prefix":    "alias/acs/x",
		"earlier, no alias name": earlier("orders"),
		"earlier, with ':'":      earlier("alias/a:b"),
		"earlier, cut short":     earlier("alias/a0")[:10],
		"earlier, another kind":  base64.RawURLEncoding.EncodeToString(append([]byte{3, 8}, "alias/a0"...)),
		"longer than any":        strings.Repeat("A", 4096),
	}
	for name, forged := range forgeries {
		for _, keyID := range []*string{nil, aws.String(id)} {
			_, err := e.aws.ListAliases(bg, &kms.ListAliasesInput{KeyId: keyID, Marker: aws.String(forged)})
			var invalid *types.InvalidMarkerException
			if !asType(err, &invalid) {
				t.Errorf("%s (KeyId %v): want *types.InvalidMarkerException, got %v", name, keyID != nil, err)
			}
		}
	}
	if marker := aws.ToString(page.NextMarker); marker != longest {
		t.Errorf("NextMarker %q (%d characters) does not name the longest alias", marker, len(marker))
	}
	for _, keyID := range []*string{nil, aws.String(id)} {
		next, err := e.aws.ListAliases(bg, &kms.ListAliasesInput{KeyId: keyID, Marker: page.NextMarker, Limit: aws.Int32(1)})
		if err != nil || len(next.Aliases) != 1 || aws.ToString(next.Aliases[0].AliasName) != "alias/a0" {
			t.Errorf("the marker given back (KeyId %v): %+v, %v", keyID != nil, next, err)
		}
		for _, marker := range []string{"alias/a0", earlier("alias/a0")} {
			next, err := e.aws.ListAliases(bg, &kms.ListAliasesInput{KeyId: keyID, Marker: aws.String(marker), Limit: aws.Int32(1)})
			if err != nil || len(next.Aliases) != 1 || aws.ToString(next.Aliases[0].AliasName) != "alias/a1" {
				t.Errorf("marker %q (KeyId %v): %+v, %v", marker, keyID != nil, next, err)
			}
		}
	}
}

func TestSDKEncryptDecryptWithContext(t *testing.T) {
	e := newEnv(t)
	k1, k2 := e.createKey(), e.createKey()
	ctx := map[string]string{"tenant": "acme", "purpose": "test"}
	// A grant token this service did not issue is refused, as AWS refuses
	// one it did not, with the SDK's modeled exception.
	_, err := e.aws.Encrypt(bg, &kms.EncryptInput{KeyId: aws.String(k1), Plaintext: []byte("secret"), GrantTokens: []string{"grant-token-made-up"}})
	var badToken *types.InvalidGrantTokenException
	if !errors.As(err, &badToken) {
		t.Fatalf("Encrypt with a made-up grant token: %v", err)
	}
	enc, err := e.aws.Encrypt(bg, &kms.EncryptInput{KeyId: aws.String(k1), Plaintext: []byte("secret"), EncryptionContext: ctx})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(enc.KeyId) != keyARN(k1) || enc.EncryptionAlgorithm != types.EncryptionAlgorithmSpecSymmetricDefault {
		t.Errorf("Encrypt answered KeyId %q, algorithm %q", aws.ToString(enc.KeyId), enc.EncryptionAlgorithm)
	}
	dec, err := e.aws.Decrypt(bg, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ctx})
	if err != nil {
		t.Fatal(err)
	}
	if string(dec.Plaintext) != "secret" || aws.ToString(dec.KeyId) != keyARN(k1) {
		t.Errorf("Decrypt: %q under %q", dec.Plaintext, aws.ToString(dec.KeyId))
	}
	if _, err := e.aws.Decrypt(bg, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ctx, KeyId: aws.String(keyARN(k1))}); err != nil {
		t.Fatalf("Decrypt naming the right key: %v", err)
	}
	_, err = e.aws.Decrypt(bg, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ctx, KeyId: aws.String(k2)})
	var incorrect *types.IncorrectKeyException
	if !asType(err, &incorrect) {
		t.Fatalf("Decrypt naming another key: want *types.IncorrectKeyException, got %v", err)
	}
	var invalid *types.InvalidCiphertextException
	_, err = e.aws.Decrypt(bg, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: map[string]string{"tenant": "acme"}})
	if !asType(err, &invalid) {
		t.Fatalf("wrong context: want *types.InvalidCiphertextException, got %v", err)
	}
	tampered := bytes.Clone(enc.CiphertextBlob)
	tampered[len(tampered)-1] ^= 1
	_, err = e.aws.Decrypt(bg, &kms.DecryptInput{CiphertextBlob: tampered, EncryptionContext: ctx})
	if !asType(err, &invalid) {
		t.Fatalf("tampered blob: want *types.InvalidCiphertextException, got %v", err)
	}
	re, err := e.aws.ReEncrypt(bg, &kms.ReEncryptInput{CiphertextBlob: enc.CiphertextBlob, SourceEncryptionContext: ctx,
		DestinationKeyId: aws.String(k2), DestinationEncryptionContext: map[string]string{"new": "ctx"}})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(re.SourceKeyId) != keyARN(k1) || aws.ToString(re.KeyId) != keyARN(k2) {
		t.Errorf("ReEncrypt: SourceKeyId %q KeyId %q", aws.ToString(re.SourceKeyId), aws.ToString(re.KeyId))
	}
	dec, err = e.aws.Decrypt(bg, &kms.DecryptInput{CiphertextBlob: re.CiphertextBlob, EncryptionContext: map[string]string{"new": "ctx"}})
	if err != nil || string(dec.Plaintext) != "secret" {
		t.Fatalf("Decrypt after ReEncrypt: %q, %v", dec.Plaintext, err)
	}
	_, err = e.aws.ReEncrypt(bg, &kms.ReEncryptInput{CiphertextBlob: re.CiphertextBlob, SourceKeyId: aws.String(k1),
		SourceEncryptionContext: map[string]string{"new": "ctx"}, DestinationKeyId: aws.String(k1)})
	if !asType(err, &incorrect) {
		t.Fatalf("ReEncrypt naming another source key: want *types.IncorrectKeyException, got %v", err)
	}
	_, err = e.aws.Encrypt(bg, &kms.EncryptInput{KeyId: aws.String(k1), Plaintext: make([]byte, 4097)})
	apiError(t, err, "ValidationException")
}

// TestSDKDecryptNamingAMissingKeyIsNotFound: a KeyId or SourceKeyId naming no
// key is NotFoundException, by key ID and ARN as by alias; a blob is invalid
// only for what it carries itself.
func TestSDKDecryptNamingAMissingKeyIsNotFound(t *testing.T) {
	e := newEnv(t)
	id := e.createKey()
	enc, err := e.aws.Encrypt(bg, &kms.EncryptInput{KeyId: aws.String(id), Plaintext: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	for _, missing := range []string{"key-doesnotexist0000000000", keyARN("key-doesnotexist0000000000"), "alias/nowhere"} {
		var nf *types.NotFoundException
		_, err := e.aws.Decrypt(bg, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, KeyId: aws.String(missing)})
		if !asType(err, &nf) {
			t.Errorf("Decrypt naming %s: want *types.NotFoundException, got %v", missing, err)
		}
		_, err = e.aws.ReEncrypt(bg, &kms.ReEncryptInput{CiphertextBlob: enc.CiphertextBlob, SourceKeyId: aws.String(missing), DestinationKeyId: aws.String(id)})
		if !asType(err, &nf) {
			t.Errorf("ReEncrypt naming %s: want *types.NotFoundException, got %v", missing, err)
		}
	}
	bad := bytes.Clone(enc.CiphertextBlob)
	bad[len(bad)-1] ^= 1
	var invalid *types.InvalidCiphertextException
	if _, err := e.aws.Decrypt(bg, &kms.DecryptInput{CiphertextBlob: bad, KeyId: aws.String(id)}); !asType(err, &invalid) {
		t.Errorf("a changed blob: want *types.InvalidCiphertextException, got %v", err)
	}
}

// TestSDKAsymmetricAlgorithmIsInvalidKeyUsage: an algorithm AWS knows but a
// symmetric key cannot use is the key's incompatibility; a string that is no
// algorithm is a ValidationException.
func TestSDKAsymmetricAlgorithmIsInvalidKeyUsage(t *testing.T) {
	e := newEnv(t)
	id := e.createKey()
	enc, err := e.aws.Encrypt(bg, &kms.EncryptInput{KeyId: aws.String(id), Plaintext: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	calls := map[string]func(types.EncryptionAlgorithmSpec) error{
		"Encrypt": func(a types.EncryptionAlgorithmSpec) error {
			_, err := e.aws.Encrypt(bg, &kms.EncryptInput{KeyId: aws.String(id), Plaintext: []byte("x"), EncryptionAlgorithm: a})
			return err
		},
		"Decrypt": func(a types.EncryptionAlgorithmSpec) error {
			_, err := e.aws.Decrypt(bg, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionAlgorithm: a})
			return err
		},
		"ReEncrypt source": func(a types.EncryptionAlgorithmSpec) error {
			_, err := e.aws.ReEncrypt(bg, &kms.ReEncryptInput{CiphertextBlob: enc.CiphertextBlob, DestinationKeyId: aws.String(id), SourceEncryptionAlgorithm: a})
			return err
		},
		"ReEncrypt destination": func(a types.EncryptionAlgorithmSpec) error {
			_, err := e.aws.ReEncrypt(bg, &kms.ReEncryptInput{CiphertextBlob: enc.CiphertextBlob, DestinationKeyId: aws.String(id), DestinationEncryptionAlgorithm: a})
			return err
		},
	}
	for name, call := range calls {
		for _, a := range []types.EncryptionAlgorithmSpec{types.EncryptionAlgorithmSpecRsaesOaepSha256, types.EncryptionAlgorithmSpecRsaesOaepSha1, types.EncryptionAlgorithmSpecSm2pke} {
			var usage *types.InvalidKeyUsageException
			if err := call(a); !asType(err, &usage) {
				t.Errorf("%s with %s: want *types.InvalidKeyUsageException, got %v", name, a, err)
			}
		}
		apiErrorNamed(t, name+" with FOO", call("FOO"), "ValidationException")
		if err := call(types.EncryptionAlgorithmSpecSymmetricDefault); err != nil {
			t.Errorf("%s with SYMMETRIC_DEFAULT: %v", name, err)
		}
	}
}

func TestSDKDataKeysFollowAWSRules(t *testing.T) {
	e := newEnv(t)
	id := e.createKey()
	ctx := map[string]string{"partition": "p-1"}
	dk, err := e.aws.GenerateDataKey(bg, &kms.GenerateDataKeyInput{KeyId: aws.String(id), KeySpec: types.DataKeySpecAes128, EncryptionContext: ctx})
	if err != nil {
		t.Fatal(err)
	}
	if len(dk.Plaintext) != 16 || aws.ToString(dk.KeyId) != keyARN(id) {
		t.Errorf("GenerateDataKey AES_128: %d bytes under %q", len(dk.Plaintext), aws.ToString(dk.KeyId))
	}
	dec, err := e.aws.Decrypt(bg, &kms.DecryptInput{CiphertextBlob: dk.CiphertextBlob, EncryptionContext: ctx})
	if err != nil || !bytes.Equal(dec.Plaintext, dk.Plaintext) {
		t.Fatalf("Decrypt of a data key: %v", err)
	}
	n, err := e.aws.GenerateDataKey(bg, &kms.GenerateDataKeyInput{KeyId: aws.String(id), NumberOfBytes: aws.Int32(7)})
	if err != nil || len(n.Plaintext) != 7 {
		t.Fatalf("NumberOfBytes 7: %v", err)
	}
	_, err = e.aws.GenerateDataKey(bg, &kms.GenerateDataKeyInput{KeyId: aws.String(id), KeySpec: types.DataKeySpecAes256, NumberOfBytes: aws.Int32(32)})
	apiError(t, err, "ValidationException")
	_, err = e.aws.GenerateDataKey(bg, &kms.GenerateDataKeyInput{KeyId: aws.String(id)})
	apiError(t, err, "ValidationException")
	w, err := e.aws.GenerateDataKeyWithoutPlaintext(bg, &kms.GenerateDataKeyWithoutPlaintextInput{KeyId: aws.String(id), KeySpec: types.DataKeySpecAes256, EncryptionContext: ctx})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(w.KeyId) != keyARN(id) {
		t.Errorf("GenerateDataKeyWithoutPlaintext KeyId %q", aws.ToString(w.KeyId))
	}
	dec, err = e.aws.Decrypt(bg, &kms.DecryptInput{CiphertextBlob: w.CiphertextBlob, EncryptionContext: ctx})
	if err != nil || len(dec.Plaintext) != 32 {
		t.Fatalf("Decrypt of a data key made without plaintext: %v", err)
	}
	_, err = e.aws.GenerateDataKeyWithoutPlaintext(bg, &kms.GenerateDataKeyWithoutPlaintextInput{KeyId: aws.String(id), KeySpec: types.DataKeySpecAes256, NumberOfBytes: aws.Int32(16)})
	apiError(t, err, "ValidationException")
	r, err := e.aws.GenerateRandom(bg, &kms.GenerateRandomInput{NumberOfBytes: aws.Int32(48)})
	if err != nil || len(r.Plaintext) != 48 {
		t.Fatalf("GenerateRandom: %v", err)
	}
	_, err = e.aws.GenerateRandom(bg, &kms.GenerateRandomInput{NumberOfBytes: aws.Int32(1025)})
	apiError(t, err, "ValidationException")
}

// A Recipient asks AWS to return the plaintext encrypted for a Nitro
// enclave alone, and none in Plaintext: the host that relays the answer is
// the one kept from it. This service has no attestation, so each operation
// that takes a Recipient refuses it rather than answer in the clear.
// GenerateDataKey took it and returned Plaintext.
func TestSDKRecipientIsRefusedNotIgnored(t *testing.T) {
	e := newEnv(t)
	id := aws.String(e.createKey())
	r := &types.RecipientInfo{AttestationDocument: []byte("attestation"), KeyEncryptionAlgorithm: types.KeyEncryptionMechanismRsaesOaepSha256}
	w, err := e.aws.GenerateDataKeyWithoutPlaintext(bg, &kms.GenerateDataKeyWithoutPlaintextInput{KeyId: id, KeySpec: types.DataKeySpecAes256})
	if err != nil {
		t.Fatal(err)
	}
	for name, call := range map[string]func() error{
		"GenerateDataKey": func() error {
			_, err := e.aws.GenerateDataKey(bg, &kms.GenerateDataKeyInput{KeyId: id, KeySpec: types.DataKeySpecAes256, Recipient: r})
			return err
		},
		"GenerateDataKeyPair": func() error {
			_, err := e.aws.GenerateDataKeyPair(bg, &kms.GenerateDataKeyPairInput{KeyId: id, KeyPairSpec: types.DataKeyPairSpecEccNistP256, Recipient: r})
			return err
		},
		"Decrypt": func() error {
			_, err := e.aws.Decrypt(bg, &kms.DecryptInput{CiphertextBlob: w.CiphertextBlob, Recipient: r})
			return err
		},
		"GenerateRandom": func() error {
			_, err := e.aws.GenerateRandom(bg, &kms.GenerateRandomInput{NumberOfBytes: aws.Int32(32), Recipient: r})
			return err
		},
	} {
		apiErrorNamed(t, name, call(), "ValidationException")
	}
}

func TestSDKDryRunAnswersWithoutActing(t *testing.T) {
	readOnly := core.MustPolicy(core.Statement{Effect: "Allow", Action: []string{"kms:Encrypt"}, Resource: []string{"acs:kms:*:*:key/*"}})
	e := newEnv(t, withPrincipal("encrypter", "AKIAENCRYPTER0000001", "encrypter-secret", 1000, readOnly))
	id := e.createKey()
	enc, err := e.aws.Encrypt(bg, &kms.EncryptInput{KeyId: aws.String(id), Plaintext: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	yes := aws.Bool(true)
	var dry *types.DryRunOperationException
	for name, call := range map[string]func(*kms.Client) error{
		"Encrypt": func(c *kms.Client) error {
			_, err := c.Encrypt(bg, &kms.EncryptInput{KeyId: aws.String(id), Plaintext: []byte("x"), DryRun: yes})
			return err
		},
		"Decrypt": func(c *kms.Client) error {
			_, err := c.Decrypt(bg, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, DryRun: yes})
			return err
		},
		"ReEncrypt": func(c *kms.Client) error {
			_, err := c.ReEncrypt(bg, &kms.ReEncryptInput{CiphertextBlob: enc.CiphertextBlob, DestinationKeyId: aws.String(id), DryRun: yes})
			return err
		},
		"GenerateDataKey": func(c *kms.Client) error {
			_, err := c.GenerateDataKey(bg, &kms.GenerateDataKeyInput{KeyId: aws.String(id), KeySpec: types.DataKeySpecAes256, DryRun: yes})
			return err
		},
		"GenerateDataKeyWithoutPlaintext": func(c *kms.Client) error {
			_, err := c.GenerateDataKeyWithoutPlaintext(bg, &kms.GenerateDataKeyWithoutPlaintextInput{KeyId: aws.String(id), KeySpec: types.DataKeySpecAes256, DryRun: yes})
			return err
		},
	} {
		if err := call(e.aws); !asType(err, &dry) {
			t.Errorf("%s DryRun by admin: want *types.DryRunOperationException, got %v", name, err)
		}
		if name == "Encrypt" {
			continue
		}
		err := call(e.client("AKIAENCRYPTER0000001", "encrypter-secret"))
		apiErrorNamed(t, name, err, "AccessDeniedException")
	}
}

// A DryRun of Decrypt or ReEncrypt with DryRunModifiers IGNORE_CIPHERTEXT
// checks the caller's permission on the key it names, under the context it
// gives, and reads no ciphertext: none, or one that would not open, is
// DryRunOperationException, a caller the policy refuses under that context
// AccessDeniedException, and a key that does not decrypt so, or is not
// there, is refused as a real request would be. The key must then be
// named; outside a DryRun the modifier changes nothing.
func TestSDKDryRunIgnoringCiphertext(t *testing.T) {
	acmeOnly := core.MustPolicy(core.Statement{
		Effect: "Allow", Action: []string{"kms:Decrypt", "kms:ReEncrypt*"}, Resource: []string{"acs:kms:*:*:key/*"},
		Condition: []core.Condition{{Operator: "StringEquals", Key: "kms:EncryptionContext:tenant", Values: []string{"acme"}}},
	})
	e := newEnv(t, withPrincipal("acme-reader", "AKIAACMEREADER000001", "acme-secret", 1000, acmeOnly))
	id := e.createKey()
	rsaKey, err := e.aws.CreateKey(bg, &kms.CreateKeyInput{KeySpec: types.KeySpecRsa2048, KeyUsage: types.KeyUsageTypeEncryptDecrypt})
	if err != nil {
		t.Fatal(err)
	}
	rsaID := aws.ToString(rsaKey.KeyMetadata.KeyId)
	yes, ignore := aws.Bool(true), []types.DryRunModifierType{types.DryRunModifierTypeIgnoreCiphertext}
	acme, other := map[string]string{"tenant": "acme"}, map[string]string{"tenant": "other"}
	reader := e.client("AKIAACMEREADER000001", "acme-secret")
	var dry *types.DryRunOperationException

	decrypt := func(c *kms.Client, in kms.DecryptInput) error {
		in.DryRun, in.DryRunModifiers = yes, ignore
		_, err := c.Decrypt(bg, &in)
		return err
	}
	reEncrypt := func(c *kms.Client, in kms.ReEncryptInput) error {
		in.DryRun, in.DryRunModifiers = yes, ignore
		_, err := c.ReEncrypt(bg, &in)
		return err
	}
	for name, err := range map[string]error{
		"Decrypt with no ciphertext":           decrypt(reader, kms.DecryptInput{KeyId: aws.String(id), EncryptionContext: acme}),
		"Decrypt with a ciphertext of nothing": decrypt(reader, kms.DecryptInput{KeyId: aws.String(id), EncryptionContext: acme, CiphertextBlob: []byte("not a blob")}),
		"Decrypt under an RSA key":             decrypt(e.aws, kms.DecryptInput{KeyId: aws.String(rsaID), EncryptionAlgorithm: types.EncryptionAlgorithmSpecRsaesOaepSha256}),
		"ReEncrypt with no ciphertext":         reEncrypt(reader, kms.ReEncryptInput{SourceKeyId: aws.String(id), SourceEncryptionContext: acme, DestinationKeyId: aws.String(id), DestinationEncryptionContext: acme}),
		"ReEncrypt from an RSA key to a key":   reEncrypt(e.aws, kms.ReEncryptInput{SourceKeyId: aws.String(rsaID), SourceEncryptionAlgorithm: types.EncryptionAlgorithmSpecRsaesOaepSha256, DestinationKeyId: aws.String(id)}),
		"ReEncrypt from a key to an RSA key":   reEncrypt(e.aws, kms.ReEncryptInput{SourceKeyId: aws.String(id), DestinationKeyId: aws.String(rsaID), DestinationEncryptionAlgorithm: types.EncryptionAlgorithmSpecRsaesOaepSha1}),
	} {
		if !asType(err, &dry) {
			t.Errorf("%s: want *types.DryRunOperationException, got %v", name, err)
		}
	}
	for name, c := range map[string]struct {
		err  error
		want string
	}{
		"Decrypt under another context": {decrypt(reader, kms.DecryptInput{KeyId: aws.String(id), EncryptionContext: other}), "AccessDeniedException"},
		"ReEncrypt to another context":  {reEncrypt(reader, kms.ReEncryptInput{SourceKeyId: aws.String(id), SourceEncryptionContext: acme, DestinationKeyId: aws.String(id), DestinationEncryptionContext: other}), "AccessDeniedException"},
		"Decrypt naming no key":         {decrypt(e.aws, kms.DecryptInput{EncryptionContext: acme}), "ValidationException"},
		"Decrypt with another modifier": {func() error {
			_, err := e.aws.Decrypt(bg, &kms.DecryptInput{KeyId: aws.String(id), DryRun: yes, DryRunModifiers: []types.DryRunModifierType{"IGNORE_EVERYTHING"}})
			return err
		}(), "ValidationException"},
		"ReEncrypt naming no source key":       {reEncrypt(e.aws, kms.ReEncryptInput{DestinationKeyId: aws.String(id)}), "ValidationException"},
		"Decrypt under an RSA key, no alg":     {decrypt(e.aws, kms.DecryptInput{KeyId: aws.String(rsaID)}), "InvalidKeyUsageException"},
		"Decrypt under a key, RSA alg":         {decrypt(e.aws, kms.DecryptInput{KeyId: aws.String(id), EncryptionAlgorithm: types.EncryptionAlgorithmSpecRsaesOaepSha256}), "InvalidKeyUsageException"},
		"Decrypt under a key it does not know": {decrypt(e.aws, kms.DecryptInput{KeyId: aws.String("alias/none-such")}), "NotFoundException"},
	} {
		apiErrorNamed(t, name, c.err, c.want)
	}

	// Outside a DryRun the modifier changes nothing: the ciphertext is
	// required, and a real one opens.
	_, err = e.aws.Decrypt(bg, &kms.DecryptInput{KeyId: aws.String(id), DryRunModifiers: ignore})
	apiErrorNamed(t, "Decrypt with the modifier and no DryRun", err, "ValidationException")
	enc, err := e.aws.Encrypt(bg, &kms.EncryptInput{KeyId: aws.String(id), Plaintext: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	dec, err := e.aws.Decrypt(bg, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, DryRunModifiers: ignore})
	if err != nil || string(dec.Plaintext) != "x" {
		t.Fatalf("Decrypt with the modifier and no DryRun: %v", err)
	}
}

func TestSDKRotationOperations(t *testing.T) {
	e := newEnv(t)
	id := e.createKey()
	old, err := e.aws.Encrypt(bg, &kms.EncryptInput{KeyId: aws.String(id), Plaintext: []byte("before")})
	if err != nil {
		t.Fatal(err)
	}
	st, err := e.aws.GetKeyRotationStatus(bg, &kms.GetKeyRotationStatusInput{KeyId: aws.String(id)})
	if err != nil || st.KeyRotationEnabled {
		t.Fatalf("fresh key: rotation %v, %v", st.KeyRotationEnabled, err)
	}
	if _, err := e.aws.EnableKeyRotation(bg, &kms.EnableKeyRotationInput{KeyId: aws.String(id), RotationPeriodInDays: aws.Int32(90)}); err != nil {
		t.Fatal(err)
	}
	st, err = e.aws.GetKeyRotationStatus(bg, &kms.GetKeyRotationStatusInput{KeyId: aws.String(id)})
	if err != nil || !st.KeyRotationEnabled || aws.ToInt32(st.RotationPeriodInDays) != 90 || st.NextRotationDate == nil {
		t.Fatalf("after EnableKeyRotation: %+v, %v", st, err)
	}
	for _, days := range []int32{30, 89, 731, 2560} {
		_, err = e.aws.EnableKeyRotation(bg, &kms.EnableKeyRotationInput{KeyId: aws.String(id), RotationPeriodInDays: aws.Int32(days)})
		msg := apiError(t, err, "ValidationException").ErrorMessage()
		if !strings.Contains(msg, "RotationPeriodInDays") || !strings.Contains(msg, "90 to 730") {
			t.Errorf("RotationPeriodInDays %d refused as %q", days, msg)
		}
	}
	if _, err := e.aws.EnableKeyRotation(bg, &kms.EnableKeyRotationInput{KeyId: aws.String(id), RotationPeriodInDays: aws.Int32(730)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.aws.EnableKeyRotation(bg, &kms.EnableKeyRotationInput{KeyId: aws.String(id), RotationPeriodInDays: aws.Int32(90)}); err != nil {
		t.Fatal(err)
	}
	rot, err := e.aws.RotateKeyOnDemand(bg, &kms.RotateKeyOnDemandInput{KeyId: aws.String(id)})
	if err != nil || aws.ToString(rot.KeyId) != keyARN(id) {
		t.Fatalf("RotateKeyOnDemand: %v", err)
	}
	l, err := e.aws.ListKeyRotations(bg, &kms.ListKeyRotationsInput{KeyId: aws.String(id)})
	if err != nil || len(l.Rotations) != 1 {
		t.Fatalf("ListKeyRotations: %+v, %v", l, err)
	}
	if _, err := e.aws.DisableKeyRotation(bg, &kms.DisableKeyRotationInput{KeyId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	st, err = e.aws.GetKeyRotationStatus(bg, &kms.GetKeyRotationStatusInput{KeyId: aws.String(id)})
	if err != nil || st.KeyRotationEnabled {
		t.Fatalf("after DisableKeyRotation: %v, %v", st.KeyRotationEnabled, err)
	}
	dec, err := e.aws.Decrypt(bg, &kms.DecryptInput{CiphertextBlob: old.CiphertextBlob})
	if err != nil || string(dec.Plaintext) != "before" {
		t.Fatalf("a blob from before the rotation: %v", err)
	}
}

// TestSDKListKeyRotationsListsRotations: by default only the key materials
// rotations made, and with ALL_KEY_MATERIAL the first too, which has no
// RotationDate; pages count what they list.
func TestSDKListKeyRotationsListsRotations(t *testing.T) {
	e := newEnv(t)
	id := e.createKey()
	list := func(include types.IncludeKeyMaterial) []types.RotationsListEntry {
		t.Helper()
		var all []types.RotationsListEntry
		p := kms.NewListKeyRotationsPaginator(e.aws, &kms.ListKeyRotationsInput{KeyId: aws.String(id), IncludeKeyMaterial: include, Limit: aws.Int32(1)})
		for p.HasMorePages() {
			out, err := p.NextPage(bg)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, out.Rotations...)
		}
		return all
	}
	for _, include := range []types.IncludeKeyMaterial{"", types.IncludeKeyMaterialRotationsOnly} {
		if r := list(include); len(r) != 0 {
			t.Errorf("a key never rotated, IncludeKeyMaterial %q: %d entries", include, len(r))
		}
	}
	if r := list(types.IncludeKeyMaterialAllKeyMaterial); len(r) != 1 || r[0].RotationDate != nil || aws.ToString(r[0].KeyId) != keyARN(id) {
		t.Errorf("a key never rotated, ALL_KEY_MATERIAL: %+v", r)
	}
	for range 2 {
		if _, err := e.aws.RotateKeyOnDemand(bg, &kms.RotateKeyOnDemandInput{KeyId: aws.String(id)}); err != nil {
			t.Fatal(err)
		}
	}
	r := list("")
	if len(r) != 2 {
		t.Fatalf("after two rotations: %d entries", len(r))
	}
	for _, entry := range r {
		if entry.RotationDate == nil || aws.ToString(entry.KeyId) != keyARN(id) || entry.RotationType != types.RotationTypeOnDemand {
			t.Errorf("a rotation on demand without its date or type: %+v", entry)
		}
	}
	if r := list(types.IncludeKeyMaterialAllKeyMaterial); len(r) != 3 || r[0].RotationDate != nil || r[0].RotationType != "" || r[1].RotationDate == nil || r[2].RotationDate == nil {
		t.Errorf("after two rotations, ALL_KEY_MATERIAL: %+v", r)
	}
	_, err := e.aws.ListKeyRotations(bg, &kms.ListKeyRotationsInput{KeyId: aws.String(id), IncludeKeyMaterial: "SOME"})
	apiError(t, err, "ValidationException")
}

// TestSDKKeyStatesRefuseManagement follows AWS's key-state table for the
// management operations: EnableKeyRotation and DisableKeyRotation on a
// disabled key are DisabledException, and UpdateKeyDescription and the
// rotation operations on a key pending deletion are KMSInvalidStateException.
func TestSDKKeyStatesRefuseManagement(t *testing.T) {
	e := newEnv(t)
	id := e.createKey()
	if _, err := e.aws.DisableKey(bg, &kms.DisableKeyInput{KeyId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	var disabled *types.DisabledException
	if _, err := e.aws.EnableKeyRotation(bg, &kms.EnableKeyRotationInput{KeyId: aws.String(id)}); !asType(err, &disabled) {
		t.Errorf("EnableKeyRotation on a disabled key: want *types.DisabledException, got %v", err)
	}
	if _, err := e.aws.DisableKeyRotation(bg, &kms.DisableKeyRotationInput{KeyId: aws.String(id)}); !asType(err, &disabled) {
		t.Errorf("DisableKeyRotation on a disabled key: want *types.DisabledException, got %v", err)
	}
	if _, err := e.aws.UpdateKeyDescription(bg, &kms.UpdateKeyDescriptionInput{KeyId: aws.String(id), Description: aws.String("disabled")}); err != nil {
		t.Errorf("UpdateKeyDescription on a disabled key: %v", err)
	}

	if _, err := e.aws.ScheduleKeyDeletion(bg, &kms.ScheduleKeyDeletionInput{KeyId: aws.String(id), PendingWindowInDays: aws.Int32(7)}); err != nil {
		t.Fatal(err)
	}
	var invalidState *types.KMSInvalidStateException
	if _, err := e.aws.UpdateKeyDescription(bg, &kms.UpdateKeyDescriptionInput{KeyId: aws.String(id), Description: aws.String("gone")}); !asType(err, &invalidState) {
		t.Errorf("UpdateKeyDescription pending deletion: want *types.KMSInvalidStateException, got %v", err)
	}
	if _, err := e.aws.EnableKeyRotation(bg, &kms.EnableKeyRotationInput{KeyId: aws.String(id)}); !asType(err, &invalidState) {
		t.Errorf("EnableKeyRotation pending deletion: want *types.KMSInvalidStateException, got %v", err)
	}
	d, err := e.aws.DescribeKey(bg, &kms.DescribeKeyInput{KeyId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(d.KeyMetadata.Description); got != "disabled" {
		t.Errorf("description %q after a refused update, want %q", got, "disabled")
	}
}

func TestSDKKeyPolicyIsTheDefault(t *testing.T) {
	e := newEnv(t)
	id := e.createKey()
	p, err := e.aws.GetKeyPolicy(bg, &kms.GetKeyPolicyInput{KeyId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(p.PolicyName) != "default" || !strings.Contains(aws.ToString(p.Policy), "arn:aws:iam::"+awsAccount+":root") {
		t.Errorf("GetKeyPolicy: %q %q", aws.ToString(p.PolicyName), aws.ToString(p.Policy))
	}
	_, err = e.aws.GetKeyPolicy(bg, &kms.GetKeyPolicyInput{KeyId: aws.String(id), PolicyName: aws.String("other")})
	apiError(t, err, "NotFoundException")
	l, err := e.aws.ListKeyPolicies(bg, &kms.ListKeyPoliciesInput{KeyId: aws.String(id)})
	if err != nil || len(l.PolicyNames) != 1 || l.PolicyNames[0] != "default" || l.Truncated {
		t.Fatalf("ListKeyPolicies: %+v, %v", l, err)
	}
}

func apiErrorNamed(t *testing.T, name string, err error, code string) {
	t.Helper()
	var ae interface{ ErrorCode() string }
	if !asType(err, &ae) || ae.ErrorCode() != code {
		t.Errorf("%s: want %s, got %v", name, code, err)
	}
}

// TestSourceIPConditionOverTheAWSProtocol holds acs:SourceIp conditions to the
// connection's peer here as on the Alibaba protocol: an Allow from loopback
// applies to a caller on loopback, and a Deny outside an office range
// refuses it.
func TestSourceIPConditionOverTheAWSProtocol(t *testing.T) {
	loopback := core.MustPolicy(core.Statement{Effect: "Allow", Action: []string{"kms:*"}, Resource: []string{"*"},
		Condition: []core.Condition{{Operator: "IpAddress", Key: "acs:SourceIp", Values: []string{"127.0.0.0/8"}}}})
	office := core.MustPolicy(core.Statement{Effect: "Allow", Action: []string{"kms:*"}, Resource: []string{"*"}},
		core.Statement{Effect: "Deny", Action: []string{"kms:*"}, Resource: []string{"*"},
			Condition: []core.Condition{{Operator: "NotIpAddress", Key: "acs:SourceIp", Values: []string{"203.0.113.0/24"}}}})
	e := newEnv(t, withPrincipal("loopback-only", "AKIALOOPBACKONLY0001", "loopback-secret", 1000, loopback),
		withPrincipal("office-only", "AKIAOFFICEONLY000001", "office-secret", 1000, office))
	if _, err := e.client("AKIALOOPBACKONLY0001", "loopback-secret").CreateKey(bg, &kms.CreateKeyInput{}); err != nil {
		t.Errorf("a caller on loopback allowed only from loopback: %v", err)
	}
	_, err := e.client("AKIAOFFICEONLY000001", "office-secret").CreateKey(bg, &kms.CreateKeyInput{})
	apiError(t, err, "AccessDeniedException")
}
