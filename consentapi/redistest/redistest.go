// Package redistest runs real redis-server processes for tests and load
// programs: a server with append-only persistence, fsynced before each
// reply, on a unix socket (or a
// loopback port) in a temporary directory, which a test can kill and
// restart on the same address with the same data.
package redistest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Options choose how Launch starts the server.
type Options struct {
	// TCP listens on a free 127.0.0.1 port instead of a unix socket.
	TCP bool
	// Dir holds the data and the socket; "" makes a temporary directory
	// that Close removes.
	Dir string
	// Args are extra redis-server arguments, e.g. "--appendonly", "no";
	// they come after the defaults (--appendonly yes --appendfsync always,
	// what crumb serve asks for) and override them.
	Args []string
}

// Server is a running (or stopped) redis-server.
type Server struct {
	opts    Options
	dir     string
	ownDir  bool
	network string
	addr    string // socket path or host:port
	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{}
}

// Start launches a redis-server with appendonly yes and appendfsync always
// on a unix socket in a
// temporary directory and stops it when the test ends. It fails the test
// (never skips) when redis-server is not installed.
func Start(tb testing.TB) *Server {
	tb.Helper()
	return StartWith(tb, Options{})
}

// StartWith is Start with options.
func StartWith(tb testing.TB, opts Options) *Server {
	tb.Helper()
	s, err := Launch(opts)
	if err != nil {
		tb.Fatalf("redistest: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// Launch starts a server outside a test; the caller must Close it.
func Launch(opts Options) (*Server, error) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		return nil, errors.New("redis-server not found in PATH: the tests need a real Redis (apt-get install redis-server)")
	}
	s := &Server{opts: opts, dir: opts.Dir}
	if s.dir == "" {
		// Short path: unix socket paths are limited to about 100 bytes.
		d, err := os.MkdirTemp("", "redis")
		if err != nil {
			return nil, err
		}
		s.dir, s.ownDir = d, true
	}
	if opts.TCP {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		s.network, s.addr = "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	} else {
		s.network, s.addr = "unix", filepath.Join(s.dir, "redis.sock")
	}
	if err := s.Restart(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Network is "unix" or "tcp".
func (s *Server) Network() string { return s.network }

// Addr is the socket path or host:port.
func (s *Server) Addr() string { return s.addr }

// Dir is the data directory (AOF files, log).
func (s *Server) Dir() string { return s.dir }

// URL is the address as crumb's CRUMB_REDIS_URL takes it.
func (s *Server) URL() string {
	if s.network == "unix" {
		return "unix://" + s.addr
	}
	return "redis://" + s.addr
}

// Restart starts the server again on the same address and data directory
// after Stop or Kill; it waits until the server answers PING.
func (s *Server) Restart() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return errors.New("redis-server is already running")
	}
	args := []string{
		"--appendonly", "yes", "--appendfsync", "always", "--save", "", "--dir", s.dir,
		"--logfile", filepath.Join(s.dir, "redis.log"), "--daemonize", "no",
	}
	if s.network == "unix" {
		args = append(args, "--port", "0", "--unixsocket", s.addr, "--unixsocketperm", "700")
	} else {
		host, port, _ := net.SplitHostPort(s.addr)
		args = append(args, "--bind", host, "--port", port)
	}
	args = append(args, s.opts.Args...)
	cmd := exec.Command("redis-server", args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	s.cmd, s.exited = cmd, exited
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := ping(s.network, s.addr); err == nil {
			return nil
		}
		select {
		case <-exited:
			log, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
			s.cmd = nil
			return fmt.Errorf("redis-server exited at start:\n%s", log)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return errors.New("redis-server did not answer PING within 10s")
		}
	}
}

// Stop shuts the server down with SIGTERM (it writes its AOF and exits).
func (s *Server) Stop() error { return s.signal(syscall.SIGTERM) }

// Kill ends the server with SIGKILL, as a crash would.
func (s *Server) Kill() error { return s.signal(syscall.SIGKILL) }

func (s *Server) signal(sig syscall.Signal) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return nil
	}
	if err := s.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
	}
	s.cmd = nil
	return nil
}

// Close stops the server and removes a temporary directory.
func (s *Server) Close() error {
	err := s.Stop()
	if s.ownDir {
		os.RemoveAll(s.dir)
	}
	return err
}

// ping sends a RESP PING and waits for +PONG.
func ping(network, addr string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	buf := make([]byte, 7)
	n, err := c.Read(buf)
	if err != nil {
		return err
	}
	if string(buf[:n]) != "+PONG\r\n" {
		return fmt.Errorf("unexpected reply %q", buf[:n])
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
