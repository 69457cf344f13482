// Package sign authenticates Alibaba Cloud RPC requests: it verifies the
// ACS3-HMAC-SHA256 Authorization header the official SDKs send by default and the
// older SignatureVersion 1.0 (HMAC-SHA1) parameters, against the principals'
// AccessKeySecrets. Replay defense is not here: the nonce it returns is checked by
// core's NonceStore, so that one place remembers nonces for every entrypoint.
package sign
