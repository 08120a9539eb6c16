package schedule

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/crumbhq/crumb/consentapi/jobqueue"
	"github.com/crumbhq/crumb/scanner"
)

// ScanFunc runs the scan a job asks for. It must return soon after ctx
// ends: ctx ends when the worker stops or loses the job's lease.
type ScanFunc func(ctx context.Context, job jobqueue.Job) (*scanner.Report, error)

// DoneFunc takes a finished scan's report: stores it, compares it with the
// previous one, notifies the site owner. It runs before the job is acked,
// at most once per delivery, and must be idempotent per job.ID: a job whose
// worker died after DoneFunc but before the ack is run again.
type DoneFunc func(ctx context.Context, job jobqueue.Job, report *scanner.Report) error

// DeadFunc is told that a job failed on its last attempt, with the error.
type DeadFunc func(ctx context.Context, job jobqueue.Job, err error)

// Worker takes scan jobs from a queue one at a time and runs them. Run as
// many Workers as scans may run at once, each with its own Name.
type Worker struct {
	Queue jobqueue.Queue
	// Name identifies the worker to the queue; unique among all workers
	// (host, process and index, for example).
	Name string
	Scan ScanFunc
	Done DoneFunc // nil: the report is dropped
	Dead DeadFunc // nil: nobody is told
	// Options are the queue's: the worker extends its lease every third of
	// Visibility and knows a job's last attempt by MaxAttempts.
	Options jobqueue.Options
	// Timeout bounds one scan; default 30 minutes.
	Timeout time.Duration
	Now     func() time.Time // default time.Now
	Logger  *slog.Logger     // default slog.Default()
	Metrics *Metrics         // nil for none
}

// Scan outcomes, as counted by crumb_scans_total.
const (
	OutcomeOK        = "ok"        // scanned and handed on
	OutcomeFailed    = "failed"    // failed; the queue retries it
	OutcomeDead      = "dead"      // failed on its last attempt
	OutcomeAbandoned = "abandoned" // lease lost or worker stopped mid-scan; another worker takes over
)

// Run takes and runs jobs until ctx ends or the queue closes, then returns
// nil. A scan in progress when ctx ends is abandoned, not failed: the job
// is released to the queue, so another worker runs it again at once as the
// same attempt (or, if the release fails, once its lease runs out).
func (w *Worker) Run(ctx context.Context) error {
	o, err := w.Options.WithDefaults()
	if err != nil {
		return err
	}
	w.Options = o
	log := w.logger().With("worker", w.Name)
	for {
		d, err := w.Queue.Receive(ctx, w.Name)
		switch {
		case ctx.Err() != nil, errors.Is(err, jobqueue.ErrClosed):
			return nil
		case err != nil:
			log.Warn("receive scan job", "err", err)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(time.Second):
			}
			continue
		}
		w.handle(ctx, d, log.With("site", d.Job.Site, "job", d.Job.ID, "attempt", d.Attempt))
	}
}

