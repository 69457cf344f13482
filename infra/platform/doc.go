// Package platform starts a function on the platform it finds: AWS Lambda
// (aws-lambda-go) when AWS_LAMBDA_RUNTIME_API is set, Alibaba Cloud Function
// Compute (fc-runtime-go-sdk) when FC_RUNTIME_API is set, and otherwise a local
// HTTP server that stops cleanly on Ctrl-C. It also assembles the project's own
// functions (api and one per action) from a wired service.
package platform
