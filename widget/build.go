package widget

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/evanw/esbuild/pkg/api"
)

// src holds the banner's JavaScript modules and CSS; Build bundles them.
//
//go:embed src
var src embed.FS

// Placeholders the sources refer to as free identifiers (see src/main.js);
// esbuild replaces them with these strings, and Build and Script replace the
// strings in turn.
const (
	configPlaceholder  = `"@@crumb-config@@"`
	versionPlaceholder = `"@@crumb-version@@"`
)

// ErrBuild is returned by Build when the embedded sources do not bundle.
var ErrBuild = errors.New("build widget")

// Bundle is the built banner: one minified script with its CSS inside,
// identical for every site. Script inlines one site's Config into it.
type Bundle struct {
	// Hash is the bundle's content hash (hex), which the banner sends with
	// every decision as widget_version.
	Hash string
	// head and tail surround the inlined config.
	head, tail []byte
}

// Build bundles and minifies the embedded sources in-process with esbuild.
// It takes a few milliseconds; the server calls it once at start-up and
// refuses to start when it fails. Errors wrap ErrBuild.
func Build() (*Bundle, error) { return build(src) }

// build bundles src/main.js from fsys.
func build(fsys fs.FS) (*Bundle, error) {
	res := api.Build(api.BuildOptions{
		EntryPoints:       []string{"src/main.js"},
		Bundle:            true,
		Write:             false,
		Format:            api.FormatIIFE,
		Target:            api.ES2022,
		MinifyWhitespace:  true,
		MinifyIdentifiers: true,
		MinifySyntax:      true,
		LegalComments:     api.LegalCommentsNone,
		Charset:           api.CharsetASCII,
		LogLevel:          api.LogLevelSilent,
		Define: map[string]string{
			"__CRUMB_CONFIG__":  configPlaceholder,
			"__CRUMB_VERSION__": versionPlaceholder,
		},
		Plugins: []api.Plugin{embedPlugin(fsys)},
	})
	if len(res.Errors) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrBuild, messages(res.Errors))
	}
	if len(res.OutputFiles) != 1 {
		return nil, fmt.Errorf("%w: %d output files, want 1", ErrBuild, len(res.OutputFiles))
	}
	js := res.OutputFiles[0].Contents
	if n := bytes.Count(js, []byte(configPlaceholder)); n != 1 {
		return nil, fmt.Errorf("%w: config placeholder occurs %d times, want 1", ErrBuild, n)
	}
	sum := sha256.Sum256(js)
	b := &Bundle{Hash: hex.EncodeToString(sum[:8])}
	js = bytes.ReplaceAll(js, []byte(versionPlaceholder), []byte(`"`+b.Hash+`"`))
	i := bytes.Index(js, []byte(configPlaceholder))
	b.head, b.tail = js[:i:i], js[i+len(configPlaceholder):]
	return b, nil
}

// Code returns the bundle without any site's config: the part of every
// served crumb.js that is the same for all sites (its size is the widget's
// weight).
func (b *Bundle) Code() []byte {
	return append(append(append([]byte(nil), b.head...), `""`...), b.tail...)
}

// embedPlugin resolves every import inside fsys and loads it from there:
// .js as JavaScript, .css minified and imported as a string.
func embedPlugin(fsys fs.FS) api.Plugin {
	return api.Plugin{
		Name: "embed",
		Setup: func(pb api.PluginBuild) {
			pb.OnResolve(api.OnResolveOptions{Filter: `.*`}, func(a api.OnResolveArgs) (api.OnResolveResult, error) {
				p := path.Clean(a.Path) // esbuild may pass the entry as "./src/main.js"
				if a.Importer != "" {
					p = path.Join(path.Dir(a.Importer), a.Path)
				}
				return api.OnResolveResult{Path: p, Namespace: "embed"}, nil
			})
			pb.OnLoad(api.OnLoadOptions{Filter: `.*`, Namespace: "embed"}, func(a api.OnLoadArgs) (api.OnLoadResult, error) {
				data, err := fs.ReadFile(fsys, a.Path)
				if err != nil {
					return api.OnLoadResult{}, err
				}
				s := string(data)
				if path.Ext(a.Path) != ".css" {
					return api.OnLoadResult{Contents: &s, Loader: api.LoaderJS}, nil
				}
				css := api.Transform(s, api.TransformOptions{
					Loader: api.LoaderCSS, MinifyWhitespace: true, MinifySyntax: true,
					LogLevel: api.LogLevelSilent,
				})
				if len(css.Errors) > 0 {
					return api.OnLoadResult{}, fmt.Errorf("%s: %s", a.Path, messages(css.Errors))
				}
				out := strings.TrimSpace(string(css.Code))
				return api.OnLoadResult{Contents: &out, Loader: api.LoaderText}, nil
			})
		},
	}
}

func messages(ms []api.Message) string {
	var parts []string
	for _, m := range ms {
		s := m.Text
		if m.Location != nil {
			s = fmt.Sprintf("%s:%d:%d: %s", m.Location.File, m.Location.Line, m.Location.Column, m.Text)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}
