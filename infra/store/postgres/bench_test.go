package postgres

import (
	"testing"

	"github.com/kmsless/kmsless/infra/store/storetest"
)

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) storetest.Store { return openTemp(b) })
}

func BenchmarkService(b *testing.B) {
	storetest.BenchGenerateDataKey(b, func(b *testing.B) storetest.Store { return openTemp(b) })
}
