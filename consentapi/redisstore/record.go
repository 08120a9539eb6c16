package redisstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/crumbhq/crumb/consentapi/store"
	"github.com/redis/go-redis/v9"
)

// recordScript appends a batch of decisions of one site and one day
// atomically. Each decision is idempotent by event id: SET … NX GET both
// writes the record and, if the event is already recorded, returns the
// stored JSON and writes nothing, so a resent command (go-redis retries a
// command whose reply was lost) or a client retry never duplicates. The
// day's proof-log entries and counters are written once per batch.
//
// KEYS: 1 log of the day, 2 counters of the day, then 4 per decision:
// record, banner, consent named by the request (or any key of the site),
// consent under the new id.
// ARGV: 1 number of decisions, 2 expiry of the day keys (ms), then 8 per
// decision: the record JSON (whole, with the new id, when no id is named;
// else what follows the consent id), consent id named ("" none), new
// consent id, event id, time (ms), record expiry (ms), retention (ms),
// counter fields separated by spaces.
// Returns per decision 1 (recorded under the new id), 2 (recorded under
// the named id), the stored JSON (a replay) or -1 (unknown banner).
var recordScript = redis.NewScript(`
local n = tonumber(ARGV[1])
local out, banners, bannerKeep, logArgs, counts = {}, {}, {}, {}, {}
for i = 1, n do
  local k, a = 2 + 4 * (i - 1), 2 + 8 * (i - 1)
  local bkey = KEYS[k + 2]
  if banners[bkey] == nil then banners[bkey] = redis.call('EXISTS', bkey) == 1 end
  if not banners[bkey] then
    out[i] = -1
  else
    local named, now, del = ARGV[a + 2], tonumber(ARGV[a + 5]), tonumber(ARGV[a + 6])
    local token = ARGV[a + 5] .. ':' .. ARGV[a + 4]
    local old
    if named ~= '' and redis.call('EXISTS', KEYS[k + 3]) == 1 then
      old = redis.call('SET', KEYS[k + 1], '{"consent_id":"' .. named .. ARGV[a + 1], 'PXAT', del, 'NX', 'GET')
      if not old then
        -- Append to the history, dropping events past their retention.
        local cutoff, kept = now - tonumber(ARGV[a + 7]), {}
        for t in string.gmatch(redis.call('GET', KEYS[k + 3]), '%S+') do
          if tonumber(string.match(t, '^%d+')) >= cutoff then kept[#kept + 1] = t end
        end
        kept[#kept + 1] = token
        redis.call('SET', KEYS[k + 3], table.concat(kept, ' '), 'KEEPTTL')
        redis.call('PEXPIREAT', KEYS[k + 3], del, 'GT')
        out[i] = 2
      end
    else
      local rec = ARGV[a + 1]
      if named ~= '' then rec = '{"consent_id":"' .. ARGV[a + 3] .. rec end
      old = redis.call('SET', KEYS[k + 1], rec, 'PXAT', del, 'NX', 'GET')
      if not old then
        redis.call('SET', KEYS[k + 4], token, 'PXAT', del)
        out[i] = 1
      end
    end
    if old then
      out[i] = old
    else
      logArgs[#logArgs + 1] = now
      logArgs[#logArgs + 1] = ARGV[a + 4]
      for f in string.gmatch(ARGV[a + 8], '%S+') do counts[f] = (counts[f] or 0) + 1 end
      if (bannerKeep[bkey] or 0) < del then bannerKeep[bkey] = del end
    end
  end
end
if #logArgs > 0 then
  redis.call('ZADD', KEYS[1], unpack(logArgs))
  redis.call('PEXPIREAT', KEYS[1], ARGV[2])
  for f, c in pairs(counts) do redis.call('HINCRBY', KEYS[2], f, c) end
  redis.call('PEXPIREAT', KEYS[2], ARGV[2])
  for bkey, del in pairs(bannerKeep) do
    local t = redis.call('PEXPIRETIME', bkey)
    if t >= 0 and t < del then redis.call('PEXPIREAT', bkey, del + 86400000) end
  end
end
return out
`)

// jsonHead is how every record's JSON starts: the consent id comes first so
// the script can put in the id it chooses.
const jsonHead = `{"consent_id":"`

// pending is a decision waiting for its batch.
type pending struct {
	site, day string
	dayExpiry int64 // ms
	keys      [4]string
	args      [8]any
	res       any
	err       error
	done      chan struct{}
}

