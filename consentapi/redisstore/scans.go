package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/crumbhq/crumb/consentapi/store"
)

var _ store.ScanStore = (*Store)(nil)

// Scan history keys, in the site's hash tag like the rest (see keys.go):
//
//	crumb:{site}:scans           zset    run ids scored by finish time (ms)
//	crumb:{site}:scan:{id}       string  the run's JSON with its report
//	crumb:{site}:scanmeta        hash    run id → the run's JSON without its report
//	crumb:{site}:overrides       hash    override key → override JSON
//
// Scan results hold no personal data and do not expire; PutScan trims the
// history to the newest runs.
func scansKey(site string) string      { return prefix(site) + "scans" }
func scanKey(site, id string) string   { return prefix(site) + "scan:" + id }
func scanMetaKey(site string) string   { return prefix(site) + "scanmeta" }
func overridesKey(site string) string  { return prefix(site) + "overrides" }
func scanKeyPrefix(site string) string { return prefix(site) + "scan:" }

// putScanScript stores a run unless its id is stored, then trims the
// history. KEYS: scans, scan, scanmeta. ARGV: id, score, run JSON, summary
// JSON, keep, scan key prefix. Returns {1, json} when created, {0, stored
// json} otherwise. The trimmed scan: keys share the site's hash tag, so
// they live in the slot of the declared keys.
var putScanScript = redis.NewScript(`
local old = redis.call('GET', KEYS[2])
if old then return {0, old} end
redis.call('SET', KEYS[2], ARGV[3])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[4])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
local n = redis.call('ZCARD', KEYS[1])
local keep = tonumber(ARGV[5])
if n > keep then
  for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, n - keep - 1)) do
    redis.call('DEL', ARGV[6] .. id)
    redis.call('HDEL', KEYS[3], id)
  end
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, n - keep - 1)
end
return {1, ARGV[3]}
`)

// PutScan implements store.ScanStore.
func (s *Store) PutScan(ctx context.Context, run store.ScanRun, keep int) (store.ScanRun, bool, error) {
	full, err := json.Marshal(run)
	if err != nil {
		return run, false, fmt.Errorf("put scan: %w", err)
	}
	meta, err := json.Marshal(run.Summary())
	if err != nil {
		return run, false, fmt.Errorf("put scan: %w", err)
	}
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	res, err := putScanScript.Run(ctx, s.c, []string{scansKey(run.Site), scanKey(run.Site, run.ID), scanMetaKey(run.Site)},
		run.ID, run.FinishedAt.UnixMilli(), full, meta, max(keep, 1), scanKeyPrefix(run.Site)).Slice()
	if err != nil {
		return run, false, fmt.Errorf("put scan: %w", unavailable(err))
	}
	if len(res) != 2 {
		return run, false, fmt.Errorf("put scan: %w: bad script reply", store.ErrUnavailable)
	}
	created, _ := res[0].(int64)
	stored, _ := res[1].(string)
	var out store.ScanRun
	if err := json.Unmarshal([]byte(stored), &out); err != nil {
		return run, false, fmt.Errorf("put scan: decode stored run: %w", err)
	}
	return out, created == 1, nil
}

// Scans implements store.ScanStore.
func (s *Store) Scans(ctx context.Context, site string) ([]store.ScanRun, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	ids, err := s.c.ZRevRange(ctx, scansKey(site), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("scans: %w", unavailable(err))
	}
	if len(ids) == 0 {
		return nil, nil
	}
	vals, err := s.c.HMGet(ctx, scanMetaKey(site), ids...).Result()
	if err != nil {
		return nil, fmt.Errorf("scans: %w", unavailable(err))
	}
	out := make([]store.ScanRun, 0, len(vals))
	for i, v := range vals {
		str, ok := v.(string)
		if !ok {
			continue // trimmed between the two reads
		}
		var r store.ScanRun
		if err := json.Unmarshal([]byte(str), &r); err != nil {
			return nil, fmt.Errorf("scans: decode %s: %w", ids[i], err)
		}
		out = append(out, r)
	}
	return out, nil
}

// Scan implements store.ScanStore.
func (s *Store) Scan(ctx context.Context, site, id string) (store.ScanRun, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	v, err := s.c.Get(ctx, scanKey(site, id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return store.ScanRun{}, fmt.Errorf("scan %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.ScanRun{}, fmt.Errorf("scan %s: %w", id, unavailable(err))
	}
	var r store.ScanRun
	if err := json.Unmarshal(v, &r); err != nil {
		return r, fmt.Errorf("scan %s: decode: %w", id, err)
	}
	return r, nil
}

// LatestScan implements store.ScanStore.
func (s *Store) LatestScan(ctx context.Context, site string) (store.ScanRun, error) {
	ids, err := func() ([]string, error) {
		ctx, cancel := s.timeout(ctx)
		defer cancel()
		return s.c.ZRevRange(ctx, scansKey(site), 0, 0).Result()
	}()
	if err != nil {
		return store.ScanRun{}, fmt.Errorf("latest scan: %w", unavailable(err))
	}
	if len(ids) == 0 {
		return store.ScanRun{}, fmt.Errorf("latest scan: %w", store.ErrNotFound)
	}
	return s.Scan(ctx, site, ids[0])
}

// PutOverride implements store.ScanStore.
func (s *Store) PutOverride(ctx context.Context, site string, o store.Override) error {
	b, err := json.Marshal(o)
	if err != nil {
		return fmt.Errorf("put override: %w", err)
	}
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	if err := s.c.HSet(ctx, overridesKey(site), o.Key(), b).Err(); err != nil {
		return fmt.Errorf("put override: %w", unavailable(err))
	}
	return nil
}

// Overrides implements store.ScanStore.
func (s *Store) Overrides(ctx context.Context, site string) ([]store.Override, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	vals, err := s.c.HVals(ctx, overridesKey(site)).Result()
	if err != nil {
		return nil, fmt.Errorf("overrides: %w", unavailable(err))
	}
	return store.DecodeOverrides(vals)
}

// DeleteOverride implements store.ScanStore.
func (s *Store) DeleteOverride(ctx context.Context, site, key string) error {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	n, err := s.c.HDel(ctx, overridesKey(site), key).Result()
	if err != nil {
		return fmt.Errorf("delete override: %w", unavailable(err))
	}
	if n == 0 {
		return fmt.Errorf("delete override %q: %w", key, store.ErrNotFound)
	}
	return nil
}

// scanSettingsKey holds the site's scan settings JSON (store.ScanSettings).
func scanSettingsKey(site string) string { return prefix(site) + "scansettings" }

// PutScanSettings implements store.ScanStore.
func (s *Store) PutScanSettings(ctx context.Context, site string, st store.ScanSettings) error {
	b, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("put scan settings: %w", err)
	}
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	if err := s.c.Set(ctx, scanSettingsKey(site), b, 0).Err(); err != nil {
		return fmt.Errorf("put scan settings: %w", unavailable(err))
	}
	return nil
}

// ScanSettings implements store.ScanStore.
func (s *Store) ScanSettings(ctx context.Context, site string) (store.ScanSettings, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	var st store.ScanSettings
	b, err := s.c.Get(ctx, scanSettingsKey(site)).Bytes()
	if errors.Is(err, redis.Nil) {
		return st, fmt.Errorf("scan settings: %w", store.ErrNotFound)
	}
	if err != nil {
		return st, fmt.Errorf("scan settings: %w", unavailable(err))
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("scan settings: decode: %w", err)
	}
	return st, nil
}
