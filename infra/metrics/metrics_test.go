package metrics_test

import (
	"bytes"
	"encoding/json"
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
}
