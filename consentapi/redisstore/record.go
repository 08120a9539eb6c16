package redisstore

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/crumbhq/crumb/consentapi/store"
	"github.com/redis/go-redis/v9"
)

// recordScript appends a batch of decisions of one site, day and banner
// atomically. Each decision is idempotent by event id: SET … NX GET both
// writes the record and, if the event is already recorded, returns the
// stored JSON and writes nothing, so a resent command (go-redis retries a
// command whose reply was lost) or a client retry never duplicates. The
// day's proof-log entries and counters and the banner's expiry are written
// once per batch.
//
// Everything a decision needs is computed in Go and passed as strings, so
// the script does no number formatting and, for a new consent, no string
// building: per decision one SET of the record and one SET of the history.
//
// KEYS: 1 log of the day, 2 counters of the day, 3 banner, then 3 per
// decision: record, consent named by the request (or the new one), consent
// under the new id.
// ARGV: 1 expiry of the day keys (ms), 2 time the banner must outlive
// (ms), then 9 per decision: the record JSON (whole, with the new id, when
// no id is named; else what follows the consent id), consent id named (""
// none), new consent id, time (ms), event id, history token ("ms:event"),
// record expiry (ms), history cutoff (ms: older events are past this
// decision's retention), counter fields
// separated by spaces.
// Returns per decision 1 (recorded under the new id), 2 (recorded under
// the named id), the stored JSON (a replay) or -1 (unknown banner).
//
// A named history holding store.MaxHistory live events (not older than
// the decision's retention) or more is full: the decision starts a new
// history under the new id, as for an unknown id. Live events are counted,
// their records not read; a history longer than historyTail bytes (only
// one written before the bound: this script never appends to a full one)
// is read from its last historyTail bytes, which hold more than MaxHistory
// whole events, and whole only if fewer than MaxHistory of those are live.
// So the check costs O(MaxHistory) even on such a history while it is
// being hammered. An event older than the retention stays in the history
// while its record exists: a record keeps the retention it was written
// with, so after the site's retention is shortened older records outlive
// the new cutoff, and the history must still name them for the visitor's
// export and erasure.
var recordScript = redis.NewScript(strings.NewReplacer(
	"MAX_HISTORY", strconv.Itoa(store.MaxHistory),
	"HISTORY_TAIL", strconv.Itoa(historyTail),
).Replace(`
local n = (#KEYS - 3) / 3
local out = {}
if redis.call('EXISTS', KEYS[3]) == 0 then
  for i = 1, n do out[i] = -1 end
  return out
end
-- The tokens of history h from byte from on, and how many of them are
-- not past cutoff (live). With rprefix, an older token is kept if its
-- record still exists (records written before the site's retention was
-- shortened outlive the cutoff), uncounted; without, only live ones are.
local function live(h, from, cutoff, rprefix)
  local kept, n = {}, 0
  for t in string.gmatch(string.sub(h, from), '%S+') do
    if tonumber(string.match(t, '^%d+')) >= cutoff then
      kept[#kept + 1] = t
      n = n + 1
    elseif rprefix and redis.call('EXISTS', rprefix .. string.match(t, ':(.*)$')) == 1 then
      kept[#kept + 1] = t
    end
  end
  return kept, n
end
-- Expiries only move later: a decision of a shorter retention never
-- shortens what a longer one set.
local function extend(k, at)
  redis.call('PEXPIREAT', k, at, 'NX')
  redis.call('PEXPIREAT', k, at, 'GT')
end
local logArgs, combos = {}, {}
for i = 1, n do
  local k, a = 3 + 3 * (i - 1), 2 + 9 * (i - 1)
  local named, old, kept = ARGV[a + 2], nil, nil
  if named ~= '' then
    local len = redis.call('STRLEN', KEYS[k + 2])
    if len > 0 then
      -- The named history's live events, dropping those past their
      -- retention; nil if it is full.
      local cutoff, cnt = tonumber(ARGV[a + 8]), 0
      if len > HISTORY_TAIL then
        local tail = redis.call('GETRANGE', KEYS[k + 2], -HISTORY_TAIL, -1)
        kept, cnt = live(tail, (string.find(tail, ' ', 1, true) or #tail) + 1, cutoff)
      end
      if cnt < MAX_HISTORY then
        local rprefix = string.sub(KEYS[k + 1], 1, #KEYS[k + 1] - #ARGV[a + 5])
        kept, cnt = live(redis.call('GET', KEYS[k + 2]), 1, cutoff, rprefix)
      end
      if cnt >= MAX_HISTORY then kept = nil end
    end
  end
  if kept then
    old = redis.call('SET', KEYS[k + 1], '{"consent_id":"' .. named .. ARGV[a + 1], 'PXAT', ARGV[a + 7], 'NX', 'GET')
    if not old then
      kept[#kept + 1] = ARGV[a + 6]
      redis.call('SET', KEYS[k + 2], table.concat(kept, ' '), 'KEEPTTL')
      redis.call('PEXPIREAT', KEYS[k + 2], ARGV[a + 7], 'GT')
      out[i] = 2
    end
  else
    local rec = ARGV[a + 1]
    if named ~= '' then rec = '{"consent_id":"' .. ARGV[a + 3] .. rec end
    old = redis.call('SET', KEYS[k + 1], rec, 'PXAT', ARGV[a + 7], 'NX', 'GET')
    if not old then
      redis.call('SET', KEYS[k + 3], ARGV[a + 6], 'PXAT', ARGV[a + 7])
      out[i] = 1
    end
  end
  if old then
    out[i] = old
  else
    logArgs[#logArgs + 1] = ARGV[a + 4]
    logArgs[#logArgs + 1] = ARGV[a + 5]
    local f = ARGV[a + 9]
    combos[f] = (combos[f] or 0) + 1
  end
end
if #logArgs > 0 then
  redis.call('ZADD', KEYS[1], unpack(logArgs))
  extend(KEYS[1], ARGV[1])
  local counts = {}
  for f, c in pairs(combos) do
    for x in string.gmatch(f, '%S+') do counts[x] = (counts[x] or 0) + c end
  end
  for x, c in pairs(counts) do redis.call('HINCRBY', KEYS[2], x, c) end
  extend(KEYS[2], ARGV[1])
  local t = redis.call('PEXPIRETIME', KEYS[3])
  if t >= 0 and t < tonumber(ARGV[2]) then redis.call('PEXPIREAT', KEYS[3], ARGV[2]) end
end
return out
`))