// Record implements store.ConsentStore. The decision joins the next
// pipelined batch; Record returns when that batch has been answered.
func (s *Store) Record(ctx context.Context, d store.Decision) (store.Record, bool, error) {
	rec := d.Record
	rec.ConsentID = ""
	body := rec.AppendJSON(make([]byte, 0, 512))
	named, value := d.ConsentID, string(body[len(jsonHead):])
	if named == "" {
		named = d.NewConsentID // a key in the slot that the script never reads
		value = jsonHead + d.NewConsentID + value
	}
	var fields strings.Builder
	fields.WriteString(actionField(d.Action))
	for c, g := range d.Categories {
		fields.WriteByte(' ')
		fields.WriteString(categoryField(c, g))
	}
	p := &pending{
		site:      d.Site,
		day:       store.Day(d.RecordedAt),
		dayExpiry: store.DayEnd(d.RecordedAt).Add(d.Retention).UnixMilli(),
		keys: [4]string{
			recordKey(d.Site, d.EventID), bannerKey(d.Site, d.Banner),
			consentKey(d.Site, named), consentKey(d.Site, d.NewConsentID),
		},
		args: [8]any{
			value, d.ConsentID, d.NewConsentID, d.EventID, d.RecordedAt.UnixMilli(),
			d.DeleteAt().UnixMilli(), d.Retention.Milliseconds(), fields.String(),
		},
		done: make(chan struct{}),
	}

	ctx, cancel := context.WithTimeout(ctx, s.opts.OpTimeout)
	defer cancel()
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return store.Record{}, false, fmt.Errorf("record: %w: store closed", store.ErrUnavailable)
	}
	select {
	case s.queue <- p:
		s.mu.RUnlock()
	case <-ctx.Done():
		s.mu.RUnlock()
		return store.Record{}, false, fmt.Errorf("record: %w: %w", store.ErrUnavailable, ctx.Err())
	}
	select {
	case <-p.done:
	case <-ctx.Done():
		// The batch may still commit; a retry with the same event id
		// returns that record instead of writing another.
		return store.Record{}, false, fmt.Errorf("record: %w: %w", store.ErrUnavailable, ctx.Err())
	}
	if p.err != nil {
		return store.Record{}, false, fmt.Errorf("record: %w", p.err)
	}
	return decodeResult(p.res, d)
}

// decodeResult turns the script's answer for one decision into the record.
func decodeResult(res any, d store.Decision) (store.Record, bool, error) {
	rec := d.Record
	switch v := res.(type) {
	case int64:
		switch v {
		case 1:
			rec.ConsentID = d.NewConsentID
			return rec, true, nil
		case 2:
			return rec, true, nil
		}
		return store.Record{}, false, store.ErrUnknownBanner
	case string:
		var old store.Record
		if err := json.Unmarshal([]byte(v), &old); err != nil {
			return store.Record{}, false, fmt.Errorf("record: decode stored record: %w", err)
		}
		return old, false, nil
	default:
		return store.Record{}, false, fmt.Errorf("%w: bad script reply %T", store.ErrUnavailable, res)
	}
}

// commitLoop takes decisions off the queue and sends all that are waiting,
// up to MaxBatch, in one pipelined round trip: while one batch is on the
// wire the next gathers, so no decision waits longer than one round trip
// for its batch to leave.
func (s *Store) commitLoop() {
	batch := make([]*pending, 0, s.opts.MaxBatch)
	for p := range s.queue {
		batch = append(batch[:0], p)
	fill:
		for len(batch) < s.opts.MaxBatch {
			select {
			case q, ok := <-s.queue:
				if !ok {
					break fill
				}
				batch = append(batch, q)
			default:
				break fill
			}
		}
		s.commit(batch)
	}
}

// group is the decisions of one site and day: one script call.
type group struct {
	site, day string
	expiry    int64
	items     []*pending
}

// commit runs one batch as one script call per site and day (a site's
// keys share a cluster slot), all in one pipeline.
func (s *Store) commit(batch []*pending) {
	var groups []*group
	for _, p := range batch {
		var g *group
		for _, h := range groups {
			if h.site == p.site && h.day == p.day {
				g = h
				break
			}
		}
		if g == nil {
			g = &group{site: p.site, day: p.day}
			groups = append(groups, g)
		}
		g.expiry = max(g.expiry, p.dayExpiry)
		g.items = append(g.items, p)
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.OpTimeout)
	defer cancel()
	err := s.exec(ctx, groups)
	if err != nil && isNoScript(err) {
		// The server lost its scripts (restart, failover, SCRIPT FLUSH):
		// load them and resend; the script is idempotent.
		if lerr := loadScript(ctx, s.c, recordScript); lerr == nil {
			err = s.exec(ctx, groups)
		}
	}
	for _, p := range batch {
		if p.err == nil && p.res == nil {
			p.err = unavailable(err)
			if p.err == nil {
				p.err = fmt.Errorf("%w: no reply", store.ErrUnavailable)
			}
		}
		close(p.done)
	}
}

// exec sends one EVALSHA per group in one pipeline and hands each decision
// its answer.
func (s *Store) exec(ctx context.Context, groups []*group) error {
	cmds := make([]*redis.Cmd, len(groups))
	_, err := s.c.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		for i, g := range groups {
			keys := make([]string, 2, 2+4*len(g.items))
			keys[0], keys[1] = logKey(g.site, g.day), aggKey(g.site, g.day)
			args := make([]any, 2, 2+8*len(g.items))
			args[0], args[1] = len(g.items), g.expiry
			for _, p := range g.items {
				keys = append(keys, p.keys[:]...)
				args = append(args, p.args[:]...)
			}
			cmds[i] = recordScript.EvalSha(ctx, pipe, keys, args...)
		}
		return nil
	})
	noScript := false
	for i, g := range groups {
		res, cerr := cmds[i].Slice()
		for j, p := range g.items {
			p.res, p.err = nil, nil
			switch {
			case cerr != nil:
				p.err = unavailable(cerr)
				noScript = noScript || isNoScript(cerr)
			case j >= len(res):
				p.err = fmt.Errorf("%w: short script reply", store.ErrUnavailable)
			default:
				p.res = res[j]
			}
		}
	}
	if noScript {
		return fmt.Errorf("%w: NOSCRIPT", store.ErrUnavailable)
	}
	return err
}

func isNoScript(err error) bool {
	return err != nil && strings.Contains(err.Error(), "NOSCRIPT")
}
