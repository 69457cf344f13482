// Package awsjson serves the AWS KMS API (JSON 1.1, "TrentService") over core:
// it verifies SigV4 with infra/sign, maps each operation to core's action and
// parameter names, and renders results and errors in AWS's shapes, so AWS
// SDKs, the AWS CLI and the AWS Encryption SDK work unchanged on the keys the
// Alibaba API serves.
package awsjson
