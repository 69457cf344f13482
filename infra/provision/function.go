package provision

import (
	"strings"

	"github.com/kmsless/kmsless/core"
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
// GenerateDataKeyWithoutPlaintext on the given keys (IDs, aliases or ARNs) and
// nothing else.
func Caller(kms *core.Service, keys []string) *core.Principal {
	resources := make([]string, len(keys))
	for i, k := range keys {
		switch {
		case strings.HasPrefix(k, "acs:"):
			resources[i] = k
		case strings.HasPrefix(k, "alias/"):
			resources[i] = kms.AliasARN(k)
		default:
			resources[i] = kms.KeyARN(k)
		}
	}
	return trigger.InvokePrincipal(FunctionName, resources, "GenerateDataKeyWithoutPlaintext")
}
