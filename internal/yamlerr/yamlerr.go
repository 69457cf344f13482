// Package yamlerr keeps the values of a YAML document out of its decoding
// errors. yaml.v3 quotes the first characters of a value it cannot place
// ("cannot unmarshal !!str `c2VjcmV...` into bool"); in a file of secrets or
// key material, any value may be one, and errors end up in logs.
package yamlerr

import (
	"errors"
	"regexp"

	"gopkg.in/yaml.v3"
)

// quoted is the value a yaml.v3 type error quotes, between backquotes; the
// value may itself hold a backquote or a line break, the type after it never.
var quoted = regexp.MustCompile("(?s) `.*`")

// Redact returns err with the values it quotes left out.
func Redact(err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return err
	}
	msgs := make([]string, len(te.Errors))
	for i, m := range te.Errors {
		msgs[i] = quoted.ReplaceAllString(m, "")
	}
	return &yaml.TypeError{Errors: msgs}
}
