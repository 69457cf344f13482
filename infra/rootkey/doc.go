// Package rootkey turns the configured root key into a core.RootKey: base64
// text from the environment or a file, or a CiphertextBlob that the cloud's own
// KMS (AWS KMS or Alibaba Cloud KMS) unwraps once at start-up with the
// function's role, so the plaintext never sits in a function's configuration.
// Every buffer that held the plaintext is zeroed before a function returns.
package rootkey
