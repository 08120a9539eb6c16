package main

import (
	"context"

	"github.com/crumbhq/crumb/consentapi/store"
)

// unwritten is the store of a -no-write control run: a decision is
// answered as recorded, under a new consent id unless it names one,
// without anything being written; everything else is the real store's.
type unwritten struct{ store.Store }

func (unwritten) Record(_ context.Context, d store.Decision) (store.Record, bool, error) {
	r := d.Record
	if r.ConsentID == "" {
		r.ConsentID = d.NewConsentID
	}
	return r, true, nil
}
