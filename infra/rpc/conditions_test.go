package rpc_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"testing"

	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/principals"
)

// consumerPolicy is the seed scenario's data-plane consumer of tenant A, as a
// principals file states it: one policy for all of the tenant's partitions.
const consumerFile = `
principals:
  - name: tenant-a-consumer
    accessKeyId: LTAI5tTenantAConsumer1
    accessKeySecret: tenant-a-consumer-secret
    policy:
      Version: "1"
      Statement:
        - Effect: Allow
          Action: kms:Decrypt
          Resource: "*"
          Condition:
            StringLike: {kms:EncryptionContext:PartitionId: tenant-a-*}
  - name: loopback-only
    accessKeyId: LTAI5tLoopbackOnly0001
    accessKeySecret: loopback-secret
    policy:
      Statement:
        - Effect: Allow
          Action: kms:*
          Resource: "*"
          Condition:
            IpAddress: {acs:SourceIp: 127.0.0.0/8}
  - name: office-only
    accessKeyId: LTAI5tOfficeOnly000001
    accessKeySecret: office-secret
    policy:
      Statement:
        - Effect: Allow
          Action: kms:*
          Resource: "*"
        - Effect: Deny
          Action: kms:*
          Resource: "*"
          Condition:
            NotIpAddress: {acs:SourceIp: 203.0.113.0/24}
`

func withPrincipalsFile(t *testing.T, text string) func(*setup) {
	d, err := principals.Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return func(s *setup) {
		for _, id := range []string{"LTAI5tTenantAConsumer1", "LTAI5tLoopbackOnly0001", "LTAI5tOfficeOnly000001"} {
			if p := d.Lookup(id); p != nil {
				s.principals = append(s.principals, *p)
			}
		}
	}
}

func TestTenantConsumerDecryptsOnlyItsTenantsPartitions(t *testing.T) {
	e := newEnv(t, withPrincipalsFile(t, consumerFile))
	keyID := e.createKey()
	admin := e.dir.Lookup(adminID)
	consumer := e.sdk("LTAI5tTenantAConsumer1", "tenant-a-consumer-secret")
	decrypt := func(partition string) error {
		p, _, err := e.kms.ProvisionPartition(context.Background(), admin, core.PartitionRequest{PartitionID: partition, KeyID: keyID})
		if err != nil {
			t.Fatal(err)
		}
		ctx := map[string]interface{}{}
		for k, v := range p.EncryptionContext {
			ctx[k] = v
		}
		r, err := consumer.Decrypt(&kms.DecryptRequest{CiphertextBlob: tea.String(base64.StdEncoding.EncodeToString(p.CiphertextBlob)), EncryptionContext: ctx})
		if err == nil {
			if n, _ := base64.StdEncoding.DecodeString(tea.StringValue(r.Body.Plaintext)); len(n) != 32 {
				t.Fatalf("partition %s: a %d-byte data key", partition, len(n))
			}
		}
		return err
	}
	for _, p := range []string{"tenant-a-0001", "tenant-a-0002", "tenant-a-eu"} {
		if err := decrypt(p); err != nil {
			t.Errorf("tenant A's partition %s: %v", p, err)
		}
	}
	for _, p := range []string{"tenant-b-0001", "tenant-ab", "xtenant-a-1"} {
		sdkError(t, decrypt(p), core.CodeNoPermission, http.StatusForbidden)
	}
	// Its own context on someone else's blob does not help: the blob does
	// not open under it, and it learns nothing more than a refusal.
	b, _, err := e.kms.ProvisionPartition(context.Background(), admin, core.PartitionRequest{PartitionID: "tenant-b-0002", KeyID: keyID})
	if err != nil {
		t.Fatal(err)
	}
	_, err = consumer.Decrypt(&kms.DecryptRequest{CiphertextBlob: tea.String(base64.StdEncoding.EncodeToString(b.CiphertextBlob)),
		EncryptionContext: map[string]interface{}{"PartitionId": "tenant-a-0001"}})
	sdkError(t, err, core.CodeInvalidCiphertext, http.StatusBadRequest)
}

func TestSourceIPConditionOnTheHTTPPath(t *testing.T) {
	e := newEnv(t, withPrincipalsFile(t, consumerFile))
	if _, err := e.sdk("LTAI5tLoopbackOnly0001", "loopback-secret").CreateKey(&kms.CreateKeyRequest{}); err != nil {
		t.Errorf("a caller on loopback allowed only from loopback: %v", err)
	}
	_, err := e.sdk("LTAI5tOfficeOnly000001", "office-secret").CreateKey(&kms.CreateKeyRequest{})
	sdkError(t, err, core.CodeNoPermission, http.StatusForbidden)

	// A direct invocation has no source IP: an Allow that needs one does not
	// apply, and a Deny that names one does.
	for _, id := range []string{"LTAI5tLoopbackOnly0001", "LTAI5tOfficeOnly000001"} {
		_, err := e.kms.Handle(context.Background(), &core.Request{ID: "r", Action: "CreateKey", Caller: e.dir.Lookup(id)})
		if ke := core.AsError(err); ke == nil || ke.Code != core.CodeNoPermission {
			t.Errorf("%s without a source IP: %v", id, err)
		}
	}
}
