package platform

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/kmsless/kmsless/internal/syncbuf"
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

	// The last check answers for up to a second (TestReadinessIsCheckedOnceASecond).
	svc.KMS.Store().Close()
	for deadline := time.Now().Add(readyFor + 5*time.Second); ; time.Sleep(50 * time.Millisecond) {
		code, _ := get(t, "GET", srv.URL+"/readyz")
		if code == http.StatusServiceUnavailable {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz with the store closed: %d, want 503", code)
		}
	}
}

// /readyz checks the service at most once a second, its answer shared by
// every probe meanwhile, and a failing check warns once: probes come before
// any authentication, and a flood of them must not become the store's.
func TestReadinessIsCheckedOnceASecond(t *testing.T) {
	var (
		mu     sync.Mutex
		checks int
		fail   error
		clock  = time.Unix(1_800_000_000, 0)
	)
	logs := &syncbuf.Buffer{}
	r := &readiness{
		check: func(context.Context) error { mu.Lock(); defer mu.Unlock(); checks++; return fail },
		log:   slog.New(slog.NewTextHandler(logs, nil)),
		now:   func() time.Time { mu.Lock(); defer mu.Unlock(); return clock },
	}
	advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); clock = clock.Add(d) }
	probe := func(n int, want error) {
		t.Helper()
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				if err := r.err(); err != want {
					t.Errorf("a probe got %v, want %v", err, want)
				}
			})
		}
		wg.Wait()
	}

	probe(50, nil)
	advance(readyFor - time.Millisecond)
	probe(50, nil)
	if checks != 1 {
		t.Fatalf("100 probes within a second made %d checks, want 1", checks)
	}
	advance(time.Millisecond)
	probe(1, nil)
	if checks != 2 {
		t.Fatalf("a probe a second later made %d checks in all, want 2", checks)
	}

	down := errors.New("store: connection refused")
	mu.Lock()
	fail = down
	mu.Unlock()
	advance(readyFor)
	probe(50, down)
	if checks != 3 || strings.Count(logs.String(), "not ready") != 1 {
		t.Errorf("with the store down: %d checks in all, want 3, and warnings:\n%s", checks, logs)
	}
}
