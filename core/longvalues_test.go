package core_test

import (
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/kmsless/kmsless/core"
)

// paramNames are the parameters core's actions read, found in its source
// (c.str("KeyId"), c.required("Policy"), and the like), so that a parameter
// an action comes to read is swept without being listed here.
func paramNames(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	read := regexp.MustCompile(`\bc\.[a-zA-Z]+\("([A-Z][A-Za-z0-9]*)"`)
	var names []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range read.FindAllStringSubmatch(string(src), -1) {
			names = append(names, m[1])
		}
	}
	slices.Sort(names)
	names = slices.Compact(names)
	if len(names) < 100 {
		t.Fatalf("found %d parameter names in core's source: %v", len(names), names)
	}
	return names
}

// longShapes are a text longer than maxRefusal in the shapes parameters
// take: plain, an alias or ARN (of this region or another), a distinguished
// name's value or attribute (with a value, none or a bad escape), a PEM
// block's type, and a JSON object, list or list of objects with the text as
// a name or a value, one or two levels down, or twice.
func longShapes() []string {
	long := strings.Repeat("é", maxRefusal/2+100)
	return []string{
		long,
		"alias/" + long,
		"acs:kms:cn-hangzhou:1234567890123456:key/" + long,
		"acs:kms:cn-beijing:1234567890123456:alias/" + long,
		"CN=" + long,
		long + "=x",
		long + "=",
		long + `=\`,
		"-----BEGIN " + long + "-----\n-----END " + long + "-----\n",
		`{"` + long + `":"v"}`,
		`{"` + long + `":1}`,
		`{"k":"` + long + `"}`,
		`{"k":{"` + long + `":"v"}}`,
		`{"k":["` + long + `"]}`,
		`["` + long + `"]`,
		`[{"` + long + `":"v"}]`,
		`[{"TagKey":"` + long + `","TagValue":"v"}]`,
		`[{"TagKey":"k","TagValue":"` + long + `"}]`,
		`[{"TagKey":"` + long + `","TagValue":"v"},{"TagKey":"` + long + `","TagValue":"v"}]`,
		`["` + long + `","` + long + `"]`,
		`[{"Key":"` + long + `","Values":["v"]}]`,
		`[{"Key":"k","Values":["` + long + `"]}]`,
	}
}

// TestLongValuesAreRefusedInBoundedMessages gives every action each
// parameter it may read, one at a time and over a key's alias, as a long
// text in each of longShapes, as the fuzz targets seldom build them, and a
// parameter with a long name, plain or as an ExtendedConfig member, its
// value short or too long. Each action starts on a fixture of its own, as
// in the test below.
func TestLongValuesAreRefusedInBoundedMessages(t *testing.T) {
	t.Parallel()
	shapes := longShapes()
	names := paramNames(t)
	long := shapes[0] // the plain text
	refused := 0
	for _, action := range core.Actions() {
		fx := newSvcFixture(t)
		fx.ok("CreateAlias", "AliasName", "alias/long", "KeyId", fx.createKey())
		for _, p := range longNamed(core.Params{"KeyId": "alias/long"}, long) {
			if refusedBounded(t, fx, action, p) {
				refused++
			}
		}
		for _, name := range names {
			for _, v := range shapes {
				if refusedBounded(t, fx, action, withParam(core.Params{"KeyId": "alias/long"}, name, v)) {
					refused++
				}
			}
		}
	}
	t.Logf("%d actions, %d parameters, %d shapes: %d refusals", len(core.Actions()), len(names), len(shapes), refused)
}

// withParam is a copy of base with name set to v.
func withParam(base core.Params, name, v string) core.Params {
	p := maps.Clone(base)
	p[name] = v
	return p
}

// longNamed is base with one parameter more whose name is long, plain or
// as an ExtendedConfig member, and whose value is short or too long.
func longNamed(base core.Params, long string) []core.Params {
	var out []core.Params
	for _, name := range []string{long, "ExtendedConfig." + long} {
		for _, v := range []string{"v", strings.Repeat("v", core.MaxParamLen+1)} {
			out = append(out, withParam(base, name, v))
		}
	}
	return out
}

// TestLongValuesInValidRequestsAreRefusedInBoundedMessages starts from each
// of FuzzParams' parameter sets, whose other members name what exists
// (paramSeeds), makes one member at a time long in each of longShapes and
// adds a member with a long name (longNamed): a parameter an action reads
// only once the others pass is reached too. Each action starts on a
// fixture of its own, so that what one changes (a key disabled, a secret
// deleted, keys made for a listing to walk) does not change what the next
// meets.
func TestLongValuesInValidRequestsAreRefusedInBoundedMessages(t *testing.T) {
	t.Parallel()
	der := wrappingKey(t)
	shapes := longShapes()
	sent, refused := 0, 0
	for _, action := range core.Actions() {
		fx := newSvcFixture(t)
		for _, form := range paramSeeds(fx, der) {
			base := formParams(form)
			variants := longNamed(base, shapes[0])
			for name := range base {
				for _, v := range shapes {
					variants = append(variants, withParam(base, name, v))
				}
			}
			for _, p := range variants {
				sent++
				if refusedBounded(t, fx, action, p) {
					refused++
				}
			}
		}
	}
	t.Logf("%d actions, %d requests: %d refusals", len(core.Actions()), sent, refused)
}
