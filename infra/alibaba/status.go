package alibaba

import "github.com/kmsless/kmsless/core"

// status is the HTTP status of each error code (DESIGN.md's error table).
var status = map[string]int{
	core.CodeInvalidParameter:            400,
	core.CodeMissingParameter:            400,
	core.CodeIncompleteSignature:         400,
	core.CodeSignatureDoesNotMatch:       400,
	core.CodeIllegalTimestamp:            400,
	core.CodeSignatureNonceUsed:          400,
	core.CodeInvalidCiphertext:           400,
	core.CodeIncorrectKey:                400,
	core.CodeAliasAlreadyExists:          400,
	core.CodeDryRunOperation:             400,
	core.CodeValidation:                  400,
	core.CodeInvalidImportToken:          400,
	core.CodeExpiredImportToken:          400,
	core.CodeInvalidKeyMaterial:          400,
	core.CodeUnsupportedOrigin:           400,
	core.CodeUnsupportedKeySpec:          400,
	core.CodeUnsupportedOperation:        400,
	core.CodeInvalidKeyUsage:             400,
	core.CodeInvalidMac:                  400,
	core.CodeNoPermission:                403,
	core.CodeAccessDenied:                403,
	core.CodeInvalidAccessKeyID:          404,
	core.CodeKeyNotFound:                 404,
	core.CodeAliasNotFound:               404,
	core.CodePartitionNotFound:           404,
	core.CodeResourceNotFound:            404,
	core.CodeCertificateNotFound:         404,
	core.CodeCustomKeyStoreNotFound:      404,
	core.CodeResourceExist:               409,
	core.CodeDisabled:                    409,
	core.CodePendingDeletion:             409,
	core.CodeStateModifiedFailed:         409,
	core.CodePendingImport:               409,
	core.CodeDeletionProtection:          409,
	core.CodeLimitExceeded:               409,
	core.CodeInvalidGrantToken:           400,
	core.CodeMalformedPolicy:             400,
	core.CodeThrottling:                  429,
	core.CodeInternalFailure:             500,
	core.CodeServiceUnavailableTemporary: 503,
}

// Status is the HTTP status of an error code; 500 for a code it does not know.
func Status(code string) int {
	if s, ok := status[code]; ok {
		return s
	}
	return 500
}

// ErrorBody is Alibaba's error shape.
type ErrorBody struct {
	RequestId string `json:"RequestId"`
	HostId    string `json:"HostId"`
	Code      string `json:"Code"`
	Message   string `json:"Message"`
}
