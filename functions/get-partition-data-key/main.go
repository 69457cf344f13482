// Command get-partition-data-key is the GetPartitionDataKey function: data-plane
// producers and consumers fetch their partition's data-key ciphertext here, then
// Decrypt it. Invoked directly, the event is {"PartitionId":"…"} and the
// platform's invoke permission is the permission to call the action; over an
// HTTP trigger, a signed request for any other action is refused.
package main

import (
	"github.com/kmsless/kmsless/infra/config"
	"github.com/kmsless/kmsless/infra/platform"
)

func main() {
	platform.RequireRuntime("get-partition-data-key")
	svc := platform.Load(config.PrincipalsOptional())
	platform.Start(svc, platform.Action(svc, "GetPartitionDataKey"))
}
