package consentapi

import (
	"hash/maphash"
	"math"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// limiter is a token bucket per client IP, in memory. IPs are hashed with
// a seed chosen at random when the process starts, so the table holds no
// addresses and the hashes mean nothing outside this process (R35).
type limiter struct {
	rate   float64 // tokens per second
	burst  float64
	now    func() time.Time
	seed   maphash.Seed
	shards [32]limiterShard
}

type limiterShard struct {
	mu      sync.Mutex
	buckets map[uint64]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter(rate float64, burst int, now func() time.Time) *limiter {
	l := &limiter{rate: rate, burst: float64(burst), now: now, seed: maphash.MakeSeed()}
	for i := range l.shards {
		l.shards[i].buckets = map[uint64]*bucket{}
	}
	return l
}

// allow takes a token for ip; when there is none it returns the seconds
// until there will be. An IPv6 client is limited by its /64, the block a
// single subscriber or server is given: counting each address of it apart
// would let one client take 2^64 buckets.
func (l *limiter) allow(ip string) (retryAfter int, ok bool) {
	h := maphash.String(l.seed, ip)
	if strings.IndexByte(ip, ':') >= 0 {
		if a, err := netip.ParseAddr(ip); err == nil && a.Is6() && !a.Is4In6() {
			b := a.As16()
			h = maphash.Bytes(l.seed, b[:8])
		}
	}
	sh := &l.shards[h%uint64(len(l.shards))]
	now := l.now()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	b := sh.buckets[h]
	if b == nil {
		b = &bucket{tokens: l.burst, last: now}
		sh.buckets[h] = b
	}
	b.tokens = math.Min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return 0, true
	}
	return int(math.Ceil((1 - b.tokens) / l.rate)), false
}

// sweep forgets buckets that have refilled: they behave like new ones.
func (l *limiter) sweep() {
	now := l.now()
	for i := range l.shards {
		sh := &l.shards[i]
		sh.mu.Lock()
		for h, b := range sh.buckets {
			if b.tokens+now.Sub(b.last).Seconds()*l.rate >= l.burst {
				delete(sh.buckets, h)
			}
		}
		sh.mu.Unlock()
	}
}
