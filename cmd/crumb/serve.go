package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/crumbhq/crumb/consentapi"
	"github.com/crumbhq/crumb/consentapi/localstore"
	"github.com/crumbhq/crumb/consentapi/redisstore"
	"github.com/crumbhq/crumb/consentapi/siteconfig"
	"github.com/crumbhq/crumb/consentapi/store"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"
)

// minTokenLen is the shortest admin or metrics token serve accepts: the
// admin API can erase proofs of consent, and nothing limits how fast a
// token can be guessed but its length.
const minTokenLen = 16

const serveUsage = `usage: crumb serve [flags]

Runs the consent service. Every flag can also be set by its environment
variable; a flag given on the command line wins over the variable.

Flags:
  -addr ADDR              listen address (CRUMB_ADDR; default 127.0.0.1:8080)
  -addr-file PATH         write the bound address to PATH once listening, for
                          scripts and tests using port 0 (CRUMB_ADDR_FILE)
  -config PATH            site configuration YAML (CRUMB_CONFIG; default configs/crumb.yaml)
  -redis-url URL          Redis: redis://, rediss://, unix://, redis-sentinel://,
                          redis-cluster:// (CRUMB_REDIS_URL); empty uses the
                          embedded store in -data-dir. user:password@ is the
                          Redis servers' password (a Sentinel's master and
                          replicas); Sentinels with a password of their own
                          take it as ?sentinel_password=
  -redis-fsync POLICY     weakest appendfsync accepted on Redis: always (the
                          default: nothing acknowledged is lost if Redis
                          crashes) or everysec (a crash can lose about 2 s of
                          acknowledged decisions) (CRUMB_REDIS_FSYNC)
  -erase-rewrite D        after an erasure, rewrite the store's files within D
                          so that the erased data leaves them too (Redis:
                          BGREWRITEAOF on every master; embedded: a compacted
                          copy of crumb.db); 0 turns it off
                          (CRUMB_ERASE_REWRITE; default 1h)
  -data-dir DIR           embedded store directory (CRUMB_DATA_DIR; default ./crumb-data)
  -log-format FORMAT      text or json (CRUMB_LOG_FORMAT; default text)
  -log-level LEVEL        debug, info, warn or error (CRUMB_LOG_LEVEL; default info)
  -trusted-proxies CIDRS  comma-separated networks whose X-Forwarded-For is
                          believed for the client IP (CRUMB_TRUSTED_PROXIES)
  -rate-limit N           requests per second per client IP on the public API;
                          0 is the default (20), -1 turns it off (CRUMB_RATE_LIMIT)
  -rate-burst N           burst per client IP; 0 is the default (60) (CRUMB_RATE_BURST)
  -shutdown-timeout D     how long in-flight requests may take to finish on
                          SIGTERM (CRUMB_SHUTDOWN_TIMEOUT; default 20s)
  -workers N              scan workers in this process (CRUMB_WORKERS; default 0;
                          crumb worker reads the same variable: where they
                          share an environment, give serve -workers 0).
                          On Redis the scan scheduler always runs and workers
                          may run anywhere (crumb worker); on the embedded
                          store scheduled scans need N > 0. The workers use
                          CRUMB_CHROMIUM (default: chromium on PATH), extra
                          flags in CRUMB_CHROMIUM_FLAGS and extra cookie
                          knowledge in CRUMB_COOKIE_DB, as crumb worker does

Environment only (secrets stay out of the process list):
  CRUMB_ADMIN_TOKEN       bearer token of the admin API (/v1/admin/...); unset
                          turns the admin API off
  CRUMB_METRICS_TOKEN     bearer token of /metrics; unset means CRUMB_ADMIN_TOKEN
                          guards it; with neither, /metrics is off
`

// serveConfig is the process configuration of crumb serve.
type serveConfig struct {
	addr, addrFile, config, redisURL, dataDir string
	redisFsync                                redisstore.Fsync
	eraseRewrite                              time.Duration
	trustedProxies                            string
	log                                       logSettings
	rateLimit                                 float64
	rateBurst                                 int
	shutdownTimeout                           time.Duration
	workers                                   int
	workersFrom                               string // -workers, CRUMB_WORKERS or default
	adminToken, metricsToken                  string
}

