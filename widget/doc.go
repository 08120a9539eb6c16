// Package widget owns crumb's consent banner: its JavaScript and CSS
// sources, their in-process build into one minified bundle, and the theme
// rules (colours and contrast) a site's banner must meet.
package widget
