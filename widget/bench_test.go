package widget_test

import (
	"bytes"
	"compress/gzip"
	"testing"

	"github.com/andybalholm/brotli"

	"github.com/crumbhq/crumb/widget"
)

// BenchmarkBundleSize reports the weight of the widget as served, JS with
// its CSS, without any site's config: raw, gzip -9 and brotli (quality 11).
// The budget is 6,000 bytes gzip.
func BenchmarkBundleSize(b *testing.B) {
	code := mustBuild(b).Code()
	var gz, br int
	for b.Loop() {
		gz, br = gzipSize(b, code), brotliSize(b, code)
	}
	b.ReportMetric(float64(len(code)), "raw-bytes")
	b.ReportMetric(float64(gz), "gzip-bytes")
	b.ReportMetric(float64(br), "brotli-bytes")
	if gz > 6000 {
		b.Errorf("the widget is %d bytes gzip, over the 6,000-byte budget", gz)
	}
}

// BenchmarkBuild times the in-process esbuild build done at start-up.
func BenchmarkBuild(b *testing.B) {
	for b.Loop() {
		if _, err := widget.Build(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScript times rendering one site's crumb.js from the bundle.
func BenchmarkScript(b *testing.B) {
	bundle, cfg := mustBuild(b), testConfig()
	for b.Loop() {
		if _, err := bundle.Script(cfg); err != nil {
			b.Fatal(err)
		}
	}
}

func gzipSize(tb testing.TB, p []byte) int {
	var buf bytes.Buffer
	w, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		tb.Fatal(err)
	}
	w.Write(p)
	w.Close()
	return buf.Len()
}

func brotliSize(tb testing.TB, p []byte) int {
	var buf bytes.Buffer
	w := brotli.NewWriterLevel(&buf, brotli.BestCompression)
	w.Write(p)
	w.Close()
	return buf.Len()
}
