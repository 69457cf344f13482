package metrics_test

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/kmsless/kmsless/infra/metrics"
)

func TestActionLabelsAreBounded(t *testing.T) {
	m := metrics.New(nil)
	m.Request("Decrypt", metrics.OK, time.Millisecond)
	m.Request("NoSuchAction-key-0123", "InvalidParameter", time.Millisecond)
	m.Request("Another-Made-Up-Name", "InvalidParameter", time.Millisecond)
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		if f.GetName() != "kms_requests_total" {
			continue
		}
		for _, s := range f.GetMetric() {
			got[s.GetLabel()[0].GetValue()+"/"+s.GetLabel()[1].GetValue()] = s.GetCounter().GetValue()
		}
	}
	if len(got) != 2 || got["unknown/InvalidParameter"] != 2 || got["Decrypt/OK"] != 1 {
		t.Fatalf("series %v, want Decrypt/OK 1 and unknown/InvalidParameter 2", got)
	}
}

func TestEmbeddedMetricFormatLine(t *testing.T) {
	var out bytes.Buffer
	m := metrics.New(&out)
	m.Request("GenerateDataKeyWithoutPlaintext", "Rejected.Throttling", 1500*time.Microsecond)
	var line struct {
		AWS struct {
			Timestamp         int64
			CloudWatchMetrics []struct {
				Namespace  string
				Dimensions [][]string
				Metrics    []struct{ Name, Unit string }
			}
		} `json:"_aws"`
		Action, Outcome     string
		Requests, Throttled int
		Latency             float64
	}
	if err := json.Unmarshal(out.Bytes(), &line); err != nil || strings.Count(out.String(), "\n") != 1 {
		t.Fatalf("%v: %s", err, out.String())
	}
	cw := line.AWS.CloudWatchMetrics
	if line.AWS.Timestamp == 0 || len(cw) != 1 || cw[0].Namespace != "kmsless" || line.Action != "GenerateDataKeyWithoutPlaintext" ||
		line.Outcome != "Rejected.Throttling" || line.Requests != 1 || line.Throttled != 1 || line.Latency != 1.5 {
		t.Fatalf("%s", out.String())
	}
	for _, d := range cw[0].Dimensions[0] {
		if d != "Action" && d != "Outcome" {
			t.Errorf("dimension %s", d)
		}
	}
	if names := cw[0].Metrics; len(names) != 4 || names[0].Name != "Requests" || names[2].Unit != "Milliseconds" {
		t.Errorf("metrics %v", names)
	}
}

// TestEmbeddedMetricFormatLineValues holds each line to valid JSON whatever
// the outcome's characters, and its latency to the microsecond.
func TestEmbeddedMetricFormatLineValues(t *testing.T) {
	for _, c := range []struct {
		outcome string
		d       time.Duration
		latency float64
	}{
		{metrics.OK, 0, 0},
		{metrics.OK, 999 * time.Nanosecond, 0},
		{metrics.OK, time.Microsecond, 0.001},
		{"InvalidParameter", 1234567 * time.Microsecond, 1234.567},
		{"Odd \"code\"\n\u00e9\u2028", time.Hour, 3600000},
	} {
		var out bytes.Buffer
		m := metrics.New(&out)
		m.Request("Decrypt", c.outcome, c.d)
		m.Request("Decrypt", c.outcome, c.d) // the buffer reused
		var line struct {
			Outcome              string
			Requests, Throttled  int
			Latency              float64
			CacheHitRatioPercent int
		}
		lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
		if len(lines) != 2 || lines[0][strings.Index(lines[0], `,"CloudWatchMetrics"`):] != lines[1][strings.Index(lines[1], `,"CloudWatchMetrics"`):] {
			t.Fatalf("%q", out.String())
		}
		if err := json.Unmarshal([]byte(lines[1]), &line); err != nil {
			t.Fatalf("%v: %s", err, lines[1])
		}
		if line.Outcome != c.outcome || line.Requests != 1 || line.Throttled != 0 || line.Latency != c.latency {
			t.Errorf("%+v from %s, want outcome %q latency %v", line, lines[1], c.outcome, c.latency)
		}
	}
}

// BenchmarkRequest counts one request as a function does, with its Embedded
// Metric Format line, and as the api server does, without.
func BenchmarkRequest(b *testing.B) {
	for _, c := range []struct {
		name string
		emf  io.Writer
	}{{"function", io.Discard}, {"server", nil}} {
		b.Run(c.name, func(b *testing.B) {
			m := metrics.New(c.emf)
			b.ReportAllocs()
			for b.Loop() {
				m.Request("GenerateDataKeyWithoutPlaintext", metrics.OK, 1500*time.Microsecond)
			}
		})
	}
}
