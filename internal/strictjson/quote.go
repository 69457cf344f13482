package strictjson

import "github.com/go-json-experiment/json/jsontext"

// AppendQuote appends s to dst as a JSON string, each invalid UTF-8 byte
// replaced with U+FFFD.
func AppendQuote(dst []byte, s string) []byte {
	dst, _ = jsontext.AppendQuote(dst, s)
	return dst
}
