package consentapi_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/crumbhq/crumb/widget"
)

// TestWidgetVersion records decisions naming the widget bundle that sent
// them (R22): the bundle this server serves, and one another replica (or
// the previous deploy) served, are accepted; a hash no replica served is
// a 400 naming widget_version, as TestBadInput checks.
func TestWidgetVersion(t *testing.T) {
	e := newEnv(t)
	b, err := widget.Build()
	if err != nil {
		t.Fatal(err)
	}
	if got := e.srv.WidgetVersion(); got != b.Hash {
		t.Fatalf("WidgetVersion()=%q, want the bundle hash %q", got, b.Hash)
	}
	if err := e.store.WidgetVersion(context.Background(), b.Hash); err != nil {
		t.Errorf("the served bundle is not noted in the store: %v", err)
	}
	const consents = "/v1/sites/shop/consents"
	wantStatus(t, e.do(t, request{method: "POST", path: consents, body: e.decision(t, map[string]any{"event_id": "evt-current-bundle-01"})}), http.StatusCreated)

	// A page loaded from the previous deploy (or a replica not yet
	// upgraded) sends that bundle's hash: accepted while it is kept.
	const previous = "00112233aabbccdd"
	bad := e.do(t, request{method: "POST", path: consents, body: e.decision(t, map[string]any{"event_id": "evt-previous-bundle-1", "widget_version": previous})})
	wantStatus(t, bad, http.StatusBadRequest)
	if err := e.store.PutWidgetVersion(context.Background(), previous, time.Hour); err != nil {
		t.Fatal(err)
	}
	rec := e.do(t, request{method: "POST", path: consents, body: e.decision(t, map[string]any{"event_id": "evt-previous-bundle-1", "widget_version": previous})})
	wantStatus(t, rec, http.StatusCreated)
	a := decode[answer](t, rec)
	recs, err := e.store.Consent(context.Background(), "shop", a.ConsentID)
	if err != nil || len(recs) != 1 || recs[0].WidgetVersion != previous {
		t.Fatalf("record %+v, %v; want widget_version %s", recs, err, previous)
	}
}
