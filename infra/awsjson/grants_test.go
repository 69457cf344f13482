package awsjson_test

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/kmsless/kmsless/core"
)

func iamUser(name string) string { return "arn:aws:iam::" + awsAccount + ":user/" + name }

// keyless allows nothing on keys: what such a principal does with one, a
// grant gave it.
var keyless = core.MustPolicy(core.Statement{Effect: "Allow", Action: []string{"kms:DescribeRegions"}, Resource: []string{"*"}})

// TestSDKGrantsLifecycle drives grants through the AWS SDK's own methods and
// paginator: a grantee uses the key within the grant's operations and
// constraints, listings answer in AWS's shapes and spellings, and the
// retiring principal retires the grant by its token.
func TestSDKGrantsLifecycle(t *testing.T) {
	e := newEnv(t, withPrincipal("bob", "AKIABOB0000000000001", "bob-secret", 1000, keyless),
		withPrincipal("carol", "AKIACAROL00000000001", "carol-secret", 1000, keyless))
	bob, carol := e.client("AKIABOB0000000000001", "bob-secret"), e.client("AKIACAROL00000000001", "carol-secret")
	id := e.createKey()
	context := map[string]string{"purpose": "orders", "region": "eu"}
	_, err := bob.Encrypt(bg, &kms.EncryptInput{KeyId: aws.String(id), Plaintext: []byte("hi"), EncryptionContext: context})
	apiError(t, err, "AccessDeniedException")

	_, err = e.aws.CreateGrant(bg, &kms.CreateGrantInput{KeyId: aws.String(id), GranteePrincipal: aws.String(iamUser("bob")),
		Operations: []types.GrantOperation{types.GrantOperationEncrypt}, DryRun: aws.Bool(true)})
	apiError(t, err, "DryRunOperationException")
	made, err := e.aws.CreateGrant(bg, &kms.CreateGrantInput{
		KeyId: aws.String(keyARN(id)), GranteePrincipal: aws.String(iamUser("bob")), RetiringPrincipal: aws.String(iamUser("carol")),
		Operations:  []types.GrantOperation{types.GrantOperationEncrypt, types.GrantOperationDecrypt, types.GrantOperationGenerateDataKey},
		Constraints: &types.GrantConstraints{EncryptionContextSubset: map[string]string{"purpose": "orders"}},
		Name:        aws.String("orders-service"),
	})
	if err != nil {
		t.Fatal(err)
	}
	token := aws.ToString(made.GrantToken)
	sealed, err := bob.Encrypt(bg, &kms.EncryptInput{KeyId: aws.String(id), Plaintext: []byte("hi"), EncryptionContext: context, GrantTokens: []string{token}})
	if err != nil {
		t.Fatalf("Encrypt under the grant: %v", err)
	}
	opened, err := bob.Decrypt(bg, &kms.DecryptInput{CiphertextBlob: sealed.CiphertextBlob, EncryptionContext: context})
	if err != nil || string(opened.Plaintext) != "hi" {
		t.Fatalf("Decrypt under the grant: %v", err)
	}
	_, err = bob.Encrypt(bg, &kms.EncryptInput{KeyId: aws.String(id), Plaintext: []byte("hi")})
	apiError(t, err, "AccessDeniedException")
	_, err = bob.ReEncrypt(bg, &kms.ReEncryptInput{CiphertextBlob: sealed.CiphertextBlob, SourceEncryptionContext: context, DestinationKeyId: aws.String(id)})
	apiError(t, err, "AccessDeniedException")

	for _, grantee := range []string{"dave", "erin"} {
		if _, err := e.aws.CreateGrant(bg, &kms.CreateGrantInput{KeyId: aws.String(id), GranteePrincipal: aws.String(iamUser(grantee)),
			Operations: []types.GrantOperation{types.GrantOperationDescribeKey}}); err != nil {
			t.Fatal(err)
		}
	}
	var grants []types.GrantListEntry
	pages := kms.NewListGrantsPaginator(e.aws, &kms.ListGrantsInput{KeyId: aws.String(id), Limit: aws.Int32(1)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(bg)
		if err != nil {
			t.Fatal(err)
		}
		grants = append(grants, page.Grants...)
	}
	if len(grants) != 3 {
		t.Fatalf("ListGrants walked %d grants, want 3", len(grants))
	}
	i := slices.IndexFunc(grants, func(g types.GrantListEntry) bool { return aws.ToString(g.GrantId) == aws.ToString(made.GrantId) })
	if i < 0 {
		t.Fatalf("the grant is not listed: %+v", grants)
	}
	g := grants[i]
	if aws.ToString(g.KeyId) != keyARN(id) || aws.ToString(g.GranteePrincipal) != iamUser("bob") || aws.ToString(g.RetiringPrincipal) != iamUser("carol") ||
		aws.ToString(g.IssuingAccount) != "arn:aws:iam::"+awsAccount+":root" || aws.ToString(g.Name) != "orders-service" ||
		!slices.Equal(g.Operations, []types.GrantOperation{"Decrypt", "Encrypt", "GenerateDataKey"}) ||
		g.Constraints == nil || !maps.Equal(g.Constraints.EncryptionContextSubset, map[string]string{"purpose": "orders"}) ||
		g.CreationDate == nil || time.Since(*g.CreationDate) > time.Minute {
		t.Fatalf("ListGrants entry %+v", g)
	}

	narrowed, err := e.aws.ListGrants(bg, &kms.ListGrantsInput{KeyId: aws.String(id), GranteePrincipal: aws.String(iamUser("dave"))})
	if err != nil || len(narrowed.Grants) != 1 || aws.ToString(narrowed.Grants[0].GranteePrincipal) != iamUser("dave") {
		t.Fatalf("ListGrants for dave = %+v, %v", narrowed, err)
	}
	retirable, err := e.aws.ListRetirableGrants(bg, &kms.ListRetirableGrantsInput{RetiringPrincipal: aws.String(iamUser("carol"))})
	if err != nil || len(retirable.Grants) != 1 || aws.ToString(retirable.Grants[0].GrantId) != aws.ToString(made.GrantId) {
		t.Fatalf("ListRetirableGrants = %+v, %v", retirable, err)
	}
	_, err = bob.RetireGrant(bg, &kms.RetireGrantInput{GrantToken: aws.String(token)})
	apiError(t, err, "AccessDeniedException")
	if _, err := carol.RetireGrant(bg, &kms.RetireGrantInput{GrantToken: aws.String(token)}); err != nil {
		t.Fatalf("RetireGrant by the retiring principal: %v", err)
	}
	_, err = bob.Decrypt(bg, &kms.DecryptInput{CiphertextBlob: sealed.CiphertextBlob, EncryptionContext: context})
	apiError(t, err, "AccessDeniedException")
}

// TestSDKGrantRefusals: each refusal is the exception AWS raises for it.
func TestSDKGrantRefusals(t *testing.T) {
	e := newEnv(t)
	id := e.createKey()
	_, err := e.aws.CreateGrant(bg, &kms.CreateGrantInput{KeyId: aws.String(id), GranteePrincipal: aws.String(iamUser("bob")),
		Operations: []types.GrantOperation{types.GrantOperationSign}})
	apiError(t, err, "ValidationException")
	_, err = e.aws.CreateGrant(bg, &kms.CreateGrantInput{KeyId: aws.String(id), GranteePrincipal: aws.String("arn:aws:iam::111122223333:user/bob"),
		Operations: []types.GrantOperation{types.GrantOperationDecrypt}})
	apiError(t, err, "ValidationException")
	_, err = e.aws.CreateGrant(bg, &kms.CreateGrantInput{KeyId: aws.String("key-doesnotexist0000000000"), GranteePrincipal: aws.String(iamUser("bob")),
		Operations: []types.GrantOperation{types.GrantOperationDecrypt}})
	apiError(t, err, "NotFoundException")
	_, err = e.aws.RevokeGrant(bg, &kms.RevokeGrantInput{KeyId: aws.String(id), GrantId: aws.String("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")})
	apiError(t, err, "NotFoundException")
	_, err = e.aws.RetireGrant(bg, &kms.RetireGrantInput{GrantToken: aws.String("not-a-token")})
	apiError(t, err, "InvalidGrantTokenException")
	_, err = e.aws.ListGrants(bg, &kms.ListGrantsInput{KeyId: aws.String(id), Marker: aws.String("forged")})
	apiError(t, err, "InvalidMarkerException")
	_, err = e.aws.ListRetirableGrants(bg, &kms.ListRetirableGrantsInput{RetiringPrincipal: aws.String(iamUser("bob")), Marker: aws.String("forged")})
	apiError(t, err, "InvalidMarkerException")

	made, err := e.aws.CreateGrant(bg, &kms.CreateGrantInput{KeyId: aws.String(id), GranteePrincipal: aws.String(iamUser("bob")),
		Operations: []types.GrantOperation{types.GrantOperationDecrypt}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.aws.RevokeGrant(bg, &kms.RevokeGrantInput{KeyId: aws.String(id), GrantId: made.GrantId, DryRun: aws.Bool(true)})
	apiError(t, err, "DryRunOperationException")
	if _, err := e.aws.RevokeGrant(bg, &kms.RevokeGrantInput{KeyId: aws.String(id), GrantId: made.GrantId}); err != nil {
		t.Fatal(err)
	}
	list, err := e.aws.ListGrants(bg, &kms.ListGrantsInput{KeyId: aws.String(id)})
	if err != nil || len(list.Grants) != 0 || list.Truncated {
		t.Fatalf("after RevokeGrant, ListGrants = %+v, %v", list, err)
	}
}

// TestSDKListRetirableGrantsWalksEveryKey: ListRetirableGrants pages across
// keys by its markers, each grant once, through the SDK's paginator.
func TestSDKListRetirableGrantsWalksEveryKey(t *testing.T) {
	e := newEnv(t)
	want := map[string]bool{}
	for range 3 {
		id := e.createKey()
		for range 2 {
			g, err := e.aws.CreateGrant(bg, &kms.CreateGrantInput{KeyId: aws.String(id), GranteePrincipal: aws.String(iamUser("app")),
				RetiringPrincipal: aws.String(iamUser("ops")), Operations: []types.GrantOperation{types.GrantOperationDecrypt}})
			if err != nil {
				t.Fatal(err)
			}
			want[aws.ToString(g.GrantId)] = true
		}
	}
	got := map[string]int{}
	pages := kms.NewListRetirableGrantsPaginator(e.aws, &kms.ListRetirableGrantsInput{RetiringPrincipal: aws.String(iamUser("ops")), Limit: aws.Int32(4)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(bg)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range page.Grants {
			got[aws.ToString(g.GrantId)]++
		}
	}
	if len(got) != len(want) {
		t.Fatalf("walked %d grants, want %d", len(got), len(want))
	}
	for id, n := range got {
		if !want[id] || n != 1 {
			t.Fatalf("grant %s listed %d times", id, n)
		}
	}
}

// TestSDKGrantsForServicePrincipalsAreRefused: the SDK's members for grants
// to AWS service principals are read, not ignored. No AWS service calls
// this service, so CreateGrant refuses a grantee or retiring service
// principal and the SourceArn constraint as UnsupportedOperationException
// and makes no grant; ListGrants by a grantee service principal lists none
// of the key's grants to a caller who may list them; ListRetirableGrants by
// a retiring service principal, which only such a principal may ask, is
// refused; a principal and a service principal for one role are a
// ValidationException, as AWS answers them.
func TestSDKGrantsForServicePrincipalsAreRefused(t *testing.T) {
	e := newEnv(t, withPrincipal("bob", "AKIABOB0000000000001", "bob-secret", 1000, keyless))
	id := e.createKey()
	if _, err := e.aws.CreateGrant(bg, &kms.CreateGrantInput{KeyId: aws.String(id), GranteePrincipal: aws.String(iamUser("bob")),
		Operations: []types.GrantOperation{types.GrantOperationDecrypt}}); err != nil {
		t.Fatal(err)
	}
	service, bob := aws.String("dynamodb.amazonaws.com"), aws.String(iamUser("bob"))
	decrypt := []types.GrantOperation{types.GrantOperationDecrypt}
	sourceArn := &types.GrantConstraints{SourceArn: aws.String("arn:aws:dynamodb:us-east-1:" + awsAccount + ":table/orders")}
	for _, c := range []struct {
		in   kms.CreateGrantInput
		want string
	}{
		{kms.CreateGrantInput{GranteeServicePrincipal: service, RetiringPrincipal: bob, Constraints: sourceArn}, "UnsupportedOperationException"},
		{kms.CreateGrantInput{GranteePrincipal: bob, RetiringServicePrincipal: service}, "UnsupportedOperationException"},
		{kms.CreateGrantInput{GranteePrincipal: bob, Constraints: sourceArn}, "UnsupportedOperationException"},
		{kms.CreateGrantInput{GranteePrincipal: bob, GranteeServicePrincipal: service}, "ValidationException"},
		{kms.CreateGrantInput{GranteePrincipal: bob, RetiringPrincipal: bob, RetiringServicePrincipal: service}, "ValidationException"},
	} {
		c.in.KeyId, c.in.Operations = aws.String(id), decrypt
		_, err := e.aws.CreateGrant(bg, &c.in)
		apiError(t, err, c.want)
	}
	all, err := e.aws.ListGrants(bg, &kms.ListGrantsInput{KeyId: aws.String(id)})
	if err != nil || len(all.Grants) != 1 {
		t.Fatalf("the key's grants after the refusals: %d, %v; want the one to bob", len(all.Grants), err)
	}

	none, err := e.aws.ListGrants(bg, &kms.ListGrantsInput{KeyId: aws.String(id), GranteeServicePrincipal: service})
	if err != nil || len(none.Grants) != 0 || none.Truncated || none.NextMarker != nil {
		t.Fatalf("ListGrants by a grantee service principal: %d grants, %v; want an empty, final page", len(none.Grants), err)
	}
	_, err = e.aws.ListGrants(bg, &kms.ListGrantsInput{KeyId: aws.String(id), GranteeServicePrincipal: service, GranteePrincipal: bob})
	apiError(t, err, "ValidationException")
	_, err = e.aws.ListGrants(bg, &kms.ListGrantsInput{KeyId: aws.String(id), GranteeServicePrincipal: aws.String("")})
	apiError(t, err, "ValidationException")
	_, err = e.aws.ListGrants(bg, &kms.ListGrantsInput{KeyId: aws.String("key-doesnotexist0000000000"), GranteeServicePrincipal: service})
	apiError(t, err, "NotFoundException")
	_, err = e.client("AKIABOB0000000000001", "bob-secret").ListGrants(bg, &kms.ListGrantsInput{KeyId: aws.String(id), GranteeServicePrincipal: service})
	apiError(t, err, "AccessDeniedException")

	_, err = e.aws.ListRetirableGrants(bg, &kms.ListRetirableGrantsInput{RetiringServicePrincipal: service})
	apiError(t, err, "UnsupportedOperationException")
	_, err = e.aws.ListRetirableGrants(bg, &kms.ListRetirableGrantsInput{RetiringServicePrincipal: service, RetiringPrincipal: bob})
	apiError(t, err, "ValidationException")

	_, err = e.aws.CreateKey(bg, &kms.CreateKeyInput{XksKeyId: aws.String("ext-key-1")})
	apiError(t, err, "ValidationException")
}
