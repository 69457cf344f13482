// Package strictjson is how kmsless reads JSON that comes from outside the
// process: trigger events, partition events, direct invocations, AWS
// request bodies and the principals file. It reads by encoding/json/v2's rules. The go-json-experiment
// module is that package for Go before 1.27, which ships it in the standard
// library; moving to it changes the imports here alone.
//
// Under these rules a member named twice, at any depth, or a string of invalid
// UTF-8 refuses the whole value, where encoding/json kept the last of two and
// replaced invalid UTF-8. So nothing in a value is read one way here and
// another way by whatever read it first: a filter, a rule, a proxy or a
// control plane.
package strictjson

import (
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"
)

// Unmarshal reads b into v, matching members to struct fields by their exact
// names.
func Unmarshal(b []byte, v any) error { return jsonv2.Unmarshal(b, v) }

// UnmarshalAnyCase reads b into v, matching members to struct fields in any
// case, as encoding/json did (strings.EqualFold: v2's own folding would also
// ignore '-' and '_'). Two spellings of one field are a member named twice.
func UnmarshalAnyCase(b []byte, v any) error {
	return jsonv2.Unmarshal(b, v, jsonv2.MatchCaseInsensitiveNames(true), jsonv1.MatchCaseSensitiveDelimiter(true))
}

// UnmarshalKnown is Unmarshal that also refuses a member no field of v names,
// for a document, such as a configuration file, in which a misspelt member
// must not go unread.
func UnmarshalKnown(b []byte, v any) error {
	return jsonv2.Unmarshal(b, v, jsonv2.RejectUnknownMembers(true))
}

// Redact returns an error of this package's readers with no value of the
// document in it: encoding/json/v2 quotes a string or number it cannot place
// (up to 100 bytes of it), and in a file of secrets any value may be one.
// What is left says what was wrong and where: the byte offset and the names
// of the members that lead there, which are keys, not values.
func Redact(err error) error {
	var syn *jsontext.SyntacticError
	var sem *jsonv2.SemanticError
	switch {
	case errors.As(err, &syn):
		what := "the JSON is malformed"
		switch {
		case errors.Is(syn.Err, jsontext.ErrDuplicateName):
			what = "a member is named twice"
		case errors.Is(syn.Err, io.ErrUnexpectedEOF):
			what = "the JSON ends early"
		}
		return fmt.Errorf("json: %s, within %q after byte %d", what, clip(syn.JSONPointer), syn.ByteOffset)
	case errors.As(err, &sem):
		if errors.Is(sem.Err, jsonv2.ErrUnknownName) {
			return fmt.Errorf("json: unknown member, within %q after byte %d", clip(sem.JSONPointer), sem.ByteOffset)
		}
		kind := "a value"
		switch sem.JSONKind {
		case 'n':
			kind = "null"
		case 'f', 't':
			kind = "a boolean"
		case '"':
			kind = "a string"
		case '0':
			kind = "a number"
		case '{', '}':
			kind = "an object"
		case '[', ']':
			kind = "an array"
		}
		return fmt.Errorf("json: %s where it does not fit, within %q after byte %d", kind, clip(sem.JSONPointer), sem.ByteOffset)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("json: the JSON ends early")
	}
	return err
}

// maxPointer bounds the JSON pointer an error names: a member's name is as
// long as the document lets it be, and so is a path of many short ones.
const maxPointer = 128

// clip is p, or its first and last maxPointer/2 bytes around an ellipsis when
// it is longer, cut at the starts of characters: where the path begins and
// the name it ends in.
func clip(p jsontext.Pointer) string {
	s := string(p)
	if len(s) <= maxPointer {
		return s
	}
	head, tail := maxPointer/2, len(s)-maxPointer/2
	for head > 0 && !utf8.RuneStart(s[head]) {
		head--
	}
	for tail < len(s) && !utf8.RuneStart(s[tail]) {
		tail++
	}
	return s[:head] + "…" + s[tail:]
}
