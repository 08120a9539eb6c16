package redisstore

import (
	"context"
	"errors"
	"math"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// durableDesc describes crumb_store_durable.
var durableDesc = prometheus.NewDesc("crumb_store_durable",
	"1 when every Redis master has append-only persistence on and an appendfsync at least as strong as crumb serve requires (-redis-fsync), 0 when one does not, NaN when Redis cannot be reached. Read on each scrape.",
	nil, nil)

// DurabilityCollector exports crumb_store_durable for s, checked as New
// checks at start, so that a Redis switched to weaker persistence while
// crumb runs (CONFIG SET appendfsync everysec) is noticed. s may be nil
// for Describe alone.
func DurabilityCollector(s *Store) prometheus.Collector { return durability{s} }

type durability struct{ s *Store }

func (d durability) Describe(ch chan<- *prometheus.Desc) { ch <- durableDesc }

func (d durability) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	v := 1.0
	switch err := CheckPersistence(ctx, d.s.c, d.s.opts.Fsync); {
	case errors.Is(err, ErrNoAOF), errors.Is(err, ErrWeakFsync):
		v = 0
	case err != nil:
		v = math.NaN()
	}
	ch <- prometheus.MustNewConstMetric(durableDesc, prometheus.GaugeValue, v)
}
