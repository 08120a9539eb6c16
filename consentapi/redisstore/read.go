package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/crumbhq/crumb/consentapi/store"
	"github.com/redis/go-redis/v9"
)

// proofBatch is how many records Proofs reads per round trip.
const proofBatch = 500

// maxDays bounds a Stats range.
const maxDays = 1000

// eraseScript deletes a consent's records and log entries if its history
// is still what the caller read (else -1: the caller reads it again).
// KEYS: 1 consent, then n record keys, then n log keys. ARGV: 1 the
// history read, then the n event ids.
var eraseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
local n = #ARGV - 1
for i = 1, n do
  redis.call('DEL', KEYS[1 + i])
  redis.call('ZREM', KEYS[1 + n + i], ARGV[1 + i])
end
redis.call('DEL', KEYS[1])
return n
`)

// bannerScript stores an immutable snapshot and pushes its expiry out.
// KEYS: 1 banner. ARGV: 1 snapshot, 2 keep until (ms). Returns -1 if
// stored with other content.
var bannerScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v and v ~= ARGV[1] then return -1 end
if not v then redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[2]) return 1 end
local t = redis.call('PEXPIRETIME', KEYS[1])
if t >= 0 and t < tonumber(ARGV[2]) then redis.call('PEXPIREAT', KEYS[1], ARGV[2]) end
return 0
`)

// raiseScript sets the site's revision to ARGV[1] if higher; returns the
// revision in force.
var raiseScript = redis.NewScript(`
local cur = tonumber(redis.call('HGET', KEYS[1], 'revision') or '0')
local rev = tonumber(ARGV[1])
if rev > cur then redis.call('HSET', KEYS[1], 'revision', rev) return rev end
return cur
`)

// swapScopeScript sets the site's scope to ARGV[2] if it is still ARGV[1]
// ("" for none); returns 1 if it did, 0 if not.
var swapScopeScript = redis.NewScript(`
local cur = redis.call('HGET', KEYS[1], 'scope') or ''
if cur ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'scope', ARGV[2])
return 1
`)

// scripts are loaded by New.
var scripts = []*redis.Script{recordScript, eraseScript, bannerScript, raiseScript, swapScopeScript, clearMarkScript}

func (s *Store) timeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.opts.OpTimeout)
}

// Consent implements store.ConsentStore.
func (s *Store) Consent(ctx context.Context, site, consentID string) ([]store.Record, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	hist, err := s.c.Get(ctx, consentKey(site, consentID)).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("consent: %w", unavailable(err))
	}
	var evs []string
	for _, t := range parseHistory(hist) {
		evs = append(evs, t.event)
	}
	recs, err := s.records(ctx, site, evs)
	if err != nil {
		return nil, fmt.Errorf("consent: %w", err)
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("consent: %w", store.ErrNotFound)
	}
	return recs, nil
}

// Latest implements store.ConsentStore: the history, then its newest
// record (records of one retention expire oldest first); only if that one
// has expired, the others, in one MGET.
func (s *Store) Latest(ctx context.Context, site, consentID, before string) (store.Record, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	hist, err := s.c.Get(ctx, consentKey(site, consentID)).Result()
	if errors.Is(err, redis.Nil) {
		return store.Record{}, fmt.Errorf("latest: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.Record{}, fmt.Errorf("latest: %w", unavailable(err))
	}
	entries := parseHistory(hist)
	if before != "" {
		if i := slices.IndexFunc(entries, func(e historyEntry) bool { return e.event == before }); i >= 0 {
			entries = entries[:i]
		}
	}
	if len(entries) == 0 {
		return store.Record{}, fmt.Errorf("latest: %w", store.ErrNotFound)
	}
	last := entries[len(entries)-1].event
	v, err := s.c.Get(ctx, recordKey(site, last)).Result()
	switch {
	case err == nil:
		var r store.Record
		if err := json.Unmarshal([]byte(v), &r); err != nil {
			return store.Record{}, fmt.Errorf("latest: decode record: %w", err)
		}
		return r, nil
	case !errors.Is(err, redis.Nil):
		return store.Record{}, fmt.Errorf("latest: %w", unavailable(err))
	}
	evs := make([]string, len(entries)-1)
	for i, e := range entries[:len(entries)-1] {
		evs[i] = e.event
	}
	recs, err := s.records(ctx, site, evs)
	if err != nil {
		return store.Record{}, fmt.Errorf("latest: %w", err)
	}
	if len(recs) == 0 {
		return store.Record{}, fmt.Errorf("latest: %w", store.ErrNotFound)
	}
	return recs[len(recs)-1], nil
}

// records reads the live records of events, in order, in one MGET.
func (s *Store) records(ctx context.Context, site string, evs []string) ([]store.Record, error) {
	if len(evs) == 0 {
		return nil, nil
	}
	keys := make([]string, len(evs))
	for i, ev := range evs {
		keys[i] = recordKey(site, ev)
	}
	vals, err := s.c.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, unavailable(err)
	}
	recs := make([]store.Record, 0, len(vals))
	for _, v := range vals {
		str, ok := v.(string)
		if !ok {
			continue // expired
		}
		var r store.Record
		if err := json.Unmarshal([]byte(str), &r); err != nil {
			return nil, fmt.Errorf("decode record: %w", err)
		}
		recs = append(recs, r)
	}
	return recs, nil
}

