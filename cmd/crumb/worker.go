package main

import (
	"cmp"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"

	"github.com/crumbhq/crumb/consentapi"
	"github.com/crumbhq/crumb/consentapi/redisstore"
	"github.com/crumbhq/crumb/consentapi/siteconfig"
)

const workerUsage = `usage: crumb worker [flags]

Runs scan workers: each takes scan jobs from the Redis queue that
crumb serve's scheduler (or an admin's "scan now") fills, crawls the site
in headless Chromium, and stores the report with its diff, raising the
site's revision and calling the site's webhook as configured. Run it on
any machine that reaches the Redis of crumb serve; run as many as you
like. Every flag can also be set by its environment variable.

Flags:
  -redis-url URL        Redis of crumb serve: redis://, rediss://, unix://,
                        redis-sentinel://, redis-cluster:// (CRUMB_REDIS_URL;
                        required); user:password@ is the Redis servers'
                        password, Sentinels with their own take
                        ?sentinel_password=
  -config PATH          site configuration YAML, for webhooks and revisions
                        (CRUMB_CONFIG; default configs/crumb.yaml)
  -workers N            scans run at once (CRUMB_WORKERS; default 2)
  -name NAME            worker name prefix, unique per process
                        (CRUMB_WORKER_NAME; default host-pid)
  -schedule             also offer due scheduled scans to the queue, as every
                        crumb serve on Redis does (CRUMB_SCHEDULE)
  -visibility D         a job whose worker is silent this long goes to
                        another worker (CRUMB_SCAN_VISIBILITY; default 5m)
  -scan-timeout D       longest scan (CRUMB_SCAN_TIMEOUT; default 30m)
  -chromium PATH        Chromium to scan with (CRUMB_CHROMIUM; default:
                        chromium or google-chrome on PATH)
  -chromium-flags FLAGS extra Chromium flags, each starting with --, e.g. a
                        proxy (CRUMB_CHROMIUM_FLAGS)
  -cookie-db FILES      comma-separated extra cookie knowledge files
                        (CRUMB_COOKIE_DB)
  -metrics-addr ADDR    serve /metrics, and the probes /healthz and /readyz,
                        here (CRUMB_METRICS_ADDR; default off)
  -health-addr ADDR     serve only /healthz and /readyz here, for probes
                        without metrics or on another port
                        (CRUMB_HEALTH_ADDR; default off)
  -log-format FORMAT    text or json (CRUMB_LOG_FORMAT; default text)
  -log-level LEVEL      debug, info, warn or error (CRUMB_LOG_LEVEL; default info)

Environment only:
  CRUMB_METRICS_TOKEN   bearer token of /metrics (else CRUMB_ADMIN_TOKEN;
                        with neither, /metrics is open); /healthz and
                        /readyz never need it
  <secret_env>          each site's webhook signing secret, in the variable
                        its scan.webhook.secret_env names

Probes (GET or HEAD): /healthz answers 200 while the process runs; /readyz
answers 200 when Redis answers a PING within 500ms (both the queue's and
the result store's connection), else 503 with the reason.
`

// workerConfig is the process configuration of crumb worker.
type workerConfig struct {
	redisURL, config, name, metricsAddr string
	healthAddr                          string
	chromium                            string
	log                                 logSettings
	chromiumFlags                       string
	cookieDB                            string
	workers                             int
	schedule                            bool
	visibility, scanTimeout             time.Duration
	metricsToken                        string
}

// workerFlags parses args and the CRUMB_* environment: flag > env > default.
func workerFlags(args []string, e env) (*workerConfig, error) {
	c := &workerConfig{}
	fs := newEnvFlags("worker", workerUsage, e)
	fs.str(&c.redisURL, "redis-url", "CRUMB_REDIS_URL", "")
	fs.str(&c.config, "config", "CRUMB_CONFIG", "configs/crumb.yaml")
	fs.str(&c.name, "name", "CRUMB_WORKER_NAME", defaultWorkerName())
	fs.str(&c.metricsAddr, "metrics-addr", "CRUMB_METRICS_ADDR", "")
	fs.str(&c.healthAddr, "health-addr", "CRUMB_HEALTH_ADDR", "")
	c.log.register(fs)
	fs.str(&c.chromium, "chromium", "CRUMB_CHROMIUM", "")
	fs.str(&c.chromiumFlags, "chromium-flags", "CRUMB_CHROMIUM_FLAGS", "")
	fs.str(&c.cookieDB, "cookie-db", "CRUMB_COOKIE_DB", "")
	fs.int(&c.workers, "workers", "CRUMB_WORKERS", 2)
	fs.bool(&c.schedule, "schedule", "CRUMB_SCHEDULE", false)
	fs.duration(&c.visibility, "visibility", "CRUMB_SCAN_VISIBILITY", 5*time.Minute)
	fs.duration(&c.scanTimeout, "scan-timeout", "CRUMB_SCAN_TIMEOUT", 30*time.Minute)
	problems, err := fs.parse(args)
	if err != nil {
		return nil, err
	}
	tokenVar := "CRUMB_METRICS_TOKEN"
	c.metricsToken = e.getenv(tokenVar)
	if c.metricsToken == "" {
		tokenVar = "CRUMB_ADMIN_TOKEN"
		c.metricsToken = e.getenv(tokenVar)
	}
	if p := tokenProblem(tokenVar, c.metricsToken); p != "" {
		problems = append(problems, p)
	}
	for _, a := range []struct{ name, addr string }{{"metrics addr", c.metricsAddr}, {"health addr", c.healthAddr}} {
		if a.addr != "" {
			if err := checkAddr(a.name, a.addr); err != nil {
				problems = append(problems, err.Error())
			}
		}
	}
	switch {
	case c.redisURL == "":
		problems = append(problems, "no Redis: set -redis-url or CRUMB_REDIS_URL (without Redis, run crumb serve --workers N)")
	case c.workers < 1 || c.workers > 64:
		problems = append(problems, fmt.Sprintf("workers %d: want 1 to 64", c.workers))
	case c.visibility < 10*time.Second:
		problems = append(problems, fmt.Sprintf("visibility %s: want at least 10s", c.visibility))
	case c.scanTimeout < time.Minute:
		problems = append(problems, fmt.Sprintf("scan timeout %s: want at least 1m", c.scanTimeout))
	}
	problems = append(problems, c.log.check()...)
	problems = append(problems, chromiumProblems("-chromium (or CRUMB_CHROMIUM)", c.chromium, "-chromium-flags (or CRUMB_CHROMIUM_FLAGS)", c.chromiumFlags)...)
	if len(problems) > 0 {
		return nil, usagef("worker: %s", strings.Join(problems, "; "))
	}
	return c, nil
}

