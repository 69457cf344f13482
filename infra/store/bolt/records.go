package bolt

import (
	"fmt"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/store/records"
)

// decode reads a stored record (infra/store/records, the format the
// release-1 fixture pins) into the model value it holds.
func decode[T core.Key | core.KeyVersion | core.Alias | core.Partition | core.GenericSecret | core.Grant | core.Certificate | core.KeyUsage](data []byte, what string) (T, error) {
	v, err := records.Decode[T](data)
	if err != nil {
		return v, fmt.Errorf("bolt: decode stored %s: %w", what, err)
	}
	return v, nil
}
