package rootkey

import (
	"fmt"
	"os"

	"github.com/kmsless/kmsless/core"
)

// FromFile makes the root key from a file holding its base64 text.
func FromFile(path string) (*core.RootKey, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the root key file: %w", err)
	}
	defer clear(text)
	return FromText(text)
}
