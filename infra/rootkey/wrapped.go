package rootkey

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/kmsless/kmsless/core"
)

// Wrapped is a root key encrypted by a cloud KMS, and how to ask for it back.
type Wrapped struct {
	// Blob is the CiphertextBlob, base64 as both clouds print it.
	Blob string
	// KeyID, when set, is the cloud KMS key the blob must be encrypted under; a
	// blob under any other key is refused even if the role may decrypt it.
	KeyID string
	// Context is the encryption context the blob was made with, if any.
	Context map[string]string
	// Timeout bounds the whole unwrapping, retries included.
	Timeout time.Duration
}

func (w Wrapped) ciphertext() ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(w.Blob))
	if err != nil || len(b) == 0 {
		return nil, errors.New("the CiphertextBlob is not base64")
	}
	return b, nil
}

// withTimeout applies w.Timeout to ctx.
func (w Wrapped) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if w.Timeout <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, w.Timeout)
}

// refusal is the error for a KMS that answered Decrypt with an error code.
func refusal(code, message string) error {
	hint := ""
	switch code {
	case "InvalidCiphertextException", "IncorrectKeyException", "InvalidCiphertext":
		hint = " (a damaged blob, a blob under another key than KMS_ROOT_KEY_CMK, or another encryption context)"
	}
	if message == "" {
		return fmt.Errorf("the KMS refused to decrypt the blob: %s%s", code, hint)
	}
	return fmt.Errorf("the KMS refused to decrypt the blob: %s%s: %s", code, hint, message)
}

// unreachable is the error for a Decrypt call that got no answer, shortened to
// where it went and why: the SDKs' own messages repeat the request URL, query
// string included.
func unreachable(err error, late bool) error {
	var ne net.Error
	what := "cannot reach the KMS"
	if late || errors.As(err, &ne) && ne.Timeout() {
		what = "no answer from the KMS in time"
	}
	var ue *url.Error
	if !errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", what, err)
	}
	where := ue.URL
	if u, perr := url.Parse(ue.URL); perr == nil {
		where = u.Scheme + "://" + u.Host
	}
	return fmt.Errorf("%s: %s %s: %w", what, ue.Op, where, ue.Err)
}

// fromPlaintext makes the root key from what a cloud KMS decrypted: the 32
// bytes themselves, or their base64 text. It zeroes plaintext.
func fromPlaintext(plaintext []byte) (*core.RootKey, error) {
	defer clear(plaintext)
	if len(plaintext) == core.KeyMaterialSize {
		return core.NewRootKey(plaintext)
	}
	root, err := FromText(plaintext)
	if err != nil {
		return nil, fmt.Errorf("the blob decrypts to %d bytes, neither 32 bytes nor their base64 text", len(plaintext))
	}
	return root, nil
}
