package widget

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"
)

// TestBuildErrors checks that broken sources fail the build with ErrBuild
// and the file and line, which stops crumb serve at start-up.
func TestBuildErrors(t *testing.T) {
	tests := []struct {
		name  string
		files fstest.MapFS
		want  string
	}{
		{"syntax error", fstest.MapFS{"src/main.js": {Data: []byte("const x = ;\n")}}, "src/main.js:1:"},
		{"missing import", fstest.MapFS{"src/main.js": {Data: []byte("import { a } from './gone.js'\nJSON.parse(__CRUMB_CONFIG__, a)\n")}}, "gone.js"},
		{"no config placeholder", fstest.MapFS{"src/main.js": {Data: []byte("console.log(1)\n")}}, "config placeholder occurs 0 times"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := build(tt.files)
			if !errors.Is(err, ErrBuild) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("build() = %v, want ErrBuild mentioning %q", err, tt.want)
			}
		})
	}
}
