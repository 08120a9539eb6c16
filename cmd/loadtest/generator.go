package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crumbhq/crumb/widget"
)

// generator sends requests over a fixed set of keep-alive connections.
type generator struct {
	base   string
	conns  int
	client *http.Client
	site   string
	body   []byte // decision body with the event id as 24 x's
	seq    atomic.Uint64
	prefix string
}

// newGenerator sends decisions answering banner, from the widget bundle
// with hash widgetVersion (the server accepts only bundles it serves).
func newGenerator(base string, conns int, site string, banner widget.Config, widgetVersion string) *generator {
	cats := make([]string, 0, len(banner.Categories))
	for _, c := range banner.Categories {
		cats = append(cats, strconv.Quote(c.ID)+":true")
	}
	body := fmt.Sprintf(`{"event_id":"%s","action":"accept_all","categories":{%s},"revision":%d,"banner":%q,"language":%q,"widget_version":%q}`,
		strings.Repeat("x", 24), strings.Join(cats, ","), banner.Revision, banner.Banner, banner.Languages[0], widgetVersion)
	return &generator{
		base:  base,
		conns: conns,
		site:  site,
		client: &http.Client{Transport: &http.Transport{
			MaxIdleConns: conns, MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, IdleConnTimeout: time.Minute,
		}},
		body:   []byte(body),
		prefix: strconv.FormatInt(time.Now().UnixNano(), 36)[:10],
	}
}

// healthz sends one GET /healthz.
func (g *generator) healthz() error {
	resp, err := g.client.Get(g.base + "/healthz")
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// crumbJS fetches crumb.js as a browser does on a first visit: compressed,
// without If-None-Match, so every answer is a 200 with the whole body.
func (g *generator) crumbJS() error {
	req, _ := http.NewRequest(http.MethodGet, g.base+"/v1/sites/"+g.site+"/crumb.js", nil)
	req.Header.Set("Accept-Encoding", "gzip, deflate, br")
	resp, err := g.client.Do(req)
	if err != nil {
		return err
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	switch {
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("status %d", resp.StatusCode)
	case n == 0 || n != resp.ContentLength:
		return fmt.Errorf("body of %d bytes, Content-Length %d", n, resp.ContentLength)
	}
	return nil
}

// decision posts one decision with a fresh event id.
func (g *generator) decision() error {
	body := bytes.Clone(g.body)
	// Overwrite the placeholder event id: prefix, "-", sequence, padding.
	ev := body[len(`{"event_id":"`):][:24]
	n := copy(ev, g.prefix)
	ev[n] = '-'
	seq := strconv.AppendUint(ev[n+1:n+1], g.seq.Add(1), 36)
	for i := n + 1 + len(seq); i < len(ev); i++ {
		ev[i] = '_'
	}
	req, _ := http.NewRequest(http.MethodPost, g.base+"/v1/sites/"+g.site+"/consents", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := g.client.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// run drives conns workers calling do for d, adding to r unless warmup.
func (g *generator) run(ctx context.Context, r *result, d time.Duration, do func() error, warmup bool) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var wg sync.WaitGroup
	lat := make([][]time.Duration, g.conns)
	errs := make([]int, g.conns)
	start := time.Now()
	for w := range g.conns {
		wg.Go(func() {
			l := make([]time.Duration, 0, 1<<14)
			for ctx.Err() == nil {
				t := time.Now()
				if err := do(); err != nil {
					errs[w]++
					if errs[w] == 1 && !warmup {
						r.setErr(err)
					}
					continue
				}
				l = append(l, time.Since(t))
			}
			lat[w] = l
		})
	}
	wg.Wait()
	if warmup {
		return
	}
	r.elapsed += time.Since(start)
	for w := range g.conns {
		r.lat = append(r.lat, lat[w]...)
		r.errors += errs[w]
	}
}

// result accumulates one endpoint's measurements.
type result struct {
	name     string
	elapsed  time.Duration
	lat      []time.Duration
	errors   int
	mu       sync.Mutex
	firstErr error
	sorted   bool
}

func (r *result) setErr(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.firstErr == nil {
		r.firstErr = err
	}
}

func (r *result) throughput() float64 { return float64(len(r.lat)) / r.elapsed.Seconds() }

func (r *result) percentile(p float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	if !r.sorted {
		slices.Sort(r.lat)
		r.sorted = true
	}
	return r.lat[int(p*float64(len(r.lat)-1))]
}

func (r *result) print(w io.Writer) {
	fmt.Fprintf(w, "%-34s %8d ok in %5.1fs  %8.0f req/s  p50 %6.2fms  p99 %6.2fms  errors %d",
		r.name, len(r.lat), r.elapsed.Seconds(), r.throughput(),
		ms(r.percentile(0.50)), ms(r.percentile(0.99)), r.errors)
	if r.firstErr != nil {
		fmt.Fprintf(w, " (first: %v)", r.firstErr)
	}
	fmt.Fprintln(w)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
