package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// Asked for help, the command prints its usage and succeeds; a command it
// does not know, or none, is a usage error.
func TestUsage(t *testing.T) {
	for _, c := range []struct {
		args   []string
		code   int
		stdout bool
	}{{[]string{"help"}, 0, true}, {[]string{"-h"}, 0, true}, {[]string{"--help"}, 0, true}, {nil, 2, false}, {[]string{"rotate"}, 2, false}} {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), c.args, strings.NewReader(""), &stdout, &stderr)
		out := stderr.String()
		if c.stdout {
			out = stdout.String()
		}
		if code != c.code || !strings.Contains(out, "kmsless copy-store TO") {
			t.Errorf("kmsless %q = %d, stdout %q, stderr %q", c.args, code, stdout.String(), stderr.String())
		}
	}
}
