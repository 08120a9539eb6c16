package redisstore

import "github.com/crumbhq/crumb/consentapi/store"

// The key schema. Every key of a site carries the site id as its hash tag,
// {site}, so that in a Redis Cluster all of a site's keys live in one slot
// and each decision is one atomic script on one node. Times are Unix
// milliseconds; days are UTC, YYYY-MM-DD. Every key expires by itself
// (PEXPIREAT), so retention needs no job.
//
//	crumb:{site}:r:{event_id}     string  the record's JSON; expires with the record (its
//	                                      retention). Doubles as the event-id index that
//	                                      makes decisions idempotent.
//	crumb:{site}:c:{consent_id}   string  a consent's history: "ms:event_id" tokens,
//	                                      oldest first, separated by spaces; expires
//	                                      with its newest record. Tokens past the
//	                                      retention whose record has expired are
//	                                      dropped on each append; a
//	                                      history of store.MaxHistory live tokens
//	                                      is not appended to (record.go).
//	crumb:{site}:log:{day}        zset    the proof log of a day: event ids scored by
//	                                      time; expires at the end of the day plus the
//	                                      retention.
//	crumb:{site}:agg:{day}        hash    aggregate counters of a day, no ids: "imp"
//	                                      impressions, "d:<action>" decisions,
//	                                      "g:<category>" granted, "n:<category>" denied;
//	                                      expires like the day's log.
//	crumb:{site}:banner:{hash}    string  the banner snapshot JSON, immutable; its expiry
//	                                      is pushed past that of every record naming it.
//	crumb:{site}:site             hash    per-site state: "revision"; "scope", what the
//	                                      banners of that revision asked consent for
//	                                      (store.SiteScope JSON).
//	crumb:erase-pending           string  a counter raised before each erasure while
//	                                      erased data may still be in an AOF; deleted
//	                                      once every node has rewritten its AOF since.
//	crumb:widget:{hash}           string  "1": a widget bundle hash some replica serves;
//	                                      expires a while after the last replica
//	                                      serving it stopped renewing it.
//
// Erasing a consent deletes its c: key, its r: keys and its members of the
// log: keys, leaving only the agg: counters.
func prefix(site string) string { return "crumb:{" + site + "}:" }

// appendKey appends the key prefix(site) + kind + id to b, for building a
// decision's keys without an allocation each.
func appendKey(b []byte, site, kind, id string) []byte {
	b = append(b, "crumb:{"...)
	b = append(b, site...)
	b = append(b, "}:"...)
	b = append(b, kind...)
	return append(b, id...)
}

// Kinds of the per-visitor keys.
const (
	recordKind  = "r:"
	consentKind = "c:"
)

func recordKey(site, event string) string { return prefix(site) + recordKind + event }
func consentKey(site, id string) string   { return prefix(site) + consentKind + id }
func logKey(site, day string) string      { return prefix(site) + "log:" + day }
func aggKey(site, day string) string      { return prefix(site) + "agg:" + day }
func bannerKey(site, hash string) string  { return prefix(site) + "banner:" + hash }
func siteKey(site string) string          { return prefix(site) + "site" }
func widgetKey(hash string) string        { return "crumb:widget:" + hash }

const erasePendingKey = "crumb:erase-pending"

func actionField(a store.Action) string { return "d:" + string(a) }
func categoryField(c string, g bool) string {
	if g {
		return "g:" + c
	}
	return "n:" + c
}
