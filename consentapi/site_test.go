package consentapi_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/crumbhq/crumb/consentapi"
	"github.com/crumbhq/crumb/consentapi/siteconfig"
)

// TestRaiseRevision raises a site's revision at run time: the banner is
// rebuilt under a new hash, the old banner stays valid for visitors who
// saw it, and a new server on the same store starts at the new revision.
func TestRaiseRevision(t *testing.T) {
	e := newEnv(t)
	old, _ := e.srv.Banner("shop")
	if err := e.srv.RaiseRevision(context.Background(), "shop", 2); err != nil {
		t.Fatal(err)
	}
	cur, _ := e.srv.Banner("shop")
	if cur.Revision != 2 || cur.Banner == old.Banner || cur.Banner == "" {
		t.Fatalf("after raise: revision %d banner %s (old %s)", cur.Revision, cur.Banner, old.Banner)
	}
	wantStatus(t, e.do(t, request{method: "POST", path: "/v1/sites/shop/consents", body: e.decision(t, map[string]any{"banner": old.Banner, "event_id": "evt-old-banner-00001"})}), http.StatusCreated)
	wantStatus(t, e.do(t, request{method: "POST", path: "/v1/sites/shop/consents", body: e.decision(t, map[string]any{"revision": 2, "event_id": "evt-new-banner-00001"})}), http.StatusCreated)

	cfg, err := siteconfig.Load("testdata/sites.yaml")
	if err != nil {
		t.Fatal(err)
	}
	again, err := consentapi.NewServer(context.Background(), consentapi.Options{Sites: cfg}, e.store)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := again.Banner("shop"); b.Revision != 2 || b.Banner != cur.Banner {
		t.Errorf("restarted server serves revision %d banner %s, want 2 %s", b.Revision, b.Banner, cur.Banner)
	}
	if _, ok := again.Banner("nope"); ok {
		t.Error("Banner of an unknown site")
	}
}