// serveFlags parses args and the CRUMB_* environment: flag > env > default.
func serveFlags(args []string, e env) (*serveConfig, error) {
	c := &serveConfig{}
	fs := newEnvFlags("serve", serveUsage, e)
	fs.str(&c.addr, "addr", "CRUMB_ADDR", "127.0.0.1:8080")
	fs.str(&c.addrFile, "addr-file", "CRUMB_ADDR_FILE", "")
	fs.str(&c.config, "config", "CRUMB_CONFIG", "configs/crumb.yaml")
	fs.str(&c.redisURL, "redis-url", "CRUMB_REDIS_URL", "")
	var fsync string
	fs.str(&fsync, "redis-fsync", "CRUMB_REDIS_FSYNC", string(redisstore.FsyncAlways))
	fs.duration(&c.eraseRewrite, "erase-rewrite", "CRUMB_ERASE_REWRITE", time.Hour)
	fs.str(&c.dataDir, "data-dir", "CRUMB_DATA_DIR", "./crumb-data")
	c.log.register(fs)
	fs.str(&c.trustedProxies, "trusted-proxies", "CRUMB_TRUSTED_PROXIES", "")
	fs.float(&c.rateLimit, "rate-limit", "CRUMB_RATE_LIMIT", 0)
	fs.int(&c.rateBurst, "rate-burst", "CRUMB_RATE_BURST", 0)
	fs.duration(&c.shutdownTimeout, "shutdown-timeout", "CRUMB_SHUTDOWN_TIMEOUT", 20*time.Second)
	fs.int(&c.workers, "workers", "CRUMB_WORKERS", 0)
	problems, err := fs.parse(args)
	if err != nil {
		return nil, err
	}
	c.workersFrom = fs.source("workers")
	c.adminToken, c.metricsToken = e.getenv("CRUMB_ADMIN_TOKEN"), e.getenv("CRUMB_METRICS_TOKEN")
	problems = append(problems, c.log.check()...)
	if c.redisFsync, err = redisstore.ParseFsync(fsync); err != nil {
		problems = append(problems, err.Error())
	}
	if _, err := parseCIDRs(c.trustedProxies); err != nil {
		problems = append(problems, err.Error())
	}
	if err := checkAddr("addr", c.addr); err != nil {
		problems = append(problems, err.Error())
	}
	if c.rateLimit < 0 && c.rateLimit != -1 || math.IsNaN(c.rateLimit) || math.IsInf(c.rateLimit, 0) {
		problems = append(problems, fmt.Sprintf("rate limit %v: want a positive number, 0 (the default) or -1 (off)", c.rateLimit))
	}
	if c.rateBurst < 0 {
		problems = append(problems, fmt.Sprintf("rate burst %d: want a positive number or 0 (the default)", c.rateBurst))
	}
	for _, p := range []string{tokenProblem("CRUMB_ADMIN_TOKEN", c.adminToken), tokenProblem("CRUMB_METRICS_TOKEN", c.metricsToken)} {
		if p != "" {
			problems = append(problems, p)
		}
	}
	if c.eraseRewrite < 0 {
		problems = append(problems, "erase rewrite must not be negative")
	}
	if c.shutdownTimeout <= 0 {
		problems = append(problems, "shutdown timeout must be positive")
	}
	if c.workers < 0 || c.workers > 64 {
		problems = append(problems, fmt.Sprintf("workers %d: want 0 to 64", c.workers))
	}
	if c.workers > 0 {
		// The in-process workers take these from the environment only.
		problems = append(problems, chromiumProblems("CRUMB_CHROMIUM", e.getenv("CRUMB_CHROMIUM"), "CRUMB_CHROMIUM_FLAGS", e.getenv("CRUMB_CHROMIUM_FLAGS"))...)
	}
	if len(problems) > 0 {
		return nil, usagef("serve: %s", strings.Join(problems, "; "))
	}
	return c, nil
}

// checkAddr reports a listen address that is not host:port with a port
// net.Listen takes (a number up to 65535 or a service name); name says
// which address it is.
func checkAddr(name, addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err == nil {
		_, err = net.LookupPort("tcp", port)
	}
	if err != nil {
		return fmt.Errorf("%s %q: want host:port, such as 127.0.0.1:8080 or :8080", name, addr)
	}
	return nil
}

