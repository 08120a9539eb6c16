package widget_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func itoa[T ~int | ~int64](v T) string { return strconv.FormatInt(int64(v), 10) }

// waitImpressions waits until the API has counted n banner impressions.
func (s *testSite) waitImpressions(n int) []impressionRequest {
	s.tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.mu.Lock()
		got := append([]impressionRequest(nil), s.impressions...)
		s.mu.Unlock()
		if len(got) >= n || time.Now().After(deadline) {
			return got
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// equalJSON reports whether a and b encode to the same JSON.
func equalJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}
