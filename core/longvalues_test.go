package core_test

import (
	"errors"
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

// TestLongValuesAreRefusedInBoundedMessages gives every action each
// parameter it may read, one at a time, as a long text in the shapes
// parameters take (plain, an alias or ARN, a JSON object, list or list of
// objects with the text as a name or value): whatever the action makes of
// it, a refusal quotes at most a bounded part, as the fuzz targets require,
// for shapes they seldom build.
func TestLongValuesAreRefusedInBoundedMessages(t *testing.T) {
	t.Parallel()
	fx := newSvcFixture(t)
	id := fx.createKey()
	fx.ok("CreateAlias", "AliasName", "alias/long", "KeyId", id)
	// Longer than maxRefusal, so that a message quoting it whole fails.
	long := strings.Repeat("é", maxRefusal/2+100)
	shapes := []string{
		long,
		"alias/" + long,
		"acs:kms:cn-hangzhou:1234567890123456:key/" + long,
		`{"` + long + `":"v"}`,
		`{"` + long + `":1}`,
		`{"k":"` + long + `"}`,
		`["` + long + `"]`,
		`[{"` + long + `":"v"}]`,
		`[{"TagKey":"` + long + `","TagValue":"v"}]`,
		`[{"Key":"` + long + `","Values":["v"]}]`,
	}
	names := paramNames(t)
	refused := 0
	for _, action := range core.Actions() {
		for _, name := range names {
			for _, v := range shapes {
				p := core.Params{"KeyId": "alias/long", name: v}
				_, err := fx.svc.Handle(background, &core.Request{ID: "LONG", Action: action, Params: p, Caller: fx.admin})
				var ke *core.Error
				switch {
				case err == nil:
				case !errors.As(err, &ke):
					t.Fatalf("%s with a long %s: %v", action, name, err)
				case len(ke.Message) > maxRefusal:
					t.Errorf("%s with a long %s (%.20s…): a refusal of %d bytes: %.200s…", action, name, v, len(ke.Message), ke.Message)
				default:
					refused++
				}
			}
		}
	}
	t.Logf("%d actions, %d parameters, %d shapes: %d refusals", len(core.Actions()), len(names), len(shapes), refused)
}
