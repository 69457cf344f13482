// Command provision-partitions is the key distributor: each "partition created"
// event (direct invocation, SQS, SNS or EventBridge on AWS; MNS queue or topic
// or EventBridge on Function Compute) mints the partition's one data key, kept
// as ciphertext. It never sees a plaintext key.
package main

import (
	"github.com/kmsless/kmsless/infra/config"
	"github.com/kmsless/kmsless/infra/platform"
	"github.com/kmsless/kmsless/infra/provision"
)

func main() {
	platform.RequireRuntime(provision.FunctionName)
	svc := platform.Load(config.PrincipalsOptional())
	platform.Start(svc, provision.Function(svc))
}