// handle runs one delivery to its end: acked, failed, or abandoned.
func (w *Worker) handle(ctx context.Context, d jobqueue.Delivery, log *slog.Logger) {
	start := w.now()
	log.Info("scan started", "reason", d.Job.Reason, "waited", start.Sub(d.EnqueuedAt).Round(time.Millisecond))
	jobCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	jobCtx, stop := context.WithTimeout(jobCtx, cmp.Or(w.Timeout, 30*time.Minute))
	defer stop()
	beat := w.heartbeat(jobCtx, d, cancel, log)
	report, err := w.Scan(jobCtx, d.Job)
	stopBeat := beat()
	abandoned := func(why string) {
		log.Warn("scan abandoned", "why", why)
		w.Metrics.scanned(d.Job.Site, OutcomeAbandoned, w.now().Sub(start), nil)
	}
	stopping := func() {
		if err := w.release(ctx, d); err != nil {
			log.Warn("scan abandoned; could not release the job, another worker takes it when its lease runs out",
				"why", "worker stopping", "err", err, "visibility", w.Options.Visibility)
		} else {
			log.Warn("scan abandoned; job released to another worker", "why", "worker stopping")
		}
		w.Metrics.scanned(d.Job.Site, OutcomeAbandoned, w.now().Sub(start), nil)
	}
	switch {
	case ctx.Err() != nil:
		stopping()
		return
	case errors.Is(stopBeat, jobqueue.ErrLeaseLost):
		abandoned("lease lost")
		return
	case err == nil && report == nil:
		err = errors.New("scan returned no report")
	}
	if err == nil && w.Done != nil {
		// Confirm the lease just before handing the report on, so a worker
		// that lost it does not store a result twice.
		if err := w.Queue.Extend(ctx, d); err != nil {
			abandoned(err.Error())
			return
		}
		if err = w.Done(ctx, d.Job, report); err != nil {
			err = fmt.Errorf("store scan: %w", err)
		}
	}
	if err != nil && ctx.Err() != nil {
		// Storing failed as the worker stops: most likely because it stops.
		stopping()
		return
	}
	if err != nil {
		w.fail(ctx, d, err, start, log)
		return
	}
	// The result is stored: ack it even if the worker is stopping now, or
	// the whole scan would run again.
	actx, cancelAck := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
	defer cancelAck()
	if err := w.Queue.Ack(actx, d); err != nil {
		abandoned(err.Error())
		return
	}
	w.Metrics.scanned(d.Job.Site, OutcomeOK, w.now().Sub(start), report)
	log.Info("scan finished", "pages", len(report.Pages), "items", len(report.Items), "took", w.now().Sub(start).Round(time.Millisecond))
}

func (w *Worker) fail(ctx context.Context, d jobqueue.Delivery, cause error, start time.Time, log *slog.Logger) {
	last := d.Attempt >= w.Options.MaxAttempts
	if err := w.Queue.Fail(ctx, d, cause); err != nil {
		log.Warn("scan failed; could not record it", "err", cause, "record_err", err)
		w.Metrics.scanned(d.Job.Site, OutcomeAbandoned, w.now().Sub(start), nil)
		return
	}
	if !last {
		log.Warn("scan failed; will retry", "err", cause)
		w.Metrics.scanned(d.Job.Site, OutcomeFailed, w.now().Sub(start), nil)
		return
	}
	log.Error("scan failed on its last attempt; moved to dead letters", "err", cause)
	w.Metrics.scanned(d.Job.Site, OutcomeDead, w.now().Sub(start), nil)
	if w.Dead != nil {
		w.Dead(ctx, d.Job, cause)
	}
}

// releaseTimeout bounds the release or ack of a job when the worker stops,
// so that an unreachable queue delays the process's exit by at most this.
const releaseTimeout = 2 * time.Second

// release gives d's job back to the queue. ctx has ended (the worker is
// stopping), so the call runs on its own short deadline.
func (w *Worker) release(ctx context.Context, d jobqueue.Delivery) error {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
	defer cancel()
	return w.Queue.Release(rctx, d)
}

// heartbeat extends the lease every third of the visibility timeout until
// the returned stop is called; stop returns ErrLeaseLost if the lease was
// lost, after which the scan's context was cancelled.
func (w *Worker) heartbeat(ctx context.Context, d jobqueue.Delivery, cancel context.CancelCauseFunc, log *slog.Logger) (stop func() error) {
	done, finished := make(chan struct{}), make(chan error, 1)
	go func() {
		t := time.NewTicker(w.Options.Visibility / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				finished <- nil
				return
			case <-ctx.Done():
				finished <- nil
				return
			case <-t.C:
			}
			err := w.Queue.Extend(ctx, d)
			switch {
			case errors.Is(err, jobqueue.ErrLeaseLost):
				cancel(err)
				finished <- err
				return
			case err != nil && ctx.Err() == nil:
				log.Warn("extend scan lease", "err", err)
			}
		}
	}()
	return func() error {
		close(done)
		return <-finished
	}
}

func (w *Worker) now() time.Time { return nowOf(w.Now) }

func (w *Worker) logger() *slog.Logger { return loggerOf(w.Logger) }
