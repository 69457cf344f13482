package provision

import (
	"context"
	"fmt"
	"strings"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/awsjson"
	"github.com/kmsless/kmsless/infra/config"
	"github.com/kmsless/kmsless/infra/platform"
	"github.com/kmsless/kmsless/infra/trigger"
)

// FunctionName is the provisioner function's folder under functions/.
const FunctionName = "provision-partitions"

// Function is the provision-partitions function: it answers partition-created
// events from every supported trigger. Like a per-action function it runs as
// its invoke principal, allowed GenerateDataKeyWithoutPlaintext on the
// partition keys only: the platform's permission to invoke it (and the
// triggers' permission to deliver to it) is the permission to provision, and
// the function can mint no plaintext key and decrypt nothing.
func Function(svc *config.Service) platform.Function {
	set := svc.Settings
	p := New(Options{
		KMS:          svc.KMS,
		Caller:       Caller(svc.KMS, set.PartitionKeys),
		DefaultKeyID: set.PartitionKeyID,
		AllowedKeys:  set.PartitionKeys,
		Logger:       svc.Logger,
		Edge:         svc.Edge,
	})
	return platform.Function{Name: FunctionName, Handler: p.Handle}
}

// Caller is the principal provisioning runs as when the platform, not a
// principals file, authorized the invoker: allowed
// GenerateDataKeyWithoutPlaintext on the given keys (IDs, aliases, or acs: or
// AWS ARNs) and nothing else.
func Caller(kms *core.Service, keys []string) *core.Principal {
	resources := make([]string, 0, len(keys))
	for _, k := range keys {
		k, err := awsjson.KeyRef(kms, k)
		if err != nil {
			continue // an AWS ARN of another region or account: nothing here
		}
		switch {
		case strings.HasPrefix(k, "acs:"):
			resources = append(resources, k)
		case strings.HasPrefix(k, "alias/"):
			resources = append(resources, kms.AliasARN(k))
		default:
			resources = append(resources, kms.KeyARN(k))
		}
	}
	return trigger.InvokePrincipal(FunctionName, resources, "GenerateDataKeyWithoutPlaintext")
}

// EnsurePartitionKey creates the default partition key at start-up when
// KMS_PARTITION_KEY_ID is an alias that does not exist yet, so that the first
// partition event finds it. Instances starting together race safely: one
// creates the alias, the others adopt its key. A key ID (not an alias) names
// a key the operator made, and is left alone.
func EnsurePartitionKey(ctx context.Context, svc *config.Service) error {
	ref, err := awsjson.KeyRef(svc.KMS, svc.Settings.PartitionKeyID)
	if err != nil {
		return nil // an AWS ARN of another region or account: not ours to make
	}
	alias, ok := svc.KMS.AliasOf(ref)
	if !ok {
		return nil
	}
	keyID, created, err := svc.KMS.EnsureAlias(ctx, alias, "partition data keys, created by "+FunctionName+" at start-up")
	if err != nil {
		return fmt.Errorf("KMS_PARTITION_KEY_ID %s: %w", alias, err)
	}
	if created {
		svc.Logger.Info("created the partition key", "alias", alias, "keyId", keyID)
	}
	return nil
}
