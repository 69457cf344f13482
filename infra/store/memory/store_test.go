package memory_test

import (
	"testing"

	"github.com/kmsless/kmsless/infra/store/memory"
	"github.com/kmsless/kmsless/infra/store/storetest"
)

func TestStoreConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store { return memory.New() })
}

func TestGrantConformance(t *testing.T) {
	storetest.Grants(t, func(t *testing.T) storetest.Store { return memory.New() })
}

func TestAccessConformance(t *testing.T) {
	storetest.Access(t, func(t *testing.T) storetest.Store { return memory.New() })
}
