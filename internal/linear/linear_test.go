package linear

import (
	"bytes"
	"errors"
	"testing"
)

// chunked reads its input 512 bytes at a time and refuses it at the first
// 'x' of a chunk it has read, before parsing that chunk, as YAML's reader
// does a byte that is not UTF-8; it parses a chunk into a token for every 8
// bytes. A bad byte in a small input is refused at once, in a larger one
// after the chunks before it.
func chunked(b []byte) error {
	var tokens [][]byte
	for len(b) > 0 {
		c := b[:min(512, len(b))]
		if bytes.IndexByte(c, 'x') >= 0 {
			return errors.New("refused")
		}
		for i := 0; i < len(c); i += 8 {
			tokens = append(tokens, bytes.Clone(c[i:min(i+8, len(c))]))
		}
		b = b[len(c):]
	}
	_ = tokens
	return nil
}

// quadratic keeps, for each byte, a copy of everything before it.
func quadratic(b []byte) error {
	for i := range b {
		_ = bytes.Clone(b[:i])
	}
	return errors.New("refused")
}

func TestSuperlinearTellsGrowthFromALateRefusal(t *testing.T) {
	build := Repeat("", "abcdefghijkl#", "", "x") // 5 copies fit a chunk, 50 do not
	if bad, costs := Superlinear(5, build, chunked); bad {
		t.Errorf("a refusal after the first chunk read as superlinear: %s", costs)
	}
	if bad, costs := Superlinear(5, build, quadratic); !bad {
		t.Errorf("quadratic work passed: %s", costs)
	}
}
