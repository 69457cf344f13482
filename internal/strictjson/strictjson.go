// Package strictjson is how kmsless reads JSON that comes from outside the
// process: trigger events, partition events, direct invocations and AWS
// request bodies. It reads by encoding/json/v2's rules. The go-json-experiment
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
	jsonv2 "github.com/go-json-experiment/json"
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
