package consentapi

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/crumbhq/crumb/consentapi/store"
)

// A decision records the hash of the widget bundle that sent it (R22). The
// service accepts only the hashes of bundles it serves: this process's, and
// those other replicas serve or served within widgetVersionKeep, which are
// kept in the store. Each replica notes its bundle there on start and every
// minute after, so a page loaded before a deploy, or from a replica still
// running the previous version, records its decision for a week after the
// last replica serving that bundle has stopped.
const widgetVersionKeep = 7 * 24 * time.Hour

// widgetVersionCache is how long a hash found in the store is accepted
// without asking the store again.
const widgetVersionCache = time.Minute

// widgetVersions checks the widget_version of decisions.
type widgetVersions struct {
	current string // this process's bundle hash
	mu      sync.Mutex
	known   map[string]time.Time // hashes found in the store → until when cached
}

// note renews this process's bundle in the store.
func (s *Server) noteWidgetVersion(ctx context.Context) error {
	if err := s.store.PutWidgetVersion(ctx, s.versions.current, widgetVersionKeep); err != nil {
		return fmt.Errorf("note widget version: %w", err)
	}
	return nil
}

// checkWidgetVersion returns a 400 naming widget_version unless v is the
// hash of a bundle served now or recently.
func (s *Server) checkWidgetVersion(ctx context.Context, v string) error {
	w := s.versions
	if v == w.current {
		return nil
	}
	bad := badField("widget_version", "not the hash of a widget bundle this service serves (now %s): reload the page for the current crumb.js", w.current)
	if !isHex(v, len(w.current)) {
		return bad // not even the shape of one: no need to ask the store
	}
	now := s.now()
	w.mu.Lock()
	until, ok := w.known[v]
	w.mu.Unlock()
	if ok && now.Before(until) {
		return nil
	}
	switch err := s.store.WidgetVersion(ctx, v); {
	case errors.Is(err, store.ErrNotFound):
		return bad
	case err != nil:
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for h, t := range w.known { // only hashes some replica served: a handful
		if !now.Before(t) {
			delete(w.known, h)
		}
	}
	w.known[v] = now.Add(widgetVersionCache)
	return nil
}

// WidgetVersion returns the hash of the widget bundle this server serves,
// which the banner sends with each decision as widget_version.
func (s *Server) WidgetVersion() string { return s.versions.current }
