package platform

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

func get(t *testing.T, method, url string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestOperationsPathsBesideTheAPI(t *testing.T) {
	svc := wire(t, nil)
	srv := httptest.NewServer(Operations(svc, API(svc).HTTP))
	defer srv.Close()

	if code, body := get(t, "GET", srv.URL+"/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz: %d %q", code, body)
	}
	if code, body := get(t, "GET", srv.URL+"/readyz"); code != 200 {
		t.Errorf("/readyz: %d %q", code, body)
	}
	// Anything else, and these paths with another method, is the API's, which
	// serves only "/": a KMS error, never the metrics.
	for _, probe := range []struct{ method, path string }{{"POST", "/metrics"}, {"GET", "/metrics/"}, {"GET", "//metrics"}, {"POST", "/healthz"}} {
		code, body := get(t, probe.method, srv.URL+probe.path)
		if code != http.StatusBadRequest || !strings.Contains(body, `"Code":"InvalidParameter"`) {
			t.Errorf("%s %s: %d %s, want the API's InvalidParameter", probe.method, probe.path, code, body)
		}
	}
	code, body := get(t, "GET", srv.URL+"/metrics")
	if code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	refused := 0.0
	for _, m := range families["kms_requests_total"].GetMetric() {
		refused += m.GetCounter().GetValue()
	}
	if refused != 4 {
		t.Errorf("kms_requests_total %v, want the 4 refused requests", refused)
	}
	for _, name := range []string{"kms_request_duration_seconds", "kms_cache_hit_ratio", "kms_redis_fallback", "kms_store_errors_total", "kms_throttled_requests_total"} {
		if families[name] == nil {
			t.Errorf("no %s", name)
		}
	}
	// Locally the trail defaults to the data dir, one line per request.
	trail, err := os.ReadFile(filepath.Join(svc.Settings.DataDir, "audit.jsonl"))
	if err != nil || strings.Count(string(trail), "\n") != 4 {
		t.Errorf("audit.jsonl: %v, %d lines, want 4", err, strings.Count(string(trail), "\n"))
	}

	svc.KMS.Store().Close()
	if code, _ := get(t, "GET", srv.URL+"/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz with the store closed: %d, want 503", code)
	}
}
