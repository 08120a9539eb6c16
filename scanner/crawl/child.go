package crawl

import (
	"context"
	"sync"

	"github.com/chromedp/cdproto"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
)

// caller is a DevTools session commands can be sent on: a tab's
// *chromedp.Target or a *childSession.
type caller interface {
	Call(ctx context.Context, method string, params, res any) error
}

// send runs a typed command on s.
func send[P, R any](ctx context.Context, s caller, cmd cdp.Command[P, R], params P) (R, error) {
	var res R
	err := s.Call(ctx, cmd.Method, params, &res)
	return res, err
}

// childSession is the crawler's session with a target Chromium
// auto-attached under a tab: a cross-site iframe, a worker, or a nested
// frame of those. It starts paused; run lets it go.
type childSession struct {
	mux    *sessionMux
	id     target.SessionID
	info   *target.Info
	parent target.SessionID // the session that announced it
	tab    target.SessionID // the tab it belongs to

	gone      chan struct{}
	closeOnce sync.Once
	queue     eventQueue
}

// Call sends a command on the child's session.
func (c *childSession) Call(ctx context.Context, method string, params, res any) error {
	return c.mux.call(ctx, c.id, c.gone, method, params, res)
}

// run lets a child that waits for the debugger start.
func (c *childSession) run(ctx context.Context) error {
	return c.Call(ctx, runtime.RunIfWaitingForDebugger.Method, nil, nil)
}

// listen calls fn, on a goroutine of the child's own, with every event of
// the child in order, decoded as chromedp's listeners get them. Events that
// arrived before listen was called are delivered first.
func (c *childSession) listen(fn func(ev any)) {
	go func() {
		for {
			msg, ok := c.queue.pop()
			if !ok {
				return
			}
			ev, err := cdproto.UnmarshalMessage(msg, chromedp.DefaultUnmarshalOptions)
			if err == nil {
				fn(ev)
			}
		}
	}()
}

// close marks the session gone; calls on it fail and listen returns.
func (c *childSession) close() {
	c.closeOnce.Do(func() {
		close(c.gone)
		c.queue.close()
	})
}

// eventQueue is an unbounded FIFO of messages: the mux's reader must never
// block on a slow listener.
type eventQueue struct {
	mu     sync.Mutex
	items  []*cdproto.Message
	ready  chan struct{}
	closed bool
}

func (q *eventQueue) init() { q.ready = make(chan struct{}, 1) }

func (q *eventQueue) push(m *cdproto.Message) {
	q.mu.Lock()
	if !q.closed {
		q.items = append(q.items, m)
	}
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// pop waits for the next message; ok is false once the queue is closed and
// drained.
func (q *eventQueue) pop() (*cdproto.Message, bool) {
	for {
		q.mu.Lock()
		if len(q.items) > 0 {
			m := q.items[0]
			q.items[0] = nil
			q.items = q.items[1:]
			q.mu.Unlock()
			return m, true
		}
		closed := q.closed
		q.mu.Unlock()
		if closed {
			return nil, false
		}
		<-q.ready
	}
}

func (q *eventQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
}
