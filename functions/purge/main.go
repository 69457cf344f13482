// Command purge destroys, on a schedule, the keys and secrets past their
// deletion dates that the store still holds: requests destroy those they
// meet, and on Lambda and Function Compute nothing else runs between them.
// template.yaml invokes it daily from an EventBridge schedule, s.yaml from a
// timer trigger; a direct invocation with {} runs it at once. The api server,
// run as a server, does the same itself (KMS_PURGE_INTERVAL).
package main

import (
	"github.com/kmsless/kmsless/infra/config"
	"github.com/kmsless/kmsless/infra/platform"
)

func main() {
	platform.RequireRuntime(platform.PurgeName)
	svc := platform.Load(config.PrincipalsOptional())
	platform.Start(svc, platform.Purge(svc))
}
