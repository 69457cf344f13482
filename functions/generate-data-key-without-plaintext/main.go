// Command generate-data-key-without-plaintext is the GenerateDataKeyWithoutPlaintext function. Invoked directly, the event is
// the request and the platform's invoke permission (IAM, RAM) is the permission
// to call GenerateDataKeyWithoutPlaintext; over an HTTP trigger, a signed request for any other
// action is refused.
package main

import (
	"github.com/kmsless/kmsless/infra/config"
	"github.com/kmsless/kmsless/infra/platform"
)

func main() {
	platform.RequireRuntime("generate-data-key-without-plaintext")
	svc := platform.Load(config.PrincipalsOptional())
	platform.Start(svc, platform.Action(svc, "GenerateDataKeyWithoutPlaintext"))
}
