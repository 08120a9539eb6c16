package jobqueue

import (
	"errors"
	"time"
)

// Defaults for Options.
const (
	DefaultVisibility   = 10 * time.Minute
	DefaultMaxAttempts  = 5
	DefaultRetryBackoff = time.Minute
	DefaultPoll         = time.Second
	DefaultDeadMax      = 10000
)

// Options tune a queue; both implementations read the same fields. The
// zero value of each field means its default.
type Options struct {
	// Visibility is how long a delivery's lease lasts without Extend: a
	// worker that dies is noticed this long after its last Extend. Workers
	// extend every third of it.
	Visibility time.Duration
	// MaxAttempts is how many deliveries a job gets before it moves to the
	// dead-letter list.
	MaxAttempts int
	// RetryBackoff is the wait after a job's first failure; it doubles on
	// each further failure, up to Visibility.
	RetryBackoff time.Duration
	// Poll is how often a waiting Receive looks for expired leases.
	Poll time.Duration
	// DeadMax bounds the dead-letter list; the oldest entries go first.
	DeadMax int
}

// WithDefaults returns o with every zero field set to its default, or an
// error naming a negative one.
func (o Options) WithDefaults() (Options, error) {
	if o.Visibility < 0 || o.MaxAttempts < 0 || o.RetryBackoff < 0 || o.Poll < 0 || o.DeadMax < 0 {
		return o, errors.New("queue options: negative value")
	}
	if o.Visibility == 0 {
		o.Visibility = DefaultVisibility
	}
	if o.MaxAttempts == 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.RetryBackoff == 0 {
		o.RetryBackoff = DefaultRetryBackoff
	}
	if o.Poll == 0 {
		o.Poll = min(DefaultPoll, o.Visibility/2)
	}
	if o.DeadMax == 0 {
		o.DeadMax = DefaultDeadMax
	}
	return o, nil
}

// Backoff returns how long a job waits after failing on attempt (1-based):
// RetryBackoff doubled for each attempt before it, at most Visibility.
func (o Options) Backoff(attempt int) time.Duration {
	d := o.RetryBackoff
	for i := 1; i < attempt && d < o.Visibility; i++ {
		d *= 2
	}
	return min(d, o.Visibility)
}
