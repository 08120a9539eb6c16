package crawltest

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// ShopHosts are the host names of the Shop fixture.
var ShopHosts = []string{"www.butiken.se", "www.googletagmanager.com", "www.google-analytics.com", "static.hotjar.com", "cdn.segment.com"}

// Shop is a generated web shop, www.butiken.se, of n pages for the
// benchmark: a start page linking ten category pages, which link the
// products, each page with Google Analytics, Hotjar and Segment and a
// session cookie. Every page is two link hops from the start or less.
type Shop struct{ n int }

// NewShop returns a shop of n pages in all (at least 11).
func NewShop(n int) *Shop { return &Shop{n: max(n, 11)} }

const shopPage = `<!doctype html>
<html lang="sv"><head><meta charset="utf-8"><title>%s – Butiken</title>
<script async src="https://www.googletagmanager.com/gtag/js?id=G-SHOP1"></script>
<script src="https://static.hotjar.com/c/hotjar-3712345.js?sv=6"></script>
<script src="https://cdn.segment.com/analytics.js/v1/wk123/analytics.min.js"></script>
</head><body><h1>%s</h1>%s<div style="height:2500px"></div><footer>Butiken AB</footer></body></html>`

func (s *Shop) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if hostname(r) != "www.butiken.se" {
		(&Exempel{}).ServeHTTP(w, r) // the tags' own hosts
		return
	}
	products := s.n - 11
	var title string
	var links strings.Builder
	switch p := r.URL.Path; {
	case p == "/":
		title = "Butiken"
		for k := range 10 {
			fmt.Fprintf(&links, `<p><a href="/kategori/%d">Kategori %d</a></p>`, k, k)
		}
	case strings.HasPrefix(p, "/kategori/"):
		k, err := strconv.Atoi(strings.TrimPrefix(p, "/kategori/"))
		if err != nil || k < 0 || k >= 10 {
			http.NotFound(w, r)
			return
		}
		title = "Kategori " + strconv.Itoa(k)
		for i := k; i < products; i += 10 {
			fmt.Fprintf(&links, `<p><a href="/produkt/%d">Produkt %d</a></p>`, i, i)
		}
	case strings.HasPrefix(p, "/produkt/"):
		i, err := strconv.Atoi(strings.TrimPrefix(p, "/produkt/"))
		if err != nil || i < 0 || i >= products {
			http.NotFound(w, r)
			return
		}
		title = "Produkt " + strconv.Itoa(i)
		fmt.Fprintf(&links, `<p><a href="/kategori/%d">Tillbaka</a> <a href="/">Start</a></p>`, i%10)
	default:
		http.NotFound(w, r)
		return
	}
	if _, err := r.Cookie("PHPSESSID"); err != nil {
		http.SetCookie(w, &http.Cookie{Name: "PHPSESSID", Value: "shop", Path: "/", HttpOnly: true, Secure: true})
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, shopPage, title, title, links.String())
}
