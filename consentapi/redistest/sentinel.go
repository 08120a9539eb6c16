package redistest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// MasterName is the name the Sentinel of StartSentinel monitors.
const MasterName = "mymaster"

// Sentinel is a master and two replicas, each with append-only
// persistence, watched by one Redis Sentinel on loopback ports.
type Sentinel struct {
	Master   *Server
	Replicas []*Server
	opts     SentinelOptions
	addr     string // the Sentinel's host:port
	cmd      *exec.Cmd
	stderr   *bytes.Buffer // its output, read once it has exited
	exited   chan struct{}
}

// SentinelOptions choose how LaunchSentinelWith sets the deployment up.
type SentinelOptions struct {
	// Args are extra redis-server arguments for the master and the
	// replicas.
	Args []string
	// Password, when set, is the requirepass of the master and the
	// replicas and their masterauth (so that replication, and a failover,
	// work); the Sentinel gets it as "sentinel auth-pass". It is set with
	// CONFIG SET once each server answers, so a server restarted with
	// Restart has no password.
	Password string
	// SentinelPassword, when set, is the Sentinel's own requirepass.
	SentinelPassword string
}

// StartSentinel starts a master, two replicas and a Sentinel for the test
// and waits until the Sentinel knows both replicas, so that a failover can
// happen; it stops them when the test ends. args are extra redis-server
// arguments for the master and the replicas. It fails the test (never
// skips) when redis-server is not installed.
func StartSentinel(tb testing.TB, args ...string) *Sentinel {
	tb.Helper()
	return StartSentinelWith(tb, SentinelOptions{Args: args})
}

// StartSentinelWith is StartSentinel with options, such as passwords.
func StartSentinelWith(tb testing.TB, opts SentinelOptions) *Sentinel {
	tb.Helper()
	s, err := LaunchSentinelWith(opts)
	if err != nil {
		tb.Fatalf("redistest: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// LaunchSentinel starts the four servers outside a test; the caller must
// Close them.
func LaunchSentinel(args ...string) (*Sentinel, error) {
	return LaunchSentinelWith(SentinelOptions{Args: args})
}

// LaunchSentinelWith is LaunchSentinel with options.
func LaunchSentinelWith(opts SentinelOptions) (*Sentinel, error) {
	s := &Sentinel{opts: opts}
	var err error
	if s.Master, err = Launch(Options{TCP: true, Args: opts.Args}); err != nil {
		return nil, err
	}
	if err := s.protect(s.Master); err != nil {
		s.Close()
		return nil, err
	}
	host, port, _ := net.SplitHostPort(s.Master.Addr())
	for range 2 {
		args := append([]string{"--replicaof", host, port}, opts.Args...)
		if opts.Password != "" {
			args = append(args, "--masterauth", opts.Password)
		}
		r, err := Launch(Options{TCP: true, Args: args})
		if err != nil {
			s.Close()
			return nil, err
		}
		s.Replicas = append(s.Replicas, r)
		if err := s.protect(r); err != nil {
			s.Close()
			return nil, err
		}
	}
	if err := s.startSentinel(host, port); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.waitReplicasKnown(30 * time.Second); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// protect sets the password on a server that answers without one
// (Launch waits for an unauthenticated PING, so the server cannot start
// with --requirepass).
func (s *Sentinel) protect(srv *Server) error {
	if s.opts.Password == "" {
		return nil
	}
	c := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.ConfigSet(ctx, "masterauth", s.opts.Password).Err(); err != nil {
		return fmt.Errorf("redis-server %s: set masterauth: %w", srv.Addr(), err)
	}
	if err := c.ConfigSet(ctx, "requirepass", s.opts.Password).Err(); err != nil {
		return fmt.Errorf("redis-server %s: set requirepass: %w", srv.Addr(), err)
	}
	return nil
}

// startSentinel writes the Sentinel's configuration (it rewrites it as
// it learns) next to the master's data and starts it.
func (s *Sentinel) startSentinel(masterHost, masterPort string) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	s.addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	dir := filepath.Join(s.Master.Dir(), "sentinel")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	conf := filepath.Join(dir, "sentinel.conf")
	text := fmt.Sprintf("bind 127.0.0.1\nport %d\ndir %s\nlogfile %s\n"+
		"sentinel monitor %s %s %s 1\n"+
		"sentinel down-after-milliseconds %[4]s 1000\n"+
		"sentinel failover-timeout %[4]s 10000\n",
		port, dir, filepath.Join(dir, "sentinel.log"), MasterName, masterHost, masterPort)
	if s.opts.Password != "" {
		text += fmt.Sprintf("sentinel auth-pass %s %s\n", MasterName, strconv.Quote(s.opts.Password))
	}
	if s.opts.SentinelPassword != "" {
		text += fmt.Sprintf("requirepass %s\n", strconv.Quote(s.opts.SentinelPassword))
	}
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		return err
	}
	cmd := exec.Command("redis-server", conf, "--sentinel")
	// Configuration errors go to stderr, not to the log file.
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	s.stderr = &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start redis sentinel: %w", err)
	}
	s.exited = make(chan struct{})
	go func() { cmd.Wait(); close(s.exited) }()
	s.cmd = cmd
	return nil
}

// waitReplicasKnown waits until the Sentinel lists both replicas as
// healthy.
func (s *Sentinel) waitReplicasKnown(limit time.Duration) error {
	sc := redis.NewSentinelClient(&redis.Options{Addr: s.addr, Password: s.opts.SentinelPassword})
	defer sc.Close()
	deadline := time.Now().Add(limit)
	for {
		replicas, err := sc.Replicas(context.Background(), MasterName).Result()
		healthy := 0
		for _, r := range replicas {
			if r["flags"] == "slave" && r["master-link-status"] == "ok" {
				healthy++
			}
		}
		if err == nil && healthy == len(s.Replicas) {
			return nil
		}
		select {
		case <-s.exited:
			log, _ := os.ReadFile(filepath.Join(s.Master.Dir(), "sentinel", "sentinel.log"))
			return fmt.Errorf("redis sentinel exited:\n%s%s", s.stderr, log)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("sentinel did not see %d healthy replicas within %s: %v %v", len(s.Replicas), limit, replicas, err)
		}
	}
}

// URL is the deployment as crumb's CRUMB_REDIS_URL takes it, without
// credentials.
func (s *Sentinel) URL() string { return "redis-sentinel://" + s.addr + "/" + MasterName }

// Addr is the Sentinel's host:port.
func (s *Sentinel) Addr() string { return s.addr }

// Promoted waits until the Sentinel names a replica as the master (after
// the master was killed, say) and returns it.
func (s *Sentinel) Promoted(ctx context.Context) (*Server, error) {
	sc := redis.NewSentinelClient(&redis.Options{Addr: s.addr, Password: s.opts.SentinelPassword})
	defer sc.Close()
	for {
		addr, err := sc.GetMasterAddrByName(ctx, MasterName).Result()
		if err == nil && len(addr) == 2 {
			for _, r := range s.Replicas {
				if net.JoinHostPort(addr[0], addr[1]) == r.Addr() {
					return r, nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("sentinel: no replica was promoted: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Close stops the Sentinel and both servers.
func (s *Sentinel) Close() error {
	var errs []error
	if s.cmd != nil {
		s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(10 * time.Second):
			s.cmd.Process.Kill()
			<-s.exited
		}
		s.cmd = nil
	}
	for _, srv := range append(slices.Clone(s.Replicas), s.Master) {
		if srv != nil {
			errs = append(errs, srv.Close())
		}
	}
	return errors.Join(errs...)
}
