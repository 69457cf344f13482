// Command api serves every KMS action over HTTP: behind a Lambda function URL or
// API Gateway, behind a Function Compute HTTP trigger, or, with neither runtime
// present, on KMS_LISTEN_ADDR (default 127.0.0.1:8080) for local development.
package main

import "github.com/kmsless/kmsless/infra/platform"

func main() {
	svc := platform.Load()
	platform.Start(svc, platform.API(svc))
}