// historyTail is how many bytes at the end of a history hold more than
// store.MaxHistory whole tokens: a token is at most 13 digits of ms, ":",
// an event id of at most 64 characters and a space.
const historyTail = (store.MaxHistory + 2) * (13 + 1 + 64 + 1)

// Shapes of recordScript's keys and arguments.
const (
	scriptKeys     = 3 // before the decisions'
	scriptArgs     = 2
	keysPerRecord  = 3
	argsPerRecord  = 9
	bannerOutlives = 24 * time.Hour // a banner outlives its last record by a day
)

// jsonHead is how every record's JSON starts: the consent id comes first so
// the script can put in the id it chooses.
const jsonHead = `{"consent_id":"`

// pending is a decision waiting for its batch. Pendings are pooled; a
// decision's keys and string arguments are slices of one string built in
// buf, and the script's arguments are passed to go-redis as pointers into
// the pending, so queueing a decision allocates little.
type pending struct {
	site, banner    string
	day             time.Time // UTC midnight of the decision's day
	dayExpiry, keep int64     // ms: day keys' expiry, banner kept until
	deadline        time.Time // answer by then, recorded or not
	buf             []byte    // reused to build text
	keys            [keysPerRecord]string
	// The script arguments: value, named, new id, event, token, fields
	// (strs) and time, record expiry, history cutoff (ms).
	strs           [6]string
	at, del, since int64
	res            any
	err            error
	done           chan struct{} // receives once the batch is answered
}

var pendingPool = sync.Pool{New: func() any { return &pending{done: make(chan struct{}, 1)} }}

