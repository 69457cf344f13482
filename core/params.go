package core

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Params are an action's request parameters as the wire carries them: strings,
// with EncryptionContext as JSON text and booleans as "true"/"false".
type Params map[string]string

// MaxParamLen bounds any single parameter value.
const MaxParamLen = 64 << 10

// check refuses values no action accepts: over MaxParamLen, not UTF-8, or holding
// a NUL byte (which stores cannot keep and no KMS field needs). A name is the
// caller's as much as a value, of any length, so the refusal clips it.
func (p Params) check() error {
	for name, v := range p {
		switch {
		case len(v) > MaxParamLen:
			return invalidParam(ClipText(name), "it is longer than %d bytes", MaxParamLen)
		case !utf8.ValidString(v):
			return invalidParam(ClipText(name), "it is not valid UTF-8")
		case strings.IndexByte(v, 0) >= 0:
			return invalidParam(ClipText(name), "it contains a NUL character")
		}
	}
	return nil
}

func (c *call) str(name string) string { return c.p[name] }

func (c *call) required(name string) (string, error) {
	v := c.p[name]
	if v == "" {
		return "", missingParam(name)
	}
	return v, nil
}

// bytes reads a required parameter of base64 of 1 to max bytes.
func (c *call) bytes(name string, max int) ([]byte, error) {
	text, err := c.required(name)
	if err != nil {
		return nil, err
	}
	b, err := base64.StdEncoding.DecodeString(text)
	if err != nil || len(b) > max {
		return nil, invalidParam(name, "it must be base64 of 1 to %d bytes", max)
	}
	return b, nil
}

func (c *call) bool(name string, def bool) (bool, error) {
	switch v := c.p[name]; strings.ToLower(v) {
	case "":
		return def, nil
	case "true":
		return true, nil
	case "false":
		return false, nil
	default:
		return false, invalidParam(name, "it must be true or false")
	}
}

// int reads an optional integer parameter in [lo, hi]; ok is false when absent.
func (c *call) int(name string, lo, hi int) (n int, ok bool, err error) {
	v := c.p[name]
	if v == "" {
		return 0, false, nil
	}
	n, err = strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, false, invalidParam(name, "it must be an integer from %d to %d", lo, hi)
	}
	return n, true, nil
}

// validLabel reports whether v is 1 to n ASCII letters, digits or characters
// of extra.
func validLabel(v string, n int, extra string) bool {
	if v == "" || len(v) > n {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte(extra, c) >= 0) {
			return false
		}
	}
	return true
}

// description reads a description of at most 8192 characters.
func (c *call) description(name string) (string, error) {
	desc := c.str(name)
	if utf8.RuneCountInString(desc) > 8192 {
		return "", invalidParam(name, "it is longer than 8192 characters")
	}
	return desc, nil
}

func (c *call) context(name string) (EncryptionContext, error) {
	return ParseEncryptionContext(name, c.p[name])
}

// page reads PageNumber (from 1) and PageSize (1–100, default 10).
func (c *call) page() (Page, int, int, error) {
	num, ok, err := c.int("PageNumber", 1, 1<<30)
	if err != nil {
		return Page{}, 0, 0, err
	}
	if !ok {
		num = 1
	}
	size, ok, err := c.int("PageSize", 1, 100)
	if err != nil {
		return Page{}, 0, 0, err
	}
	if !ok {
		size = 10
	}
	return Page{Offset: (num - 1) * size, Limit: size}, num, size, nil
}

// pageItems is the part of items, all of them in order, that page covers
// (to the end when its Limit is 0).
func pageItems[T any](items []T, page Page) []T {
	items = items[min(page.Offset, len(items)):]
	if page.Limit > 0 {
		items = items[:min(page.Limit, len(items))]
	}
	return items
}

