package strictjson_test

import (
	"testing"

	"github.com/kmsless/kmsless/internal/strictjson"
)

func TestAppendQuote(t *testing.T) {
	if got := string(strictjson.AppendQuote([]byte("x="), "a\"b\n\xff")); got != `x="a\"b\n`+"\ufffd"+`"` {
		t.Fatalf("%s", got)
	}
}