// tokenProblem says what is wrong with a bearer token read from the
// variable name, or "" if nothing is (an empty token is no token).
func tokenProblem(name, token string) string {
	switch {
	case token != strings.TrimSpace(token):
		return name + " has leading or trailing white space (a newline from a file?); set it without"
	case token != "" && len(token) < minTokenLen:
		return fmt.Sprintf("%s has %d characters: want at least %d, hard to guess (e.g. openssl rand -hex 32)", name, len(token), minTokenLen)
	}
	return ""
}

// parseCIDRs reads comma-separated networks; a bare IP is a /32 or /128.
func parseCIDRs(s string) ([]*net.IPNet, error) {
	var nets []*net.IPNet
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if !strings.Contains(part, "/") {
			if ip := net.ParseIP(part); ip != nil && ip.To4() != nil {
				part += "/32"
			} else {
				part += "/128"
			}
		}
		_, n, err := net.ParseCIDR(part)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: want a CIDR such as 10.0.0.0/8", part)
		}
		nets = append(nets, n)
	}
	return nets, nil
}

// runServe runs the consent service until ctx ends, then shuts down
// gracefully: it stops accepting, lets in-flight requests finish, then
// closes the store, which flushes what it holds.
func runServe(ctx context.Context, args []string, e env) error {
	c, err := serveFlags(args, e)
	if err != nil {
		return err
	}
	logger := c.log.logger(e.stderr)
	sites, err := siteconfig.Load(c.config)
	if err != nil {
		if errors.Is(err, siteconfig.ErrInvalid) {
			return usagef("site config %s:\n%v", c.config, err)
		}
		return usagef("%v (set -config or CRUMB_CONFIG)", err)
	}
	st, kind, err := openStore(ctx, c, logger)
	if err != nil {
		return err
	}
	defer st.Close()
	proxies, _ := parseCIDRs(c.trustedProxies)
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(consentapi.BuildInfoCollector(buildVersion()))
	if rs, ok := st.(*redisstore.Store); ok {
		reg.MustRegister(redisstore.DurabilityCollector(rs))
	}
	// Scheduled scans (worker.go, scans.go).
	sc, scanOpts, err := serveScans(c.redisURL, c.dataDir, c.workers, sites, st, e.getenv, reg, logger)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	if sc != nil {
		defer sc.close()
	}
	srv, err := consentapi.NewServer(ctx, consentapi.Options{
		Sites: sites, AdminToken: c.adminToken, MetricsToken: c.metricsToken, TrustedProxies: proxies,
		RateLimit: c.rateLimit, RateBurst: c.rateBurst, Registry: reg, Logger: logger, Scans: scanOpts,
	}, st)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	if sc != nil {
		// Scans taken in here are judged against the banner's scope at
		// once, so the stored scan and its webhook say when it raised the
		// revision; a worker elsewhere leaves that to the banner check.
		sc.results.Widens = srv.ScanRaise
		defer sc.start(ctx, func(ctx context.Context, site string) { srv.Refresh(ctx, site) })()
	}
	return listenAndServe(ctx, c, srv, logger, startupAttrs(c, sites, kind, len(proxies)))
}

