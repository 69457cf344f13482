package awsjson_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkServeGenerateDataKeyWithoutPlaintext is the handler's own cost of
// one signed request, without the network (at most 25000 iterations: run with
// -benchtime 20000x).
func BenchmarkServeGenerateDataKeyWithoutPlaintext(b *testing.B) {
	e := newEnv(b, func(s *setup) { s.logLevel = slog.LevelInfo })
	id := e.createKey()
	reqs := presign(b, 25_000, e.srv.URL, id, testRegion)
	h := e.srv.Config.Handler
	host := strings.TrimPrefix(e.srv.URL, "http://")
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		if i == len(reqs) {
			b.Fatal("out of presigned requests")
		}
		r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(reqs[i].body))
		r.Header = reqs[i].header
		r.Host = host
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
		i++
	}
}
