package redisqueue_test

import (
	"net"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// startRedis starts a real redis-server on a unix socket in a temporary
// directory for the test and returns the socket path.
func startRedis(tb testing.TB) string {
	tb.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		tb.Fatalf("redis-server not found on PATH (apt-get install redis-server): %v", err)
	}
	dir := tb.TempDir()
	sock := filepath.Join(dir, "redis.sock")
	cmd := exec.Command(bin, "--port", "0", "--unixsocket", sock, "--dir", dir, "--appendonly", "yes", "--save", "")
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start redis-server: %v", err)
	}
	tb.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			return sock
		}
	}
	tb.Fatal("redis-server did not start within 10s")
	return ""
}
