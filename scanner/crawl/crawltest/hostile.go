package crawltest

import (
	"fmt"
	"net/http"
	"strings"
)

// HostileHosts are the host names of the Hostile fixture.
var HostileHosts = []string{"www.testbutik.se", "www.example.com"}

// HostilePaths are the pages of www.testbutik.se that misbehave, each
// linked from its start page: one that never answers, one that never
// finishes loading (an image that never arrives), one whose document never
// finishes, an alert() loop,
// one that crashes its renderer by eating memory, a redirect loop, ten
// thousand links, a download, and a redirect off the site.
var HostilePaths = []string{"/silent", "/never-loads", "/stalls", "/alert-loop", "/crash", "/redirect-loop", "/many-links", "/download", "/leaves"}

// Hostile is www.testbutik.se, a site whose pages try every way to stall a
// crawler, and www.example.com, another site its redirect leads to. Pages
// that hang are released when Close is called or the browser goes away.
type Hostile struct {
	quit chan struct{}
}

// NewHostile returns the fixture.
func NewHostile() *Hostile { return &Hostile{quit: make(chan struct{})} }

// Close releases every request that still hangs.
func (h *Hostile) Close() {
	select {
	case <-h.quit:
	default:
		close(h.quit)
	}
}

func (h *Hostile) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	html := func(body string) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!doctype html><html lang=sv><head><meta charset=utf-8><title>Testbutik</title></head><body>%s</body></html>", body)
	}
	if hostname(r) == "www.example.com" {
		http.SetCookie(w, &http.Cookie{Name: "elsewhere", Value: "1", Path: "/", MaxAge: 3600, Secure: true})
		html("<p>Another site</p>")
		return
	}
	switch r.URL.Path {
	case "/":
		var links strings.Builder
		for _, p := range append(HostilePaths, "/prislista.pdf", "/ok") {
			fmt.Fprintf(&links, `<p><a href="%s">%s</a></p>`, p, p)
		}
		http.SetCookie(w, &http.Cookie{Name: "PHPSESSID", Value: "t1", Path: "/", HttpOnly: true, Secure: true})
		html(links.String())
	case "/ok":
		html(`<p>Ett vanligt sida.</p><script>localStorage.setItem("ajs_anonymous_id", "\"x\"")</script>`)
	case "/never-loads":
		html(`<p>Laddar…</p><img src="/forever.gif" alt="">`)
	case "/silent", "/forever.gif":
		h.hang(w, r)
	case "/stalls":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, "<!doctype html><html><body><p>Laddar")
		w.(http.Flusher).Flush()
		h.hang(w, r)
	case "/alert-loop":
		html(`<script>for (;;) alert("Hej!")</script>`)
	case "/crash":
		html(`<script>const hog = []; for (;;) hog.push(new Array(1e6).fill(Math.random()))</script>`)
	case "/redirect-loop", "/redirect-loop-2":
		next := "/redirect-loop-2"
		if r.URL.Path == next {
			next = "/redirect-loop"
		}
		http.Redirect(w, r, next, http.StatusFound)
	case "/many-links":
		html(`<script>
			const frag = document.createDocumentFragment();
			for (let i = 0; i < 10000; i++) {
				const a = document.createElement("a");
				a.href = "https://www.example.com/sida/" + i;
				a.textContent = "sida " + i;
				frag.appendChild(a);
			}
			document.body.appendChild(frag);
		</script>`)
	case "/download":
		w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
		w.Header().Set("Content-Disposition", `attachment; filename="prislista.xlsx"`)
		w.Write([]byte("PK\x03\x04 not really a spreadsheet"))
	case "/prislista.pdf":
		w.Header().Set("Content-Type", "application/pdf")
		w.Write([]byte("%PDF-1.4"))
	case "/leaves":
		http.Redirect(w, r, "https://www.example.com/", http.StatusFound)
	default:
		http.NotFound(w, r)
	}
}

// hang holds a request open until the client goes away or the fixture
// closes.
func (h *Hostile) hang(w http.ResponseWriter, r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-h.quit:
	}
}
