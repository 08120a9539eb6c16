package consentapi_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/crumbhq/crumb/consentapi"
	"github.com/crumbhq/crumb/consentapi/localstore"
	"github.com/crumbhq/crumb/consentapi/redisstore"
	"github.com/crumbhq/crumb/consentapi/redistest"
	"github.com/crumbhq/crumb/consentapi/siteconfig"
	"github.com/crumbhq/crumb/consentapi/store"
	"github.com/crumbhq/crumb/scanner"
)

// sharedStore opens one backend for several servers, as replicas share
// it: each call of open is one replica's connection.
type sharedStore struct {
	name string
	open func(t *testing.T) func() store.Store
}

var sharedStores = []sharedStore{
	{"embedded", func(t *testing.T) func() store.Store {
		st, err := localstore.Open(filepath.Join(t.TempDir(), "crumb.db"), localstore.Options{NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		// One file, one process: replicas share the handle.
		return func() store.Store { return st }
	}},
	{"redis", func(t *testing.T) func() store.Store {
		srv := redistest.Start(t)
		return func() store.Store {
			c, err := redisstore.Dial(srv.URL())
			if err != nil {
				t.Fatal(err)
			}
			st, err := redisstore.New(context.Background(), c, redisstore.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		}
	}},
}

// replica is one server of a test and what it logged.
type replica struct {
	srv *consentapi.Server
	reg *prometheus.Registry
	log *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// configWith writes testdata/sites.yaml with each old→new replacement made
// to a temporary file and loads it.
func configWith(t *testing.T, replace ...string) *siteconfig.Config {
	t.Helper()
	raw, err := os.ReadFile("testdata/sites.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	for i := 0; i+1 < len(replace); i += 2 {
		if !strings.Contains(text, replace[i]) {
			t.Fatalf("testdata/sites.yaml has no %q", replace[i])
		}
		text = strings.Replace(text, replace[i], replace[i+1], 1)
	}
	path := filepath.Join(t.TempDir(), "sites.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := siteconfig.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func startReplica(t *testing.T, cfg *siteconfig.Config, st store.Store) replica {
	t.Helper()
	r := replica{reg: prometheus.NewRegistry(), log: &syncBuffer{}}
	srv, err := consentapi.NewServer(context.Background(), consentapi.Options{
		Sites: cfg, AdminToken: adminToken, RateLimit: -1, Registry: r.reg,
		Logger: slog.New(slog.NewTextHandler(r.log, nil)),
	}, st)
	if err != nil {
		t.Fatal(err)
	}
	r.srv = srv
	return r
}

// raises returns what the replica's raise counter holds for site shop.
func (r replica) raises(t *testing.T) float64 {
	t.Helper()
	mfs, err := r.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var n float64
	for _, mf := range mfs {
		if mf.GetName() != "crumb_banner_revision_raises_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "site" && l.GetValue() == "shop" {
					n += m.GetCounter().GetValue()
				}
			}
		}
	}
	return n
}

func revisionOf(t *testing.T, st store.Store) int {
	t.Helper()
	rev, err := st.SiteRevision(context.Background(), "shop")
	if err != nil {
		t.Fatal(err)
	}
	return rev
}

// TestConfigChangeRaisesRevision changes the site configuration the way a
// deploy does, restarting replicas on one store (R26): a new category
// raises the revision once however many replicas start with it at once; a
// change of wording gives the banner a new hash and keeps the revision; a
// widening on a site with raise_revision: false keeps it too, logged.
func TestConfigChangeRaisesRevision(t *testing.T) {
	for _, ss := range sharedStores {
		t.Run(ss.name, func(t *testing.T) {
			open := ss.open(t)
			first := startReplica(t, configWith(t), open())
			v1, _ := first.srv.Banner("shop")
			if v1.Revision != 1 {
				t.Fatalf("first start: revision %d, want 1", v1.Revision)
			}

			// Two replicas start at once with a new category.
			widened := configWith(t, "      - id: marketing\n", "      - id: marketing\n      - id: preferences\n        name: {sv: Inställningar, en: Preferences}\n        description: {sv: Kommer ihåg val., en: Remembers choices.}\n")
			var (
				wg   sync.WaitGroup
				reps [2]replica
			)
			for i := range reps {
				st := open()
				wg.Go(func() { reps[i] = startReplica(t, widened, st) })
			}
			wg.Wait()
			for i, r := range reps {
				if b, _ := r.srv.Banner("shop"); b.Revision != 2 {
					t.Errorf("replica %d serves revision %d, want 2", i, b.Revision)
				}
			}
			if got := revisionOf(t, open()); got != 2 {
				t.Fatalf("stored revision %d after two replicas started with a new category, want 2 (raised once)", got)
			}
			if n := reps[0].raises(t) + reps[1].raises(t); n != 1 {
				t.Errorf("raises counted %v times across the replicas, want 1", n)
			}
			logged := reps[0].log.String() + reps[1].log.String()
			if strings.Count(logged, "revision raised") != 1 || !strings.Contains(logged, "cause=config") || !strings.Contains(logged, "new=preferences") {
				t.Errorf("want one raise logged with its cause and what is new; logs:\n%s", logged)
			}
			v2, _ := reps[0].srv.Banner("shop")
			if b, _ := reps[1].srv.Banner("shop"); b.Banner != v2.Banner {
				t.Errorf("replicas serve banners %s and %s", v2.Banner, b.Banner)
			}

			// The replica still running the old configuration follows the
			// raise and does not raise again from its narrower banner; nor
			// does a new replica starting after it.
			if err := first.srv.Refresh(context.Background(), "shop"); err != nil {
				t.Fatal(err)
			}
			if b, _ := first.srv.Banner("shop"); b.Revision != 2 {
				t.Errorf("old replica after refresh: revision %d, want 2", b.Revision)
			}
			late := startReplica(t, widened, open())
			if b, _ := late.srv.Banner("shop"); b.Revision != 2 || b.Banner != v2.Banner {
				t.Errorf("late replica: revision %d banner %s, want 2 %s", b.Revision, b.Banner, v2.Banner)
			}

			// Wording only: a new hash, the same revision.
			reworded := configWith(t,
				"      - id: marketing\n", "      - id: marketing\n      - id: preferences\n        name: {sv: Inställningar, en: Preferences}\n        description: {sv: Kommer ihåg val., en: Remembers choices.}\n",
				"Räknar besök", "Räknar besök på sajten")
			r := startReplica(t, reworded, open())
			b, _ := r.srv.Banner("shop")
			if b.Revision != 2 || b.Banner == v2.Banner {
				t.Errorf("wording change: revision %d banner %s; want revision 2 and a new hash (old %s)", b.Revision, b.Banner, v2.Banner)
			}
			if got := revisionOf(t, open()); got != 2 || r.raises(t) != 0 {
				t.Errorf("wording change raised the revision: stored %d, counted %v", got, r.raises(t))
			}
			// ... and a warning names the reworded category, once: the
			// next start with the same wording says nothing (R26: the
			// operator judges whether the new wording widens the purpose).
			if logged := r.log.String(); strings.Count(logged, "words a category differently") != 1 || !strings.Contains(logged, "categories=analytics") {
				t.Errorf("want one warning naming the reworded category analytics; logs:\n%s", logged)
			}
			if again := startReplica(t, reworded, open()); strings.Contains(again.log.String(), "words a category differently") {
				t.Errorf("the same wording warned again on the next start:\n%s", again.log)
			}

			// raise_revision: false keeps the revision, and says so.
			kept := configWith(t,
				"      - id: marketing\n", "      - id: marketing\n      - id: preferences\n        name: {sv: Inställningar, en: Preferences}\n        description: {sv: Kommer ihåg val., en: Remembers choices.}\n      - id: personalisation\n        name: {sv: Anpassning, en: Personalisation}\n        description: {sv: Anpassar sidan., en: Tailors the page.}\n",
				"    retention: 1y\n", "    retention: 1y\n    scan:\n      raise_revision: false\n")
			r = startReplica(t, kept, open())
			if b, _ := r.srv.Banner("shop"); b.Revision != 2 {
				t.Errorf("raise_revision false: revision %d, want 2", b.Revision)
			}
			if !strings.Contains(r.log.String(), "raise_revision is false") {
				t.Errorf("the kept revision is not logged:\n%s", r.log)
			}
		})
	}
}

// TestOverrideRaisesRevision classifies a scanned item into marketing with
// a new provider through the admin API: the banner lists it at once and
// the revision is raised, so visitors are asked again (R26). Changing the
// override's wording keeps the revision.
func TestOverrideRaisesRevision(t *testing.T) {
	for _, ss := range sharedStores {
		t.Run(ss.name, func(t *testing.T) {
			open := ss.open(t)
			st := open()
			t0 := time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC)
			putScan(t, st, "shop@1", t0, "", scanItem("_ga", scanner.Analytics, "Google"), scanItem("_fbp", "", ""))
			r := startReplica(t, configWith(t), st)
			other := startReplica(t, configWith(t), open())
			before, _ := r.srv.Banner("shop")
			if before.Revision != 1 {
				t.Fatalf("revision %d before the override, want 1", before.Revision)
			}
			put := func(body string) {
				t.Helper()
				req := httptest.NewRequest("PUT", "/v1/admin/sites/shop/overrides", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+adminToken)
				rec := httptest.NewRecorder()
				r.srv.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					t.Fatalf("put override: %d %s", rec.Code, rec.Body)
				}
			}
			put(`{"name":"_fbp","category":"marketing","provider":"Meta","purpose":{"sv":"Annonser","en":"Ads"}}`)
			after, _ := r.srv.Banner("shop")
			if after.Revision != 2 || !strings.Contains(strings.Join(cookiesOf(after, "marketing"), ","), "_fbp") {
				t.Fatalf("after the override: revision %d, marketing %v; want 2 and _fbp", after.Revision, cookiesOf(after, "marketing"))
			}
			if got := revisionOf(t, st); got != 2 || r.raises(t) != 1 {
				t.Errorf("stored revision %d, raises counted %v; want 2 and 1", got, r.raises(t))
			}
			if !strings.Contains(r.log.String(), "cause=overrides") {
				t.Errorf("raise not logged with its cause:\n%s", r.log)
			}
			// Another replica follows without raising again.
			if err := other.srv.Refresh(context.Background(), "shop"); err != nil {
				t.Fatal(err)
			}
			if b, _ := other.srv.Banner("shop"); b.Revision != 2 || b.Banner != after.Banner || other.raises(t) != 0 {
				t.Errorf("other replica: revision %d banner %s raises %v; want 2 %s 0", b.Revision, b.Banner, other.raises(t), after.Banner)
			}
			// The purpose's wording only: a new banner, the same revision.
			put(`{"name":"_fbp","category":"marketing","provider":"Meta","purpose":{"sv":"Annonser på andra sajter","en":"Ads on other sites"}}`)
			reworded, _ := r.srv.Banner("shop")
			if reworded.Revision != 2 || reworded.Banner == after.Banner {
				t.Errorf("reworded override: revision %d banner %s; want 2 and a new hash", reworded.Revision, reworded.Banner)
			}
			if got := revisionOf(t, st); got != 2 || r.raises(t) != 1 {
				t.Errorf("after a wording change: stored revision %d, raises %v; want 2 and 1", got, r.raises(t))
			}
		})
	}
}
