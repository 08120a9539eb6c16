package consentapi

import (
	"bytes"
	"embed"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"path"

	"github.com/labstack/echo/v4"
)

// demoFiles is the demo site crumb serve shows at /: a Swedish example
// company's page with an analytics and a marketing script and an embedded
// film, all gated by the banner of the first configured site.
//
//go:embed demo
var demoFiles embed.FS

var demoPage = template.Must(template.ParseFS(demoFiles, "demo/index.html"))

// handleDemo serves the demo page at / under a strict Content-Security-
// Policy, which the banner works within.
func (s *Server) handleDemo(c echo.Context) error {
	si := s.sites[s.opts.Sites.Sites[0].ID]
	var buf bytes.Buffer
	if err := demoPage.Execute(&buf, map[string]string{"Site": si.cfg.ID, "Name": si.cfg.Name}); err != nil {
		return err
	}
	demoHeaders(c, si.cfg.API)
	return c.HTMLBlob(http.StatusOK, buf.Bytes())
}

// handleDemoFile serves the demo's scripts, stylesheet and film page.
func (s *Server) handleDemoFile(c echo.Context) error {
	name := c.Param("file")
	data, err := fs.ReadFile(demoFiles, "demo/"+name)
	if err != nil || name == "index.html" {
		return errStatus(http.StatusNotFound, "no demo file %q", name)
	}
	demoHeaders(c, s.sites[s.opts.Sites.Sites[0].ID].cfg.API)
	return c.Blob(http.StatusOK, mime.TypeByExtension(path.Ext(name)), data)
}

// demoHeaders set a CSP with no inline script or style: everything comes
// from this server, and the decisions go to the site's API when it is
// elsewhere.
func demoHeaders(c echo.Context, api string) {
	connect := "'self'"
	if u, err := url.Parse(api); err == nil && u.Scheme != "" && u.Host != "" {
		connect += " " + u.Scheme + "://" + u.Host
	}
	h := c.Response().Header()
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; connect-src "+connect+"; frame-ancestors 'self'")
	h.Set(echo.HeaderCacheControl, "no-cache")
}
