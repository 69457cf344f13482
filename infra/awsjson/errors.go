package awsjson

import (
	"errors"
	"net/http"
	"strings"

	"github.com/kmsless/kmsless/core"
)

// awsError is how AWS names and answers a failure.
type awsError struct {
	Type   string
	Status int
}

// errorTypes maps core's codes to the exception AWS KMS raises for the same
// failure. AWS answers nearly every client error with 400 and lets __type
// tell them apart; the SDKs pick their typed errors by __type alone.
var errorTypes = map[string]awsError{
	core.CodeInvalidParameter:      {"ValidationException", 400},
	core.CodeMissingParameter:      {"ValidationException", 400},
	core.CodeValidation:            {"ValidationException", 400},
	core.CodeIncompleteSignature:   {"IncompleteSignatureException", 400},
	core.CodeSignatureDoesNotMatch: {"InvalidSignatureException", 400},
	// AWS answers a request dated outside its window "Signature expired"
	// under InvalidSignatureException.
	core.CodeIllegalTimestamp: {"InvalidSignatureException", 400},
	// SigV4 carries no nonce: the signature stands for one, and it is dated
	// to the second. botocore (boto3, the AWS CLI) signs no invocation ID,
	// so the same call made twice within a second is the same signed
	// request twice. The repeat is refused, but as ThrottlingException,
	// which every SDK retries, signing the request again: in a later second
	// that is a new signature. Who replays a captured request cannot sign
	// it again.
	core.CodeSignatureNonceUsed: {"ThrottlingException", 400},
	core.CodeInvalidAccessKeyID: {"UnrecognizedClientException", 400},
	core.CodeInvalidCiphertext:  {"InvalidCiphertextException", 400},
	core.CodeIncorrectKey:       {"IncorrectKeyException", 400},
	core.CodeAliasAlreadyExists: {"AlreadyExistsException", 400},
	core.CodeDryRunOperation:    {"DryRunOperationException", 412},
	core.CodeNoPermission:       {"AccessDeniedException", 400},
	core.CodeAccessDenied:       {"AccessDeniedException", 400},
	core.CodeKeyNotFound:        {"NotFoundException", 400},
	core.CodeAliasNotFound:      {"NotFoundException", 400},
	core.CodePartitionNotFound:  {"NotFoundException", 400},
	// No such grant. (The secrets' refusals, Alibaba's, never reach this
	// protocol; were they to, AlreadyExistsException is AWS's name for the
	// second.)
	core.CodeResourceNotFound:    {"NotFoundException", 400},
	core.CodeCertificateNotFound: {"NotFoundException", 400},
	core.CodeResourceExist:       {"AlreadyExistsException", 400},
	core.CodeLimitExceeded:       {"LimitExceededException", 400},
	core.CodeInvalidGrantToken:   {"InvalidGrantTokenException", 400},
	core.CodeMalformedPolicy:     {"MalformedPolicyDocumentException", 400},
	core.CodeDisabled:            {"DisabledException", 400},
	core.CodePendingDeletion:     {"KMSInvalidStateException", 400},
	core.CodeStateModifiedFailed: {"KMSInvalidStateException", 400},
	core.CodePendingImport:       {"KMSInvalidStateException", 400},
	// AWS has no deletion protection: a protected key is in a state that
	// refuses the request, which is what KMSInvalidStateException says.
	core.CodeDeletionProtection: {"KMSInvalidStateException", 400},
	// AWS refuses rotation of a key with imported material as "origin is
	// EXTERNAL which is not valid for this operation".
	core.CodeUnsupportedOrigin:      {"UnsupportedOperationException", 400},
	core.CodeUnsupportedKeySpec:     {"UnsupportedOperationException", 400},
	core.CodeUnsupportedOperation:   {"UnsupportedOperationException", 400},
	core.CodeCustomKeyStoreNotFound: {"CustomKeyStoreNotFoundException", 400},
	core.CodeInvalidKeyUsage:        {"InvalidKeyUsageException", 400},
	core.CodeInvalidMac:             {"KMSInvalidMacException", 400},
	core.CodeInvalidImportToken:     {"InvalidImportTokenException", 400},
	core.CodeExpiredImportToken:     {"ExpiredImportTokenException", 400},
	// Other material than the key's; material that does not unwrap is told
	// apart by exceptionOf.
	core.CodeInvalidKeyMaterial: {"IncorrectKeyMaterialException", 400},
	core.CodeThrottling:         {"ThrottlingException", 400},
	core.CodeInternalFailure:    {"KMSInternalException", 500},
	// The store or Redis is unreachable: AWS's name for a dependency that
	// did not answer in time, which the SDKs retry.
	core.CodeServiceUnavailableTemporary: {"DependencyTimeoutException", 503},
}

// errorFor is the AWS exception of a core code. The protocol's own refusals
// (SerializationException, UnknownOperationException, …) are already AWS
// names; any other code is a fault of the service.
func errorFor(code string) awsError {
	if e, ok := errorTypes[code]; ok {
		return e
	}
	if strings.HasSuffix(code, "Exception") {
		return awsError{code, http.StatusBadRequest}
	}
	return awsError{"KMSInternalException", http.StatusInternalServerError}
}

// exceptionOf is the AWS exception of a failure: its code's, except where AWS
// tells apart what core names alike. Wrapped key material that does not
// unwrap is ImportKeyMaterial's InvalidCiphertextException, as AWS
// documents it; other material than the key's stays
// IncorrectKeyMaterialException. Core answers RSAES_PKCS1_V1_5 that does not
// unwrap into a key that has taken material as other material, since telling
// them apart would be a padding oracle.
func exceptionOf(ke *core.Error) awsError {
	if errors.Is(ke, core.ErrMaterialDoesNotUnwrap) {
		return errorTypes[core.CodeInvalidCiphertext]
	}
	return errorFor(ke.Code)
}

// Refusals made here, before core sees the request: of the wire format
// itself, and of what AWS refuses where core would not.
const (
	codeSerialization    = "SerializationException"
	codeUnknownOperation = "UnknownOperationException"
	codeInvalidMarker    = "InvalidMarkerException"
	codeNotAuthorized    = "NotAuthorizedException"
	codeInvalidKeyUsage  = "InvalidKeyUsageException"
	codeInvalidSignature = "KMSInvalidSignatureException"
	codeTag              = "TagException"
)
