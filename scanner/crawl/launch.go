package crawl

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/chromedp/chromedp"
)

// launcher starts one Chromium process and connects chromedp to it over the
// DevTools pipe (file descriptors 3 and 4), so no debugging port is ever
// opened. It implements chromedp.Allocator, and it owns the process: stop
// ends it and every child process that still names its profile directory.
//
// The crawler uses its own allocator rather than chromedp's ExecAllocator
// because it needs to sit between chromedp and the browser (see sessionMux):
// cross-site iframes are separate targets that chromedp does not drive, and
// the crawler must install its hooks in them before their scripts run.
type launcher struct {
	path    string
	args    []string
	profile string
	log     *slog.Logger

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited and been reaped
	mux  *sessionMux
	out  *tailBuffer
}

// Allocate starts the browser. It is called by chromedp on the first Run of
// the browser's context.
func (l *launcher) Allocate(ctx context.Context, opts ...chromedp.BrowserOption) (*chromedp.Browser, error) {
	// Chromium reads commands from fd 3 and writes replies and events to fd 4.
	childR, parentW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("command pipe: %w", err)
	}
	parentR, childW, err := os.Pipe()
	if err != nil {
		childR.Close()
		parentW.Close()
		return nil, fmt.Errorf("reply pipe: %w", err)
	}
	args := append(append([]string{}, l.args...), "--remote-debugging-pipe", "about:blank")
	cmd := exec.Command(l.path, args...)
	cmd.ExtraFiles = []*os.File{childR, childW}
	l.out = newTailBuffer(16 << 10)
	cmd.Stdout = l.out
	cmd.Stderr = l.out
	cmd.SysProcAttr = sysProcAttr()

	done := make(chan struct{})
	started := make(chan error, 1)
	go func() {
		// The parent-death signal is tied to the thread that started the
		// process, so that thread must live as long as the browser.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		_ = cmd.Wait()
		close(done)
	}()
	err = <-started
	childR.Close()
	childW.Close()
	if err != nil {
		parentR.Close()
		parentW.Close()
		return nil, fmt.Errorf("start %s: %w", l.path, err)
	}
	l.mu.Lock()
	l.cmd, l.done = cmd, done
	l.mu.Unlock()

	l.mux = newSessionMux(chromedp.NewPipeConn(parentR, parentW))
	b, err := chromedp.NewBrowserTransport(ctx, l.mux, opts...)
	if err != nil {
		l.kill()
		return nil, err
	}
	return b, nil
}

// Wait waits for the process to exit; it satisfies chromedp.Allocator.
func (l *launcher) Wait() {
	l.mu.Lock()
	done := l.done
	l.mu.Unlock()
	if done != nil {
		<-done
	}
}

// exited returns a channel closed when the browser process has exited, or
// nil before it started.
func (l *launcher) exited() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.done
}

// stop waits up to grace for the process to exit on its own (after a
// graceful Browser.close), then kills it and any leftover child process of
// the profile.
func (l *launcher) stop(grace time.Duration) {
	l.mu.Lock()
	cmd, done := l.cmd, l.done
	l.mu.Unlock()
	if cmd != nil {
		select {
		case <-done:
		case <-time.After(grace):
			l.log.Warn("chromium did not exit; killing it", "pid", cmd.Process.Pid)
			l.kill()
			<-done
		}
	}
	if n := killLeftovers(l.profile, 2*time.Second); n > 0 {
		l.log.Debug("killed leftover chromium processes", "count", n)
	}
}

// kill ends the browser's process group at once.
func (l *launcher) kill() {
	l.mu.Lock()
	cmd := l.cmd
	l.mu.Unlock()
	if cmd != nil && cmd.Process != nil {
		killGroup(cmd.Process.Pid)
		_ = cmd.Process.Kill()
	}
}

// output returns the last lines Chromium printed, for error messages.
func (l *launcher) output() string {
	if l.out == nil {
		return ""
	}
	return l.out.String()
}

// killLeftovers kills every process whose command line names the profile
// directory, until none has been seen for a few passes in a row (a dying
// browser can still fork), and returns how many it killed.
func killLeftovers(profile string, limit time.Duration) int {
	if profile == "" {
		return 0
	}
	marker := "--user-data-dir=" + filepath.Clean(profile)
	deadline := time.Now().Add(limit)
	killed := 0
	for quiet := 0; quiet < 3 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		n := killByMarker(marker)
		if n == 0 {
			quiet++
		} else {
			quiet = 0
			killed += n
		}
	}
	return killed
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func newTailBuffer(max int) *tailBuffer { return &tailBuffer{max: max} }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if over := len(t.b) - t.max; over > 0 {
		t.b = append(t.b[:0], t.b[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

// errBrowserGone is the cause given to work cut short because the browser
// process exited.
var errBrowserGone = errors.New("the browser exited")
