package crawl

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/chromedp/cdproto"
	jsonv2 "github.com/chromedp/cdproto/cdp/jsonv2"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
)

// sessionMux is the chromedp.Transport between chromedp and the browser. It
// passes every message through, except those of the child targets Chromium
// auto-attaches to a tab (cross-site iframes and workers): chromedp ignores
// those targets, so the mux gives the crawler its own sessions for them. The
// crawler asks for them paused (waitForDebuggerOnStart), installs its hooks,
// then lets them run.
//
// The mux's own commands use ids from idBase up, far above chromedp's, so
// their replies are told apart by id alone.
type sessionMux struct {
	tr     chromedp.Transport
	nextID atomic.Int64

	mu       sync.Mutex
	pending  map[int64]chan *cdproto.Message
	children map[target.SessionID]*childSession
	tabs     map[target.SessionID]func(*childSession)
	dead     chan struct{}
	deadErr  error
}

// idBase leaves chromedp a billion ids; Chromium rejects ids beyond int32.
const idBase = 1 << 30

func newSessionMux(tr chromedp.Transport) *sessionMux {
	m := &sessionMux{
		tr:       tr,
		pending:  map[int64]chan *cdproto.Message{},
		children: map[target.SessionID]*childSession{},
		tabs:     map[target.SessionID]func(*childSession){},
		dead:     make(chan struct{}),
	}
	m.nextID.Store(idBase)
	return m
}

// Read returns the next message for chromedp, routing the mux's own
// messages to their sessions on the way.
func (m *sessionMux) Read(ctx context.Context, msg *cdproto.Message) error {
	for {
		if err := m.tr.Read(ctx, msg); err != nil {
			m.fail(err)
			return err
		}
		if !m.route(msg) {
			return nil
		}
		*msg = cdproto.Message{}
	}
}

// Write sends a message from chromedp.
func (m *sessionMux) Write(ctx context.Context, msg *cdproto.Message) error {
	return m.tr.Write(ctx, msg)
}

// Close closes the connection to the browser.
func (m *sessionMux) Close() error {
	m.fail(errors.New("connection closed"))
	return m.tr.Close()
}

// watch makes the mux hand each child target auto-attached under the tab
// session to attach, on a goroutine of its own. The child is paused until
// attach calls its run method.
func (m *sessionMux) watch(tab target.SessionID, attach func(*childSession)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tabs[tab] = attach
}

// unwatch forgets the tab and closes all of its children's sessions.
func (m *sessionMux) unwatch(tab target.SessionID) {
	m.mu.Lock()
	delete(m.tabs, tab)
	var gone []*childSession
	for id, c := range m.children {
		if c.tab == tab {
			delete(m.children, id)
			gone = append(gone, c)
		}
	}
	m.mu.Unlock()
	for _, c := range gone {
		c.close()
	}
}

// route handles a message that belongs to the mux and reports whether it
// did.
func (m *sessionMux) route(msg *cdproto.Message) bool {
	if msg.ID >= idBase {
		m.mu.Lock()
		ch := m.pending[msg.ID]
		m.mu.Unlock()
		if ch != nil {
			ch <- clone(msg)
		}
		return true
	}
	if msg.SessionID == "" {
		return false
	}
	switch msg.Method {
	case cdproto.EventTargetAttachedToTarget:
		m.attached(msg)
		return true
	case cdproto.EventTargetDetachedFromTarget:
		var ev target.EventDetachedFromTarget
		if jsonv2.Unmarshal(msg.Params, &ev, chromedp.DefaultUnmarshalOptions) == nil {
			m.mu.Lock()
			c := m.children[ev.SessionID]
			delete(m.children, ev.SessionID)
			m.mu.Unlock()
			if c != nil {
				c.close()
			}
		}
		return true
	}
	m.mu.Lock()
	c := m.children[msg.SessionID]
	m.mu.Unlock()
	if c == nil {
		return false
	}
	if msg.Method != "" {
		c.queue.push(clone(msg))
	}
	return true
}

// attached registers a child session announced on a tab's or another
// child's session, and hands it to the tab's handler. A child with no
// handler is let run at once.
func (m *sessionMux) attached(msg *cdproto.Message) {
	var ev target.EventAttachedToTarget
	if err := jsonv2.Unmarshal(msg.Params, &ev, chromedp.DefaultUnmarshalOptions); err != nil || ev.TargetInfo == nil {
		return
	}
	c := &childSession{mux: m, id: ev.SessionID, info: ev.TargetInfo, parent: msg.SessionID, gone: make(chan struct{})}
	c.queue.init()
	m.mu.Lock()
	tab := msg.SessionID
	if p := m.children[msg.SessionID]; p != nil {
		tab = p.tab
	}
	c.tab = tab
	handler := m.tabs[tab]
	m.children[c.id] = c
	m.mu.Unlock()
	if handler == nil {
		go func() { _ = c.run(context.Background()) }()
		return
	}
	go handler(c)
}

// call sends a command on session sid and decodes its result into res.
func (m *sessionMux) call(ctx context.Context, sid target.SessionID, gone <-chan struct{}, method string, params, res any) error {
	var buf []byte
	if params != nil {
		var err error
		if buf, err = jsonv2.Marshal(params, chromedp.DefaultMarshalOptions); err != nil {
			return fmt.Errorf("%s: %w", method, err)
		}
	}
	id := m.nextID.Add(1)
	ch := make(chan *cdproto.Message, 1)
	m.mu.Lock()
	m.pending[id] = ch
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		delete(m.pending, id)
		m.mu.Unlock()
	}()
	msg := &cdproto.Message{ID: id, SessionID: sid, Method: cdproto.MethodType(method), Params: buf}
	if err := m.tr.Write(ctx, msg); err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	select {
	case reply := <-ch:
		if reply.Error != nil {
			return fmt.Errorf("%s: %w", method, reply.Error)
		}
		if res != nil {
			return jsonv2.Unmarshal(reply.Result, res, chromedp.DefaultUnmarshalOptions)
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-gone:
		return fmt.Errorf("%s: %w", method, errSessionGone)
	case <-m.dead:
		return fmt.Errorf("%s: %w", method, m.deadErr)
	}
}

// fail marks the connection dead, ending every call that waits.
func (m *sessionMux) fail(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	select {
	case <-m.dead:
	default:
		m.deadErr = err
		close(m.dead)
	}
}

func clone(msg *cdproto.Message) *cdproto.Message {
	c := *msg
	c.Params = append(jsonv2.Value(nil), msg.Params...)
	c.Result = append(jsonv2.Value(nil), msg.Result...)
	return &c
}

// errSessionGone is returned by calls on a child session that detached.
var errSessionGone = errors.New("session detached")

// childrenOf returns the live child sessions of a tab.
func (m *sessionMux) childrenOf(tab target.SessionID) []*childSession {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*childSession
	for _, c := range m.children {
		if c.tab == tab {
			out = append(out, c)
		}
	}
	return out
}