// historyEntry is one event of a consent's history string.
type historyEntry struct {
	at    time.Time
	event string
}

// parseHistory reads a consent key's value: "ms:event" tokens separated by
// spaces, oldest first.
func parseHistory(v string) []historyEntry {
	var out []historyEntry
	for _, tok := range strings.Fields(v) {
		ms, ev, ok := strings.Cut(tok, ":")
		n, err := strconv.ParseInt(ms, 10, 64)
		if ok && err == nil {
			out = append(out, historyEntry{at: time.UnixMilli(n), event: ev})
		}
	}
	return out
}

// Erase implements store.ConsentStore.
func (s *Store) Erase(ctx context.Context, site, consentID string) error {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	if s.opts.RewriteAfterErase > 0 {
		// Marked before the erasure, so that a restart before the
		// rewrite still rewrites (rewrite.go).
		if err := s.c.Incr(ctx, erasePendingKey).Err(); err != nil {
			return fmt.Errorf("erase: %w", unavailable(err))
		}
	}
	ck := consentKey(site, consentID)
	for range 5 {
		hist, err := s.c.Get(ctx, ck).Result()
		if errors.Is(err, redis.Nil) {
			return fmt.Errorf("erase: %w", store.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("erase: %w", unavailable(err))
		}
		entries := parseHistory(hist)
		keys := make([]string, 1, 1+2*len(entries))
		keys[0] = ck
		args := []any{hist}
		for _, e := range entries {
			keys = append(keys, recordKey(site, e.event))
			args = append(args, e.event)
		}
		for _, e := range entries {
			keys = append(keys, logKey(site, store.Day(e.at)))
		}
		n, err := eraseScript.Run(ctx, s.c, keys, args...).Int()
		if err != nil {
			return fmt.Errorf("erase: %w", unavailable(err))
		}
		if n >= 0 {
			s.erased.Store(true)
			return nil
		}
	}
	return fmt.Errorf("erase: %w: history kept changing", store.ErrUnavailable)
}

// Impression implements store.StatsStore.
func (s *Store) Impression(ctx context.Context, site string, at time.Time, retention time.Duration) error {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	k := aggKey(site, store.Day(at))
	_, err := s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.HIncrBy(ctx, k, "imp", 1)
		// Only ever later, as recordScript does: NX sets the first
		// expiry, GT moves it out.
		until := store.DayEnd(at).Add(retention).UnixMilli()
		p.Do(ctx, "pexpireat", k, until, "nx")
		p.Do(ctx, "pexpireat", k, until, "gt")
		return nil
	})
	if err != nil {
		return fmt.Errorf("impression: %w", unavailable(err))
	}
	return nil
}

// Stats implements store.StatsStore: one pipelined round trip.
func (s *Store) Stats(ctx context.Context, site string, first, last time.Time) ([]store.DayStats, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	days := store.Days(first, last, maxDays)
	cmds := make([]*redis.MapStringStringCmd, len(days))
	_, err := s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, d := range days {
			cmds[i] = p.HGetAll(ctx, aggKey(site, d))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("stats: %w", unavailable(err))
	}
	out := make([]store.DayStats, len(days))
	for i, d := range days {
		st := store.NewDayStats(d)
		for f, v := range cmds[i].Val() {
			n, _ := strconv.ParseInt(v, 10, 64)
			kind, name, _ := strings.Cut(f, ":")
			switch kind {
			case "imp":
				st.Impressions = n
			case "d":
				st.Decisions[store.Action(name)] = n
			case "g":
				st.Granted[name] = n
			case "n":
				st.Denied[name] = n
			}
		}
		out[i] = st
	}
	return out, nil
}

