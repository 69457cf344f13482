package core

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Error codes callers see, as Alibaba Cloud KMS names them.
const (
	CodeInvalidParameter      = "InvalidParameter"
	CodeMissingParameter      = "MissingParameter"
	CodeIncompleteSignature   = "IncompleteSignature"
	CodeSignatureDoesNotMatch = "SignatureDoesNotMatch"
	CodeIllegalTimestamp      = "IllegalTimestamp"
	CodeSignatureNonceUsed    = "SignatureNonceUsed"
	CodeInvalidCiphertext     = "InvalidCiphertext"
	// CodeIncorrectKey: a Decrypt or ReEncrypt named a key (KeyId,
	// SourceKeyId) other than the one that made the blob.
	CodeIncorrectKey       = "IncorrectKey"
	CodeAliasAlreadyExists = "AliasAlreadyExists"
	CodeDryRunOperation    = "DryRunOperationError"
	CodeValidation         = "ValidationError"
	CodeNoPermission       = "Forbidden.NoPermission"
	CodeAccessDenied       = "AccessDeniedError"
	CodeInvalidAccessKeyID = "InvalidAccessKeyId.NotFound"
	CodeKeyNotFound        = "Forbidden.KeyNotFound"
	CodeAliasNotFound      = "Forbidden.AliasNotFound"
	CodePartitionNotFound  = "Forbidden.PartitionNotFound"
	// CodeCertificateNotFound: no such certificate, as Alibaba's
	// Certificates Manager names it.
	CodeCertificateNotFound = "Certificate.NotFound"
	// CodeResourceNotFound: no such secret, or no such version or stage of
	// one.
	CodeResourceNotFound = "Forbidden.ResourceNotFound"
	// CodeResourceExist: a secret's name, or a version of another value,
	// is taken.
	CodeResourceExist       = "Rejected.ResourceExist"
	CodeDisabled            = "Rejected.Disabled"
	CodePendingDeletion     = "Rejected.PendingDeletion"
	CodeStateModifiedFailed = "Rejected.StateModifiedFailed"
	CodePendingImport       = "Rejected.PendingImport"
	CodeInvalidImportToken  = "InvalidImportToken"
	CodeExpiredImportToken  = "ExpiredImportToken"
	CodeInvalidKeyMaterial  = "InvalidKeyMaterial"
	CodeUnsupportedOrigin   = "Unsupported.Origin"
	// CodeUnsupportedKeySpec refuses what a key of its spec cannot do:
	// rotating an HMAC key.
	CodeUnsupportedKeySpec = "Unsupported.KeySpec"
	// CodeUnsupportedOperation refuses what this service has nothing to
	// do with: a multi-Region replica, a custom key store, the rotation of
	// a generic secret by RotateSecret.
	CodeUnsupportedOperation = "UnsupportedOperation"
	// CodeCustomKeyStoreNotFound: no such custom key store (there are none).
	CodeCustomKeyStoreNotFound = "CustomKeyStoreNotFound"
	// CodeInvalidKeyUsage refuses a key whose usage is not the operation's
	// (an HMAC key to Encrypt, an encryption key to GenerateMac), or an
	// algorithm its spec does not take.
	CodeInvalidKeyUsage = "InvalidKeyUsage"
	// CodeInvalidMac: VerifyMac's MAC is not the message's.
	CodeInvalidMac = "InvalidMac"
	// CodeDeletionProtection refuses ScheduleKeyDeletion on a key whose
	// deletion protection is on.
	CodeDeletionProtection = "Rejected.DeletionProtection"
	// CodeLimitExceeded refuses a grant past the most one principal may
	// hold on one key, and RotateKeyOnDemand past the most rotations on
	// demand a key may have.
	CodeLimitExceeded = "Rejected.LimitExceeded"
	// CodeInvalidGrantToken: RetireGrant's GrantToken is not one the
	// service issued.
	CodeInvalidGrantToken = "InvalidGrantToken"
	// CodeMalformedPolicy refuses a key policy document that cannot be
	// read, names what no caller here can be, or would lock its caller
	// out of the key.
	CodeMalformedPolicy = "MalformedPolicyDocument"
	// CodeThrottling is the code Alibaba's gateway answers a QPS limit with;
	// its clients retry on it, whereas they treat a bare "Throttling" as fatal.
	CodeThrottling                  = "Rejected.Throttling"
	CodeInternalFailure             = "InternalFailure"
	CodeServiceUnavailableTemporary = "ServiceUnavailableTemporary"
)

// Error is a failure the caller is meant to see: a KMS error Code (the kind of
// failure; each protocol's adapter maps it to its own status and name) and a
// message that says what was wrong. Messages never carry
// key material, secrets or signatures.
type Error struct {
	Code    string
	Message string
	// RetryAfter is set on Throttling: how long until a request would be admitted.
	RetryAfter time.Duration
	cause      error
}

// Errorf makes an *Error with the given code.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Unwrap gives the internal cause, if any, for logs on the service side.
func (e *Error) Unwrap() error { return e.cause }

// ServerFault reports whether the service, not the caller, is at fault: the
// failures whose cause is logged on the service side.
func (e *Error) ServerFault() bool {
	return e.Code == CodeInternalFailure || e.Code == CodeServiceUnavailableTemporary
}

// AsError converts any error into the *Error a caller should see. Errors that are
// not already KMS errors become InternalFailure with a generic message: their
// text may describe internals and stays on the service side (see Unwrap).
func AsError(err error) *Error {
	if err == nil {
		return nil
	}
	var ke *Error
	if errors.As(err, &ke) {
		return ke
	}
	if errors.Is(err, ErrUnavailable) {
		return &Error{Code: CodeServiceUnavailableTemporary, Message: "The service is temporarily unavailable; retry later.", cause: err}
	}
	return Internal(err)
}

// internal wraps an unexpected failure so that callers see InternalFailure.
func internal(format string, args ...any) error {
	return Internal(fmt.Errorf(format, args...))
}

// Internal is an InternalFailure whose cause stays on the service side.
func Internal(cause error) *Error {
	return &Error{Code: CodeInternalFailure, Message: "The request failed because of an internal error.", cause: cause}
}

func invalidParam(name, format string, args ...any) *Error {
	return &Error{Code: CodeInvalidParameter, Message: fmt.Sprintf("The parameter %s is invalid: %s.", name, fmt.Sprintf(format, args...))}
}

func missingParam(name string) *Error {
	return &Error{Code: CodeMissingParameter, Message: fmt.Sprintf("The parameter %s is required.", name)}
}

// ClipText bounds caller-chosen text before it goes into a message: at most
// 64 bytes of it, cut between characters, with each run of bytes that are
// not UTF-8 shown as "?", so that a message stays short and remains text.
func ClipText(s string) string {
	if len(s) > 64 {
		n := 64
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s = s[:n] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}
