package crawl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/target"
)

// The browser steps of a page visit. Each is a small function on a session
// (the tab's target or a child session), so the same step serves the page
// and its cross-site iframes.

var yes = true

// installHooks makes every document the session loads from now on report
// its script writes (hook.js) through the binding.
func installHooks(ctx context.Context, s caller, binding string) error {
	if _, err := send(ctx, s, runtime.AddBinding, runtime.AddBindingParams{Name: binding}); err != nil {
		return fmt.Errorf("add binding: %w", err)
	}
	if _, err := send(ctx, s, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: hookScript(binding)}); err != nil {
		return fmt.Errorf("install hook: %w", err)
	}
	return nil
}

// pauseChildren makes Chromium attach the session's iframes and workers
// paused, so their hooks go in before their scripts run.
func pauseChildren(ctx context.Context, s caller) error {
	_, err := send(ctx, s, target.SetAutoAttach, target.SetAutoAttachParams{AutoAttach: true, WaitForDebuggerOnStart: true, Flatten: &yes})
	if err != nil {
		return fmt.Errorf("auto-attach: %w", err)
	}
	return nil
}

// setUserAgent presents the browser without "HeadlessChrome", as a visitor's
// browser; some sites serve headless browsers differently.
func setUserAgent(ctx context.Context, s caller, ua string) error {
	if ua == "" {
		return nil
	}
	_, err := send(ctx, s, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: ua})
	return err
}

// setupTab prepares a fresh tab before its first navigation.
func setupTab(ctx context.Context, s caller, binding, ua string) error {
	if err := installHooks(ctx, s, binding); err != nil {
		return err
	}
	if err := pauseChildren(ctx, s); err != nil {
		return err
	}
	if _, err := send(ctx, s, fetch.Enable, fetch.EnableParams{Patterns: guardPatterns}); err != nil {
		return fmt.Errorf("enable guard: %w", err)
	}
	return setUserAgent(ctx, s, ua)
}

// setupChild prepares a paused child target and lets it run. An iframe
// gets the hooks, network events and its own children paused; a worker
// gets network events. It always lets the child run, even after an error,
// so no frame of the page stays frozen.
func setupChild(ctx context.Context, c *childSession, binding, ua string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var err error
	switch c.info.Type {
	case "iframe":
		err = errors.Join(
			call0(ctx, c, page.Enable.Method, page.EnableParams{}),
			call0(ctx, c, runtime.Enable.Method, nil),
			installHooks(ctx, c, binding),
			call0(ctx, c, network.Enable.Method, network.EnableParams{}),
			setUserAgent(ctx, c, ua),
			pauseChildren(ctx, c),
		)
	case "worker", "shared_worker", "service_worker":
		err = call0(ctx, c, network.Enable.Method, network.EnableParams{})
	}
	return errors.Join(err, c.run(ctx))
}

func call0(ctx context.Context, s caller, method string, params any) error {
	if err := s.Call(ctx, method, params, nil); err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	return nil
}

// navigate starts loading u in the tab's main frame. It returns when the
// response has arrived (or the navigation failed), not when the page has
// loaded.
func navigate(ctx context.Context, s caller, u string) error {
	res, err := send(ctx, s, page.Navigate, page.NavigateParams{URL: u})
	if err != nil {
		return err
	}
	if res.ErrorText != "" {
		return errors.New(res.ErrorText)
	}
	return nil
}

// evalIn runs a script in an isolated world of frame (so the page cannot
// tamper with it), waits for its promise, and decodes its value into T.
func evalIn[T any](ctx context.Context, s caller, frame cdp.FrameID, expr string) (T, error) {
	w, err := send(ctx, s, page.CreateIsolatedWorld, page.CreateIsolatedWorldParams{FrameID: frame, WorldName: "crumb-scan"})
	if err != nil {
		var zero T
		return zero, fmt.Errorf("isolated world: %w", err)
	}
	return evaluate[T](ctx, s, w.ExecutionContextID, expr)
}

// evalMain is evalIn in the page's own world of its main frame, for
// scripts that need the page's globals (a consent platform's API).
func evalMain[T any](ctx context.Context, s caller, expr string) (T, error) {
	return evaluate[T](ctx, s, 0, expr)
}

// evaluate runs expr in the execution context world (0: the main frame's
// page world), waits for its promise, and decodes its value into T.
func evaluate[T any](ctx context.Context, s caller, world runtime.ExecutionContextID, expr string) (T, error) {
	var zero T
	timeout := runtime.TimeDelta(5000)
	if d, ok := ctx.Deadline(); ok {
		timeout = runtime.TimeDelta(max(100, time.Until(d).Milliseconds()))
	}
	res, err := send(ctx, s, runtime.Evaluate, runtime.EvaluateParams{
		Expression: expr, ContextID: world, AwaitPromise: &yes, ReturnByValue: &yes, Timeout: timeout,
	})
	if err != nil {
		return zero, err
	}
	if res.ExceptionDetails != nil {
		msg := res.ExceptionDetails.Text
		if ex := res.ExceptionDetails.Exception; ex != nil && ex.Description != "" {
			msg = ex.Description
		}
		return zero, fmt.Errorf("script: %s", msg)
	}
	var v T
	if res.Result == nil || len(res.Result.Value) == 0 {
		return v, nil
	}
	if err := json.Unmarshal(res.Result.Value, &v); err != nil {
		return zero, fmt.Errorf("script result: %w", err)
	}
	return v, nil
}

// frames lists the ids and URLs of the frames of a session's frame tree.
func frames(ctx context.Context, s caller) ([]*cdp.Frame, error) {
	res, err := send(ctx, s, page.GetFrameTree, cdp.Empty{})
	if err != nil {
		return nil, err
	}
	var out []*cdp.Frame
	var walk func(t *page.FrameTree)
	walk = func(t *page.FrameTree) {
		if t == nil {
			return
		}
		if t.Frame != nil {
			out = append(out, t.Frame)
		}
		for _, c := range t.ChildFrames {
			walk(c)
		}
	}
	walk(res.FrameTree)
	return out, nil
}