func defaultWorkerName() string {
	host, err := os.Hostname()
	if err != nil {
		host = "worker"
	}
	return fmt.Sprintf("%s-%d", host, os.Getpid())
}

// runWorker runs scan workers until ctx ends. A scan in progress then is
// abandoned and its job released: another worker runs it again at once.
func runWorker(ctx context.Context, args []string, e env) error {
	c, err := workerFlags(args, e)
	if err != nil {
		return err
	}
	logger := c.log.logger(e.stderr).With("process", "worker")
	sites, err := siteconfig.Load(c.config)
	if err != nil {
		if errors.Is(err, siteconfig.ErrInvalid) {
			return usagef("site config %s:\n%v", c.config, err)
		}
		return usagef("%v (set -config or CRUMB_CONFIG)", err)
	}
	redis.SetLogger(redisLogger{logger})
	client, err := redisstore.Dial(c.redisURL)
	if err != nil {
		return usagef("worker: %v", err)
	}
	// A worker records scan results, not decisions: it does not need
	// appendfsync always, which crumb serve checks on the same Redis.
	st, err := redisstore.New(ctx, client, redisstore.Options{Logger: logger, Fsync: redisstore.FsyncEverysec})
	if err != nil {
		client.Close()
		return fmt.Errorf("worker: open redis store: %w", err)
	}
	defer st.Close()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(consentapi.BuildInfoCollector(buildVersion()))
	sc, err := newScans(scanConfig{
		redisURL: c.redisURL, workers: c.workers, scheduler: c.schedule, name: c.name,
		visibility: c.visibility, scanTimeout: c.scanTimeout,
		scan: scanOptions{chromium: c.chromium, chromiumFlags: splitFlags(c.chromiumFlags), cookieDB: splitList(c.cookieDB)},
	}, sites, st, e.getenv, reg, logger)
	if err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	defer sc.close()
	ready := func(ctx context.Context) (string, error) {
		if err := sc.queue.Ping(ctx); err != nil {
			return "scan queue unreachable", err
		}
		if err := st.Ping(ctx); err != nil {
			return "result store unreachable", err
		}
		return "", nil
	}
	if c.metricsAddr != "" {
		stop, err := serveOps(c.metricsAddr, opsHandler(reg, c.metricsToken, ready, logger))
		if err != nil {
			return fmt.Errorf("worker: metrics: %w", err)
		}
		defer stop()
	}
	if c.healthAddr != "" && c.healthAddr != c.metricsAddr {
		stop, err := serveOps(c.healthAddr, opsHandler(nil, "", ready, logger))
		if err != nil {
			return fmt.Errorf("worker: health: %w", err)
		}
		defer stop()
	}
	logger.Info("scan workers running", "workers", c.workers, "name", c.name, "schedule", c.schedule,
		"metrics", c.metricsAddr, "health", cmp.Or(c.healthAddr, c.metricsAddr))
	sc.run(ctx, nil)
	logger.Info("scan workers stopped")
	return nil
}

// readyTimeout bounds the PINGs of /readyz, below the 1s a Kubernetes
// probe waits by default.
const readyTimeout = 500 * time.Millisecond

// opsHandler answers the probes /healthz (the process runs) and /readyz
// (ready reports no problem within readyTimeout), with no token, and, if
// reg is not nil, /metrics behind the bearer token if one is set. ready
// returns a short reason for the answer and the error for the log.
func opsHandler(reg *prometheus.Registry, token string, ready func(context.Context) (string, error), logger *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	// A GET pattern matches HEAD too: load balancers probe with either.
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		if reason, err := ready(ctx); err != nil {
			logger.Warn("not ready", "reason", reason, "err", err)
			jsonError(w, http.StatusServiceUnavailable, "not ready: "+reason)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ready\n")
	})
	if reg != nil {
		h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
		mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
			if token != "" && !validBearer(r.Header.Get("Authorization"), token) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="crumb"`)
				jsonError(w, http.StatusUnauthorized, "missing or wrong bearer token")
				return
			}
			h.ServeHTTP(w, r)
		})
	}
	return mux
}

func jsonError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

// serveOps serves h on addr until stop is called.
func serveOps(addr string, h http.Handler) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// validBearer reports whether an Authorization header carries token: the
// scheme "Bearer" in any case (RFC 9110 §11.1), as crumb serve takes it,
// and the token compared in constant time.
func validBearer(header, token string) bool {
	scheme, got, ok := strings.Cut(header, " ")
	return ok && strings.EqualFold(scheme, "Bearer") && subtle.ConstantTimeCompare([]byte(got), []byte(token)) == 1
}
