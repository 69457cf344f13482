package audit

import (
	"testing"

	"github.com/kmsless/kmsless/core"
)

// Every action is marked read-only or not on purpose: an action missing from
// both lists would be recorded as read-only, whatever it changes.
func TestEveryActionIsReadOnlyOrNotOnPurpose(t *testing.T) {
	for _, a := range core.Actions() {
		if readWrite[a] == readOnly[a] {
			t.Errorf("%s is in readWrite: %v, in readOnly: %v; it belongs in one", a, readWrite[a], readOnly[a])
		}
	}
}
