package emulate

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	openapiutil "github.com/alibabacloud-go/openapi-util/service"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsless/kmsless/infra/trigger"
)

// Credentials are a principal's AccessKeyId and AccessKeySecret.
type Credentials struct {
	AccessKeyID string
	Secret      string
}

// Resign returns event with the HTTP request it carries signed afresh by creds
// at now: ACS3-HMAC-SHA256 requests get a new x-acs-date, nonce, payload hash
// and Authorization, signature 1.0 requests a new Timestamp, SignatureNonce and
// Signature. Signing uses the official SDK's own functions, so a request that
// passes is one the SDK could have sent. Any other event comes back unchanged.
func Resign(event []byte, creds Credentials, now time.Time) ([]byte, error) {
	kind, err := trigger.Detect(event)
	if err != nil || kind == trigger.Direct {
		return event, nil // not an HTTP trigger event: nothing to sign
	}
	r, err := trigger.NewRequest(context.Background(), kind, event)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := json.Unmarshal(event, &doc); err != nil {
		return nil, err
	}
	ed := editor{kind: kind, doc: doc}
	if strings.HasPrefix(r.Header.Get("Authorization"), "ACS3-") {
		signACS3(r, body, creds, now, ed)
	} else if err := signV1(r, body, creds, now, ed); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false) // keep & and <> readable in query strings
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(out.Bytes(), []byte("\n")), nil
}

func signACS3(r *http.Request, body []byte, creds Credentials, now time.Time, ed editor) {
	sum := sha256.Sum256(body)
	set := map[string]string{
		"x-acs-date":            now.UTC().Format("2006-01-02T15:04:05Z"),
		"x-acs-signature-nonce": nonce(),
		"x-acs-content-sha256":  hex.EncodeToString(sum[:]),
	}
	headers := map[string]*string{"host": tea.String(r.Host)}
	for name, vs := range r.Header {
		headers[strings.ToLower(name)] = tea.String(strings.Join(vs, ","))
	}
	for name, v := range set {
		headers[name] = tea.String(v)
		ed.setHeader(name, v)
	}
	query := map[string]*string{}
	for name, vs := range r.URL.Query() {
		query[name] = tea.String(vs[0])
	}
	req := &tea.Request{Method: tea.String(r.Method), Pathname: tea.String(r.URL.Path), Query: query, Headers: headers}
	auth := openapiutil.GetAuthorization(req, tea.String("ACS3-HMAC-SHA256"), tea.String(set["x-acs-content-sha256"]),
		tea.String(creds.AccessKeyID), tea.String(creds.Secret))
	ed.setHeader("authorization", *auth)
}

func signV1(r *http.Request, body []byte, creds Credentials, now time.Time, ed editor) error {
	query := r.URL.Query()
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return fmt.Errorf("the form body does not parse: %w", err)
	}
	// The protocol parameters stay wherever the sample put them.
	where := query
	if form.Get("Signature") != "" || query.Get("Signature") == "" && len(form) > 0 {
		where = form
	}
	where.Set("AccessKeyId", creds.AccessKeyID)
	where.Set("Timestamp", now.UTC().Format("2006-01-02T15:04:05Z"))
	where.Set("SignatureNonce", nonce())
	where.Del("Signature")
	signed := map[string]*string{}
	for _, vs := range []url.Values{query, form} {
		for name, v := range vs {
			signed[name] = tea.String(v[0])
		}
	}
	where.Set("Signature", *openapiutil.GetRPCSignature(signed, tea.String(r.Method), tea.String(creds.Secret)))
	if len(query) > 0 {
		ed.setQuery(query)
	}
	if len(form) > 0 {
		ed.setBody([]byte(form.Encode()))
	}
	return nil
}

func nonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// editor rewrites the parts of an HTTP trigger event that signing changes,
// where each trigger keeps them.
type editor struct {
	kind trigger.Kind
	doc  map[string]any
}

func (e editor) obj(name string) map[string]any {
	m, ok := e.doc[name].(map[string]any)
	if !ok {
		m = map[string]any{}
		e.doc[name] = m
	}
	return m
}

// setHeader replaces a header, whatever the case of its existing key.
func (e editor) setHeader(name, value string) {
	put := func(m map[string]any, v any) {
		key := name
		for k := range m {
			if strings.EqualFold(k, name) {
				key = k // keep the event's spelling
			}
		}
		m[key] = v
	}
	put(e.obj("headers"), value)
	if e.kind == trigger.RESTAPI {
		put(e.obj("multiValueHeaders"), []any{value})
	}
}

func (e editor) setQuery(q url.Values) {
	single := map[string]any{}
	multi := map[string]any{}
	for name, vs := range q {
		single[name] = vs[0]
		multi[name] = []any{vs[0]}
	}
	switch e.kind {
	case trigger.RESTAPI:
		e.doc["queryStringParameters"] = single
		e.doc["multiValueQueryStringParameters"] = multi
	case trigger.HTTPAPI:
		e.doc["rawQueryString"] = q.Encode()
		e.doc["queryStringParameters"] = single
	case trigger.FCHTTP:
		e.doc["queryParameters"] = single
	}
}

// setBody keeps the event's choice of base64 or plain text.
func (e editor) setBody(b []byte) {
	if enc, _ := e.doc["isBase64Encoded"].(bool); enc {
		e.doc["body"] = base64.StdEncoding.EncodeToString(b)
		return
	}
	e.doc["body"] = string(bytes.Clone(b))
}
