package widget_test

import (
	"encoding/json"
	"strconv"
	"strings"
)

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func itoa[T ~int | ~int64](v T) string { return strconv.FormatInt(int64(v), 10) }

// impressionCount returns how many banner impressions the API has counted.
func (s *testSite) impressionCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.impressions)
}

// equalJSON reports whether a and b encode to the same JSON.
func equalJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}