// parseInterval reads a rotation interval like "7d", "168h" or "604800s".
func parseInterval(name, v string) (time.Duration, error) {
	if len(v) < 2 {
		return 0, invalidParam(name, "it must look like 365d or 604800s")
	}
	n, err := strconv.ParseInt(v[:len(v)-1], 10, 64)
	if err != nil || n <= 0 {
		return 0, invalidParam(name, "it must look like 365d or 604800s")
	}
	var unit time.Duration
	switch v[len(v)-1] {
	case 'd':
		unit = 24 * time.Hour
	case 'h':
		unit = time.Hour
	case 'm':
		unit = time.Minute
	case 's':
		unit = time.Second
	default:
		return 0, invalidParam(name, "it must end in d, h, m or s")
	}
	if n > int64(730*24*time.Hour/unit) {
		return 0, invalidParam(name, "it must be from 7 to 730 days")
	}
	d := time.Duration(n) * unit
	if d < 7*24*time.Hour {
		return 0, invalidParam(name, "it must be from 7 to 730 days")
	}
	return d, nil
}

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// newKeyID returns "key-" and 24 random lowercase base32 characters.
func newKeyID() string {
	var b [15]byte
	_, _ = rand.Read(b[:])
	return "key-" + idEncoding.EncodeToString(b[:])
}

// newVersionID returns a random UUID (version 4), as Alibaba's key versions use.
func newVersionID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return formatUUID(b[:], 4)
}

// formatUUID writes the first 16 bytes of b as a UUID of the version given,
// of RFC 9562's variant.
func formatUUID(b []byte, version byte) string {
	b[6] = b[6]&0x0f | version<<4
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:16])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// maxClientToken bounds ClientToken, Alibaba's idempotency token: up to 64
// ASCII characters.
const maxClientToken = 64

// clientToken reads the optional ClientToken.
func (c *call) clientToken() (string, error) {
	t := c.str("ClientToken")
	if len(t) > maxClientToken || strings.ContainsFunc(t, func(r rune) bool { return r < 0x20 || r > 0x7e }) {
		return "", invalidParam("ClientToken", "it must be 1 to %d printable ASCII characters", maxClientToken)
	}
	return t, nil
}

// tokenUUID is the ID of the kind of resource a caller's request makes
// under an idempotency token: the same for a repeated request, another for
// another caller's. It is a UUID of version 8, whose bits are the
// application's: here a SHA-256 of the three.
func tokenUUID(kind, caller, token string) string {
	b := sha256.Sum256([]byte(kind + "\x00" + caller + "\x00" + token))
	return formatUUID(b[:], 8)
}

// NewRequestID returns a random UUID for a RequestId.
func NewRequestID() string { return strings.ToUpper(newVersionID()) }

// validKeyID accepts IDs of printable ASCII without separators (any key ID this
// service or an import could have made).
func validKeyID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if !idChars[id[i]] {
			return false
		}
	}
	return true
}

// ValidKeyRef reports whether ref, a key ID or an alias name ("alias/…"),
// is one a key or alias here could have. Core refuses any other as an
// invalid parameter; a protocol whose model takes any string there may
// answer it as naming nothing.
func ValidKeyRef(ref string) bool {
	if strings.HasPrefix(ref, "alias/") {
		return validAliasName("", ref) == nil
	}
	return validKeyID(ref)
}

// idChars marks the bytes a key or version ID may hold: letters, digits, "-"
// and "_". A table, because every keyed request checks its ID byte by byte.
var idChars = func() (t [256]bool) {
	for c := range 256 {
		t[c] = c == '-' || c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
	}
	return t
}()

// validVersionID accepts the IDs of key versions: this service's are UUIDs, and
// the characters of a key ID cover them and any imported form.
func validVersionID(id string) bool { return validKeyID(id) }

// validAliasName checks Alibaba's alias rule: "alias/" then 1–255 of
// letters, digits, "_", "-" and "/".
func validAliasName(param, name string) error {
	rest, ok := strings.CutPrefix(name, "alias/")
	if !ok || rest == "" || len(name) > 255 {
		return invalidParam(param, "it must be alias/ followed by 1 to 249 characters")
	}
	if strings.HasPrefix(rest, "acs/") {
		return invalidParam(param, "the alias/acs/ prefix is reserved")
	}
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if !(c == '-' || c == '_' || c == '/' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return invalidParam(param, "it may contain only letters, digits, _, - and /")
		}
	}
	return nil
}
