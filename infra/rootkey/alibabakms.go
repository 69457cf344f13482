package rootkey

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	util "github.com/alibabacloud-go/tea-utils/v2/service"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsless/kmsless/core"
)

// Alibaba is where Alibaba Cloud KMS answers and who asks it.
type Alibaba struct {
	// Endpoint is host[:port] (https) or a URL with an http or https scheme:
	// kms.cn-hangzhou.aliyuncs.com, kms-vpc.cn-hangzhou.aliyuncs.com, or a
	// KMS instance's <instance-id>.cryptoservice.kms.aliyuncs.com.
	Endpoint string
	// The function role's temporary credentials, which FC hands a function
	// with a role as ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET
	// and ALIBABA_CLOUD_SECURITY_TOKEN.
	AccessKeyID, AccessKeySecret, SecurityToken string
}

// String names the caller and the endpoint, never the secret or the token.
func (a Alibaba) String() string {
	return fmt.Sprintf("Alibaba{Endpoint:%s AccessKeyID:%s}", a.Endpoint, a.AccessKeyID)
}

// GoString is String, so %#v cannot print the secret either.
func (a Alibaba) GoString() string { return a.String() }

// Format is String for every verb: %d and %x skip String and would print the
// fields, the secret and the token among them.
func (a Alibaba) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, a.String()) }

// FromAlibabaKMS asks Alibaba Cloud KMS to decrypt w.Blob. Alibaba's Encrypt
// takes its Plaintext as text (its documentation asks for base64) and Decrypt
// returns that text, so the blob must decrypt to the base64 of the 32 bytes:
// Encrypt with Plaintext set to the key's base64, or GenerateDataKey(WithoutPlaintext)
// with KeySpec AES_256, whose blob decrypts to the data key's base64.
//
// The official SDK returns the plaintext as a Go string, which cannot be
// zeroed; the byte copies made here are.
func FromAlibabaKMS(ctx context.Context, w Wrapped, a Alibaba) (*core.RootKey, error) {
	if _, err := w.ciphertext(); err != nil {
		return nil, err
	}
	if a.AccessKeyID == "" || a.AccessKeySecret == "" {
		return nil, errors.New("no Alibaba Cloud credentials: give the function a RAM role, whose temporary credentials FC passes as ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET and ALIBABA_CLOUD_SECURITY_TOKEN")
	}
	protocol, host := "https", a.Endpoint
	if scheme, rest, ok := strings.Cut(a.Endpoint, "://"); ok {
		protocol, host = strings.ToLower(scheme), strings.TrimSuffix(rest, "/")
	}
	if (protocol != "http" && protocol != "https") || host == "" || strings.ContainsAny(host, "/?#") {
		return nil, fmt.Errorf("the endpoint %q is not host[:port] or an http(s) URL without a path", a.Endpoint)
	}
	cfg := &openapi.Config{
		AccessKeyId: tea.String(a.AccessKeyID), AccessKeySecret: tea.String(a.AccessKeySecret),
		Endpoint: tea.String(host), Protocol: tea.String(protocol),
	}
	if a.SecurityToken != "" {
		cfg.SecurityToken = tea.String(a.SecurityToken)
	}
	client, err := kms.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("making the Alibaba Cloud KMS client: %w", err)
	}
	req := &kms.DecryptRequest{CiphertextBlob: tea.String(strings.TrimSpace(w.Blob))}
	if len(w.Context) > 0 {
		req.EncryptionContext = make(map[string]any, len(w.Context))
		for k, v := range w.Context {
			req.EncryptionContext[k] = v
		}
	}
	// The SDK takes no context: the timeout is split between connecting and
	// reading, and a failed attempt is not retried, so the call ends in time.
	runtime := &util.RuntimeOptions{Autoretry: tea.Bool(false)}
	if w.Timeout > 0 {
		half := int(w.Timeout.Milliseconds() / 2)
		runtime.ConnectTimeout, runtime.ReadTimeout = tea.Int(max(half, 1)), tea.Int(max(half, 1))
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	resp, err := client.DecryptWithOptions(req, runtime)
	if err != nil {
		var se *tea.SDKError
		if errors.As(err, &se) && tea.StringValue(se.Code) != "" {
			return nil, refusal(tea.StringValue(se.Code), tea.StringValue(se.Message))
		}
		return nil, unreachable(err, false)
	}
	if resp.Body == nil || resp.Body.Plaintext == nil {
		return nil, errors.New("the KMS answered Decrypt without a Plaintext")
	}
	if got := tea.StringValue(resp.Body.KeyId); w.KeyID != "" && got != w.KeyID && !strings.HasSuffix(w.KeyID, ":key/"+got) {
		return nil, fmt.Errorf("the blob is encrypted under key %s, not %s", got, w.KeyID)
	}
	text := []byte(*resp.Body.Plaintext)
	defer clear(text)
	root, err := FromText(text)
	if err != nil {
		return nil, errors.New("the blob decrypts to text that is not the base64 of 32 bytes")
	}
	return root, nil
}