// startupAttrs describe the running service for the "listening" line:
// what an operator checks first, never a secret.
func startupAttrs(c *serveConfig, sites *siteconfig.Config, kind string, proxies int) []any {
	attrs := []any{"version", buildVersion(), "config", c.config, "sites", len(sites.Sites), "store", kind}
	if c.redisURL != "" {
		attrs = append(attrs, "redis_url", redisstore.Redacted(c.redisURL), "redis_fsync", string(c.redisFsync))
	} else {
		attrs = append(attrs, "data_dir", c.dataDir)
	}
	metrics := "off"
	switch {
	case c.metricsToken != "":
		metrics = "guarded by CRUMB_METRICS_TOKEN"
	case c.adminToken != "":
		metrics = "guarded by CRUMB_ADMIN_TOKEN"
	}
	return append(attrs,
		"workers", c.workers, "workers_from", c.workersFrom,
		"trusted_proxies", proxies,
		"admin_api", onOff(c.adminToken != ""),
		"metrics", metrics,
	)
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

// rewriteAfterErase is -erase-rewrite as the stores take it: negative
// for off.
func (c *serveConfig) rewriteAfterErase() time.Duration {
	if c.eraseRewrite == 0 {
		return -1
	}
	return c.eraseRewrite
}

// openStore opens Redis when a URL is set, else the embedded store.
func openStore(ctx context.Context, c *serveConfig, logger *slog.Logger) (store.Store, string, error) {
	if c.redisURL != "" {
		// go-redis logs through a package-level logger; send it to ours.
		redis.SetLogger(redisLogger{logger})
		client, err := redisstore.Dial(c.redisURL)
		if err != nil {
			return nil, "", usagef("serve: %v", err)
		}
		st, err := redisstore.New(ctx, client, redisstore.Options{Logger: logger, Fsync: c.redisFsync, RewriteAfterErase: c.rewriteAfterErase()})
		if errors.Is(err, redisstore.ErrClusterNode) {
			client.Close()
			return nil, "", usagef("serve: -redis-url: %v", err)
		}
		if err != nil {
			client.Close()
			return nil, "", fmt.Errorf("serve: open redis store: %w", err)
		}
		return st, "redis-" + redisstore.Deployment(c.redisURL), nil
	}
	if err := os.MkdirAll(c.dataDir, 0o700); err != nil {
		// A directory that cannot be created is a setting to change.
		return nil, "", usagef("serve: -data-dir (or CRUMB_DATA_DIR) %q: %v", c.dataDir, err)
	}
	st, err := localstore.Open(filepath.Join(c.dataDir, "crumb.db"), localstore.Options{Logger: logger, CompactAfterErase: c.rewriteAfterErase()})
	var pe *os.PathError
	if errors.As(err, &pe) {
		// The file cannot be created or opened there (permissions, a
		// read-only file system): as for a directory that cannot be
		// created, a setting to change.
		return nil, "", usagef("serve: -data-dir (or CRUMB_DATA_DIR) %q: %v", c.dataDir, err)
	}
	if err != nil {
		return nil, "", fmt.Errorf("serve: open embedded store: %w", err)
	}
	return st, "embedded", nil
}

func listenAndServe(ctx context.Context, c *serveConfig, srv *consentapi.Server, logger *slog.Logger, startup []any) error {
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	bg, stopBG := context.WithCancel(ctx)
	defer stopBG()
	go srv.Run(bg)
	addr := ln.Addr().String()
	if c.addrFile != "" {
		if err := writeFileAtomic(c.addrFile, addr+"\n"); err != nil {
			hs.Close()
			return fmt.Errorf("serve: addr file: %w", err)
		}
	}
	logger.Info("listening", append([]any{"addr", addr, "url", "http://" + addr}, startup...)...)

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down", "timeout", c.shutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), c.shutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		hs.Close()
		return fmt.Errorf("serve: shutdown: %w", err)
	}
	logger.Info("stopped")
	return nil
}

// redisLogger passes go-redis's own messages (Sentinel master changes,
// pool dial failures) to the service log, the text under "detail" (slog
// has "msg" already).
type redisLogger struct{ l *slog.Logger }

func (r redisLogger) Printf(ctx context.Context, format string, v ...any) {
	r.l.Log(ctx, redisLevel(format), "redis client", "detail", fmt.Sprintf(format, v...))
}

// redisLevel ranks a go-redis message by its format string (go-redis has no
// levels): failures and recovered panics are warnings; the Sentinel
// client's routine news (the master it found or that changed, another
// Sentinel discovered) is info, a +switch-master for another master
// name debug; anything else go-redis says is a warning.
func redisLevel(format string) slog.Level {
	switch {
	case strings.Contains(format, "fail"), strings.Contains(format, "panic"), strings.Contains(format, "unreachable"):
		return slog.LevelWarn
	case strings.HasPrefix(format, "sentinel: ignore"):
		return slog.LevelDebug
	case strings.HasPrefix(format, "sentinel: "):
		return slog.LevelInfo
	}
	return slog.LevelWarn
}

// writeFileAtomic writes data to path through a rename, so a reader never
// sees half of it.
func writeFileAtomic(path, data string) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(data), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