// Proofs implements store.StatsStore: day by day, proofBatch records per
// round trip pair (ZRANGEBYSCORE, MGET). Each page starts after the last
// record delivered, by score (time) and member (event id, the order of
// equal scores), not at an offset: erasures while an export runs remove
// members before the cursor and would shift an offset past records never
// delivered.
func (s *Store) Proofs(ctx context.Context, site string, from, to time.Time, fn func(store.Record) error) error {
	if !to.After(from) {
		return nil
	}
	max := "(" + strconv.FormatInt(to.UnixMilli(), 10)
	for _, day := range store.Days(from, to.Add(-time.Millisecond), maxDays) {
		lk := logKey(site, day)
		score, last, count := from.UnixMilli(), "", int64(proofBatch)
		for {
			rctx, cancel := s.timeout(ctx)
			zs, err := s.c.ZRangeByScoreWithScores(rctx, lk, &redis.ZRangeBy{Min: strconv.FormatInt(score, 10), Max: max, Count: count}).Result()
			// Members at the cursor's time up to its event id were
			// delivered by the page before.
			skip := 0
			for skip < len(zs) && last != "" && int64(zs[skip].Score) == score && member(zs[skip]) <= last {
				skip++
			}
			evs := make([]string, 0, len(zs)-skip)
			for _, z := range zs[skip:] {
				evs = append(evs, member(z))
			}
			var recs []store.Record
			if err == nil {
				recs, err = s.records(rctx, site, evs)
			}
			cancel()
			if err != nil {
				return fmt.Errorf("proofs: %w", unavailable(err))
			}
			for _, r := range recs {
				if err := fn(r); err != nil {
					return err
				}
			}
			if int64(len(zs)) < count {
				break
			}
			if len(evs) == 0 {
				// A whole page of one millisecond's delivered members:
				// read a wider one.
				count *= 2
				continue
			}
			end := zs[len(zs)-1]
			score, last, count = int64(end.Score), member(end), proofBatch
		}
	}
	return nil
}

// member is a proof-log member: an event id.
func member(z redis.Z) string {
	m, _ := z.Member.(string)
	return m
}

// PutBanner implements store.BannerStore.
func (s *Store) PutBanner(ctx context.Context, site, hash string, snapshot []byte, keep time.Duration) error {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	n, err := bannerScript.Run(ctx, s.c, []string{bannerKey(site, hash)}, snapshot, time.Now().Add(keep).UnixMilli()).Int()
	if err != nil {
		return fmt.Errorf("put banner: %w", unavailable(err))
	}
	if n < 0 {
		return fmt.Errorf("put banner %s: %w: stored with other content", hash, store.ErrConflict)
	}
	return nil
}

// Banner implements store.BannerStore.
func (s *Store) Banner(ctx context.Context, site, hash string) ([]byte, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	v, err := s.c.Get(ctx, bannerKey(site, hash)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("banner: %w", store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("banner: %w", unavailable(err))
	}
	return v, nil
}

// SiteRevision implements store.SiteStore.
func (s *Store) SiteRevision(ctx context.Context, site string) (int, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	n, err := s.c.HGet(ctx, siteKey(site), "revision").Int()
	if errors.Is(err, redis.Nil) {
		return 0, fmt.Errorf("site revision: %w", store.ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("site revision: %w", unavailable(err))
	}
	return n, nil
}

// RaiseSiteRevision implements store.SiteStore.
func (s *Store) RaiseSiteRevision(ctx context.Context, site string, rev int) (int, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	n, err := raiseScript.Run(ctx, s.c, []string{siteKey(site)}, rev).Int()
	if err != nil {
		return 0, fmt.Errorf("raise site revision: %w", unavailable(err))
	}
	return n, nil
}

// SiteScope implements store.ScopeStore.
func (s *Store) SiteScope(ctx context.Context, site string) (store.SiteScope, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	v, err := s.c.HGet(ctx, siteKey(site), "scope").Bytes()
	if errors.Is(err, redis.Nil) {
		return store.SiteScope{}, fmt.Errorf("site scope: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.SiteScope{}, fmt.Errorf("site scope: %w", unavailable(err))
	}
	sc, err := store.DecodeSiteScope(v)
	if err != nil {
		return store.SiteScope{}, fmt.Errorf("site scope: decode: %w", err)
	}
	return sc, nil
}

// SwapSiteScope implements store.ScopeStore.
func (s *Store) SwapSiteScope(ctx context.Context, site string, old *store.SiteScope, next store.SiteScope) (bool, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	var want []byte
	if old != nil {
		want = old.Encode()
	}
	n, err := swapScopeScript.Run(ctx, s.c, []string{siteKey(site)}, want, next.Encode()).Int()
	if err != nil {
		return false, fmt.Errorf("swap site scope: %w", unavailable(err))
	}
	return n == 1, nil
}

// PutWidgetVersion implements store.WidgetStore.
func (s *Store) PutWidgetVersion(ctx context.Context, hash string, keep time.Duration) error {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	// The banner script keeps an immutable value and only pushes its
	// expiry out, which is what a served version needs too.
	if err := bannerScript.Run(ctx, s.c, []string{widgetKey(hash)}, "1", time.Now().Add(keep).UnixMilli()).Err(); err != nil {
		return fmt.Errorf("put widget version: %w", unavailable(err))
	}
	return nil
}

// WidgetVersion implements store.WidgetStore.
func (s *Store) WidgetVersion(ctx context.Context, hash string) error {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	n, err := s.c.Exists(ctx, widgetKey(hash)).Result()
	if err != nil {
		return fmt.Errorf("widget version: %w", unavailable(err))
	}
	if n == 0 {
		return fmt.Errorf("widget version %s: %w", hash, store.ErrNotFound)
	}
	return nil
}
