// Command provision-partitions is the key distributor: each "partition created"
// event (direct invocation, SQS, SNS or EventBridge on AWS; MNS queue or topic
// or EventBridge on Function Compute) mints the partition's one data key, kept
// as ciphertext. It never sees a plaintext key. At start-up it creates the
// partition key (KMS_PARTITION_KEY_ID) when that alias does not exist yet.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/kmsless/kmsless/infra/config"
	"github.com/kmsless/kmsless/infra/platform"
	"github.com/kmsless/kmsless/infra/provision"
)

func main() {
	platform.RequireRuntime(provision.FunctionName)
	svc := platform.Load(config.PrincipalsOptional())
	if err := provision.EnsurePartitionKey(context.Background(), svc); err != nil {
		fmt.Fprintf(os.Stderr, "kmsless: cannot start: %v\n", err)
		os.Exit(1)
	}
	platform.Start(svc, provision.Function(svc))
}
