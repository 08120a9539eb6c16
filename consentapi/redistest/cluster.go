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
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Cluster is a running Redis Cluster of three masters (no replicas) on
// loopback ports, each with append-only persistence in its own directory.
type Cluster struct {
	addrs []string
	dir   string
	procs []*exec.Cmd
}

// StartCluster starts a three-master Redis Cluster for the test, waits
// until every node reports cluster_state:ok, and stops it when the test
// ends. It fails the test (never skips) when redis-server or redis-cli is
// not installed.
func StartCluster(tb testing.TB) *Cluster {
	tb.Helper()
	c, err := LaunchCluster(tb.TempDir())
	if err != nil {
		tb.Fatalf("redistest: %v", err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// LaunchCluster starts a cluster with its data under dir, outside a test;
// the caller must Close it.
func LaunchCluster(dir string) (*Cluster, error) {
	for _, bin := range []string{"redis-server", "redis-cli"} {
		if _, err := exec.LookPath(bin); err != nil {
			return nil, fmt.Errorf("%s not found in PATH: the cluster tests need real Redis tools (apt-get install redis-server redis-tools)", bin)
		}
	}
	c := &Cluster{dir: dir}
	for i := range 3 {
		port, err := clusterPort()
		if err != nil {
			c.Close()
			return nil, err
		}
		if err := c.startNode(i, port); err != nil {
			c.Close()
			return nil, err
		}
	}
	args := append([]string{"--cluster", "create"}, c.addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command("redis-cli", args...).CombinedOutput(); err != nil {
		c.Close()
		return nil, fmt.Errorf("redis-cli --cluster create: %w\n%s", err, out)
	}
	if err := c.waitOK(30 * time.Second); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// clusterPort finds a free port whose cluster bus port (port+10000) is
// free too.
func clusterPort() (int, error) {
	for range 50 {
		p, err := freePort()
		if err != nil {
			return 0, err
		}
		if p+10000 > 65535 {
			continue
		}
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p+10000)))
		if err != nil {
			continue
		}
		l.Close()
		return p, nil
	}
	return 0, errors.New("no free port pair for a cluster node")
}

func (c *Cluster) startNode(i, port int) error {
	dir := filepath.Join(c.dir, fmt.Sprintf("node%d", i))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	cmd := exec.Command("redis-server",
		"--bind", "127.0.0.1", "--port", strconv.Itoa(port),
		"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "5000",
		"--appendonly", "yes", "--appendfsync", "always", "--save", "", "--dir", dir,
		"--logfile", filepath.Join(dir, "redis.log"), "--daemonize", "no")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start cluster node: %w", err)
	}
	c.procs = append(c.procs, cmd)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	c.addrs = append(c.addrs, addr)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if err := ping("tcp", addr); err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "redis.log"))
			return fmt.Errorf("cluster node %s did not answer PING within 10s:\n%s", addr, log)
		}
	}
}

// waitOK waits until every node says cluster_state:ok.
func (c *Cluster) waitOK(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for _, addr := range c.addrs {
		rdb := redis.NewClient(&redis.Options{Addr: addr})
		for {
			info, err := rdb.ClusterInfo(context.Background()).Result()
			if err == nil && strings.Contains(info, "cluster_state:ok") {
				break
			}
			if time.Now().After(deadline) {
				rdb.Close()
				return fmt.Errorf("cluster node %s not ok after %s: %v %s", addr, limit, err, info)
			}
			time.Sleep(50 * time.Millisecond)
		}
		rdb.Close()
	}
	return nil
}

// Addrs are the masters' host:port addresses.
func (c *Cluster) Addrs() []string { return c.addrs }

// URL is the cluster as crumb's CRUMB_REDIS_URL takes it.
func (c *Cluster) URL() string { return "redis-cluster://" + strings.Join(c.addrs, ",") }

// Close stops every node (SIGTERM, then SIGKILL after 10 s).
func (c *Cluster) Close() error {
	for _, cmd := range c.procs {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}
	c.procs = nil
	return nil
}
