package consentapi_test

import (
	"encoding/json"
	"os"
	"regexp"
	"testing"
)

// TestMonitoringConfigs checks that every crumb metric the Prometheus rules
// and the Grafana dashboard in configs/ use is one the server exports,
// and that the dashboard is valid JSON.
func TestMonitoringConfigs(t *testing.T) {
	e := newEnv(t)
	fill(t, e)
	families, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	exported := map[string]bool{}
	for _, f := range families {
		exported[f.GetName()] = true
		if f.GetType().String() == "HISTOGRAM" {
			for _, s := range []string{"_bucket", "_count", "_sum"} {
				exported[f.GetName()+s] = true
			}
		}
	}
	// Recorded series (level:metric:op) are defined by the rules, not exported.
	metric := regexp.MustCompile(`(^|[^:a-z_])(crumb_[a-z_]*[a-z])\b`)
	for _, file := range []string{"../configs/recording.yml", "../configs/prometheus.yml", "../configs/grafana-dashboard.json"} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range metric.FindAllStringSubmatch(string(b), -1) {
			if !exported[m[2]] {
				t.Errorf("%s uses %s, which the server does not export", file, m[2])
			}
		}
	}
	b, _ := os.ReadFile("../configs/grafana-dashboard.json")
	var dash struct {
		Panels []struct{ Targets []struct{ Expr string } }
	}
	if err := json.Unmarshal(b, &dash); err != nil || len(dash.Panels) == 0 {
		t.Fatalf("dashboard: %v (%d panels)", err, len(dash.Panels))
	}
}