// Record implements store.ConsentStore. The decision joins the next
// pipelined batch; Record returns when that batch has been answered, or
// with store.ErrUnavailable once the store's timeout (or ctx's deadline,
// if earlier) has passed.
func (s *Store) Record(ctx context.Context, d store.Decision) (store.Record, bool, error) {
	p := pendingPool.Get().(*pending)
	p.prepare(d)
	p.deadline = time.Now().Add(s.opts.OpTimeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(p.deadline) {
		p.deadline = dl
	}
	if err := s.enqueue(ctx, p); err != nil {
		pendingPool.Put(p)
		return store.Record{}, false, fmt.Errorf("record: %w", err)
	}
	if ctx.Done() == nil {
		// The committer answers every decision by its deadline.
		<-p.done
	} else {
		select {
		case <-p.done:
		case <-ctx.Done():
			// The batch may still commit; a retry with the same event id
			// returns that record instead of writing another. p stays
			// with the committer.
			return store.Record{}, false, fmt.Errorf("record: %w: %w", store.ErrUnavailable, ctx.Err())
		}
	}
	res, err := p.res, p.err
	p.res, p.err = nil, nil
	pendingPool.Put(p)
	if err != nil {
		return store.Record{}, false, fmt.Errorf("record: %w", err)
	}
	return decodeResult(res, d)
}

// prepare fills p with d's keys and script arguments.
func (p *pending) prepare(d store.Decision) {
	named := d.ConsentID
	if named == "" {
		named = d.NewConsentID // a key in the slot that the script never reads
	}
	// One buffer holds every string; ends marks where each one ends.
	var ends [keysPerRecord + len(p.strs)]int
	b := p.buf[:0]
	b = appendKey(b, d.Site, recordKind, d.EventID)
	ends[0] = len(b)
	b = appendKey(b, d.Site, consentKind, named)
	ends[1] = len(b)
	b = appendKey(b, d.Site, consentKind, d.NewConsentID)
	ends[2] = len(b)
	// The record JSON: with the new id when no id is named, else what
	// follows the consent id (the script puts in the id it chooses).
	if d.ConsentID == "" {
		b = append(b, jsonHead...)
		b = append(b, d.NewConsentID...)
	}
	rec := d.Record
	rec.ConsentID = ""
	start := len(b)
	b = rec.AppendJSON(b) // {"consent_id":"",…: drop its head
	b = append(b[:start], b[start+len(jsonHead):]...)
	ends[3] = len(b)
	b = append(b, d.ConsentID...)
	ends[4] = len(b)
	b = append(b, d.NewConsentID...)
	ends[5] = len(b)
	b = append(b, d.EventID...)
	ends[6] = len(b)
	p.at = d.RecordedAt.UnixMilli()
	b = strconv.AppendInt(b, p.at, 10)
	b = append(b, ':')
	b = append(b, d.EventID...)
	ends[7] = len(b)
	b = appendCounterFields(b, d)
	ends[8] = len(b)
	p.buf = b

	text := string(b)
	for i, start := 0, 0; i < len(ends); i++ {
		if i < keysPerRecord {
			p.keys[i] = text[start:ends[i]]
		} else {
			p.strs[i-keysPerRecord] = text[start:ends[i]]
		}
		start = ends[i]
	}
	p.del = d.DeleteAt().UnixMilli()
	p.since = p.at - d.Retention.Milliseconds()
	p.site, p.banner = d.Site, d.Banner
	p.day = d.RecordedAt.UTC().Truncate(24 * time.Hour)
	p.dayExpiry = store.DayEnd(d.RecordedAt).Add(d.Retention).UnixMilli()
	p.keep = p.del + bannerOutlives.Milliseconds()
}

// appendArgs appends p's script arguments, as pointers into p.
func (p *pending) appendArgs(args []any) []any {
	return append(args, &p.strs[0], &p.strs[1], &p.strs[2], &p.at, &p.strs[3], &p.strs[4], &p.del, &p.since, &p.strs[5])
}

// appendCounterFields appends the aggregate fields a decision increments,
// separated by spaces, in a stable order so that equal decisions give
// equal strings.
func appendCounterFields(b []byte, d store.Decision) []byte {
	cats := make([]string, 0, 8)
	for c := range d.Categories {
		cats = append(cats, c)
	}
	slices.Sort(cats)
	b = append(b, actionField(d.Action)...)
	for _, c := range cats {
		b = append(b, ' ')
		b = append(b, categoryField(c, d.Categories[c])...)
	}
	return b
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
