package rpc_test

import (
	"context"
	"path/filepath"
	"testing"

	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsless/kmsless/core"
)

// TestGrantUseIsRecordedWithTheGrant: a request a grant allowed, and not the
// caller's policy, names the grant in its record's additionalEventData, as
// CloudTrail does; one the policy allowed names none.
func TestGrantUseIsRecordedWithTheGrant(t *testing.T) {
	const userID, userSecret = "LTAI5tGrantee000000001", "grantee-secret-audit"
	a := newAudited(t, filepath.Join(t.TempDir(), "audit.jsonl"),
		withPrincipal("grantee", userID, userSecret, 1000,
			core.MustPolicy(core.Statement{Effect: "Allow", Action: []string{"kms:DescribeRegions"}, Resource: []string{"*"}})))
	ck, err := a.client.CreateKey(&kms.CreateKeyRequest{})
	if err != nil {
		t.Fatal(err)
	}
	key := tea.StringValue(ck.Body.KeyMetadata.KeyId)
	admin := a.dir.Lookup(adminID)
	made, err := a.kms.Handle(context.Background(), &core.Request{ID: "grant", Action: "CreateGrant", Caller: admin,
		Params: core.Params{"KeyId": key, "GranteePrincipal": a.kms.PrincipalARN("grantee"), "Operations": `["GenerateDataKey"]`}})
	if err != nil {
		t.Fatal(err)
	}
	grantID := made.(core.GrantCreated).GrantID

	byGrant, err := a.sdk(userID, userSecret).GenerateDataKey(&kms.GenerateDataKeyRequest{KeyId: tea.String(key)})
	if err != nil {
		t.Fatalf("GenerateDataKey under the grant: %v", err)
	}
	byPolicy, err := a.client.GenerateDataKey(&kms.GenerateDataKeyRequest{KeyId: tea.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	recs, _ := a.records(t)
	seen := 0
	for _, r := range recs {
		switch r.RequestID {
		case tea.StringValue(byGrant.Body.RequestId):
			seen++
			if r.AdditionalEventData["grantId"] != grantID || r.UserIdentity.Principal != "grantee" {
				t.Errorf("the grantee's record: %+v", r)
			}
		case tea.StringValue(byPolicy.Body.RequestId):
			seen++
			if r.AdditionalEventData != nil {
				t.Errorf("a record of a request the policy allowed names a grant: %+v", r.AdditionalEventData)
			}
		}
	}
	if seen != 2 {
		t.Fatalf("found %d of the 2 records", seen)
	}
}
