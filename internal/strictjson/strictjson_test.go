package strictjson

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestRedactBoundsThePointer reads documents whose faults lie at the end of
// a long member name or a deep path: the error names where, in a bounded
// message of valid UTF-8 that keeps the path's start and its last name's end.
func TestRedactBoundsThePointer(t *testing.T) {
	type doc struct {
		Statement []struct{ Effect string }
		Tags      map[string]int
	}
	long := strings.Repeat("é", 3000) + "Z"
	for name, c := range map[string]struct {
		read func([]byte, any) error
		in   string
	}{
		"unknown member":    {UnmarshalKnown, `{"Statement":[{"Ac` + long + `":1}]}`},
		"a value misfit":    {Unmarshal, `{"Statement":[],"Tags":{"x` + long + `":"2"}}`},
		"malformed JSON":    {Unmarshal, `{"Statement":[{"Effect":"Allow","` + long + `":}]}`},
		"a deep fault":      {Unmarshal, `{"Statement":[{"Effect":"Allow","x":` + strings.Repeat(`{"a":`, 2000) + `}]}`},
		"a name seen twice": {Unmarshal, `{"Statement":[{"Effect":"a","Effect":"b"}]}`},
	} {
		var d doc
		err := c.read([]byte(c.in), &d)
		if err == nil {
			t.Fatalf("%s: read without an error", name)
		}
		msg := Redact(err).Error()
		switch {
		case len(msg) > 400:
			t.Errorf("%s: a message of %d bytes: %.200s…", name, len(msg), msg)
		case !utf8.ValidString(msg):
			t.Errorf("%s: a message of invalid UTF-8: %q", name, msg)
		case !strings.Contains(msg, `within "/Statement`) && !strings.Contains(msg, `within "/Tags/x`):
			t.Errorf("%s: the message lost where the path starts: %s", name, msg)
		}
		if strings.Contains(c.in, long) && !strings.Contains(msg, "éZ") {
			t.Errorf("%s: the message lost the end of the name: %s", name, msg)
		}
	}
}

// TestRedactKeepsAShortPointer: a pointer within the bound is named whole.
func TestRedactKeepsAShortPointer(t *testing.T) {
	var d struct{ Statement []struct{ Effect string } }
	err := UnmarshalKnown([]byte(`{"Statement":[{"Effect":"Allow","Action":"kms:*"}]}`), &d)
	if got, want := Redact(err).Error(), `json: unknown member, within "/Statement/0/Action" after byte`; !strings.HasPrefix(got, want) {
		t.Fatalf("Redact = %q; want it to start %q", got, want)
	}
}
