package redisstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/crumbhq/crumb/consentapi/store"
	"github.com/redis/go-redis/v9"
)

// recordScript appends one decision atomically. It is idempotent by event
// id: if the record key exists it returns {0, stored JSON} and writes
// nothing, so a resent command (go-redis retries a command whose reply was
// lost) or a client retry never duplicates.
//
// KEYS: 1 record, 2 banner, 3 consent named by the request (or a dummy),
// 4 consent under the new id, 5 log of the day, 6 counters of the day.
// ARGV: 1 record JSON after the consent id, 2 consent id named ("" none),
// 3 new consent id, 4 event id, 5 time (ms), 6 record expiry (ms),
// 7 retention (ms), 8 day keys' expiry (ms), 9… counter fields.
// Returns {1, consent id}, {0, stored JSON} or {-1} for an unknown banner.
var recordScript = redis.NewScript(`
local old = redis.call('GET', KEYS[1])
if old then return {0, old} end
if redis.call('EXISTS', KEYS[2]) == 0 then return {-1} end
local now, del = tonumber(ARGV[5]), tonumber(ARGV[6])
local id, ckey = ARGV[3], KEYS[4]
if ARGV[2] ~= '' and redis.call('EXISTS', KEYS[3]) == 1 then id, ckey = ARGV[2], KEYS[3] end
redis.call('SET', KEYS[1], '{"consent_id":"' .. id .. ARGV[1], 'PXAT', del)
redis.call('ZREMRANGEBYSCORE', ckey, '-inf', '(' .. (now - tonumber(ARGV[7])))
redis.call('ZADD', ckey, now, ARGV[4])
if redis.call('PEXPIRETIME', ckey) < del then redis.call('PEXPIREAT', ckey, del) end
local bexp = redis.call('PEXPIRETIME', KEYS[2])
if bexp >= 0 and bexp < del then redis.call('PEXPIREAT', KEYS[2], del + 86400000) end
redis.call('ZADD', KEYS[5], now, ARGV[4])
redis.call('PEXPIREAT', KEYS[5], ARGV[8])
for i = 9, #ARGV do redis.call('HINCRBY', KEYS[6], ARGV[i], 1) end
redis.call('PEXPIREAT', KEYS[6], ARGV[8])
return {1, id}
`)

// jsonHead is how every record's JSON starts: the consent id comes first so
// the script can put in the id it chooses.
const jsonHead = `{"consent_id":"`

// pending is a decision waiting for its batch.
type pending struct {
	keys []string
	args []any
	res  []any
	err  error
	done chan struct{}
}

// Record implements store.ConsentStore. The decision joins the next
// pipelined batch; Record returns when that batch has been answered.
func (s *Store) Record(ctx context.Context, d store.Decision) (store.Record, bool, error) {
	rec := d.Record
	rec.ConsentID = ""
	body, err := json.Marshal(&rec)
	if err != nil {
		return store.Record{}, false, fmt.Errorf("record: %w", err)
	}
	rest := string(body[len(jsonHead):])
	day := store.Day(d.RecordedAt)
	named := d.ConsentID
	if named == "" {
		named = d.NewConsentID // a key in the slot that the script never reads
	}
	p := &pending{
		keys: []string{
			recordKey(d.Site, d.EventID), bannerKey(d.Site, d.Banner), consentKey(d.Site, named),
			consentKey(d.Site, d.NewConsentID), logKey(d.Site, day), aggKey(d.Site, day),
		},
		args: make([]any, 0, 9+len(d.Categories)),
		done: make(chan struct{}),
	}
	p.args = append(p.args, rest, d.ConsentID, d.NewConsentID, d.EventID, d.RecordedAt.UnixMilli(),
		d.DeleteAt().UnixMilli(), d.Retention.Milliseconds(), store.DayEnd(d.RecordedAt).Add(d.Retention).UnixMilli(),
		actionField(d.Action))
	for c, g := range d.Categories {
		p.args = append(p.args, categoryField(c, g))
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
	return decodeResult(p.res, rec, rest)
}

// decodeResult turns the script's answer into the record.
func decodeResult(res []any, rec store.Record, rest string) (store.Record, bool, error) {
	code, _ := res[0].(int64)
	switch code {
	case 1:
		rec.ConsentID, _ = res[1].(string)
		return rec, true, nil
	case 0:
		stored, _ := res[1].(string)
		var old store.Record
		if err := json.Unmarshal([]byte(stored), &old); err != nil {
			return store.Record{}, false, fmt.Errorf("record: decode stored record: %w", err)
		}
		return old, false, nil
	default:
		return store.Record{}, false, store.ErrUnknownBanner
	}
}

// commitLoop takes decisions off the queue and sends all that are waiting,
// up to MaxBatch, as one pipeline: while one batch is on the wire the next
// one gathers, so the wait is bounded by one round trip.
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

// commit runs one batch. Decisions whose caller has given up are still
// sent (they may already be acknowledged to nobody, but a retry finds
// them); the pipeline has its own deadline.
func (s *Store) commit(batch []*pending) {
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.OpTimeout)
	defer cancel()
	err := s.exec(ctx, batch)
	if err != nil && isNoScript(err) {
		// The server lost its scripts (restart, failover, SCRIPT FLUSH):
		// load them and resend; the script is idempotent.
		if lerr := loadScript(ctx, s.c, recordScript); lerr == nil {
			err = s.exec(ctx, batch)
		}
	}
	for _, p := range batch {
		if p.err == nil && err != nil {
			p.err = unavailable(err)
		}
		close(p.done)
	}
}

// exec sends the batch as one pipeline of EVALSHA and stores each answer.
func (s *Store) exec(ctx context.Context, batch []*pending) error {
	cmds := make([]*redis.Cmd, len(batch))
	_, err := s.c.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		for i, p := range batch {
			cmds[i] = recordScript.EvalSha(ctx, pipe, p.keys, p.args...)
		}
		return nil
	})
	for i, p := range batch {
		p.res, p.err = nil, nil
		res, cerr := cmds[i].Slice()
		switch {
		case cerr != nil:
			p.err = unavailable(cerr)
		case len(res) == 0:
			p.err = fmt.Errorf("%w: empty script reply", store.ErrUnavailable)
		default:
			p.res = res
		}
	}
	if err != nil {
		return err
	}
	for _, p := range batch {
		if p.err != nil && isNoScript(p.err) {
			return p.err
		}
	}
	return nil
}

func isNoScript(err error) bool {
	return err != nil && strings.Contains(err.Error(), "NOSCRIPT")
}
