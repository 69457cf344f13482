package pgstore

import (
	"testing"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/store/storetest"
)

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) core.KeyStore { return openTemp(b) })
}

func BenchmarkService(b *testing.B) {
	storetest.BenchGenerateDataKey(b, func(b *testing.B) core.KeyStore { return openTemp(b) })
}
