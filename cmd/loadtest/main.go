// Command loadtest measures the consent service under load on loopback:
// it starts a real redis-server with appendonly yes (or uses -redis-url),
// starts the real server in-process on it, and drives N keep-alive
// connections first against GET /healthz and then against
// POST /v1/sites/{site}/consents with fresh event ids, for a bounded time
// each, alternating, on the same server. It prints both throughputs, their
// p50/p99 latencies and the ratio decisions/healthz.
//
//	go run ./cmd/loadtest -duration 10s -conns 50
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"syscall"
	"time"

	"github.com/crumbhq/crumb/consentapi"
	"github.com/crumbhq/crumb/consentapi/redisstore"
	"github.com/crumbhq/crumb/consentapi/redistest"
	"github.com/crumbhq/crumb/consentapi/siteconfig"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

// options are the load test's settings.
type options struct {
	conns        int
	duration     time.Duration
	rounds       int
	redisURL     string
	config       string
	site         string
	cpuProfile   string
	committers   int
	profilePhase string
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o options
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.conns, "conns", 50, "concurrent keep-alive connections")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "total time per endpoint, split over the rounds")
	fs.IntVar(&o.rounds, "rounds", 2, "alternations healthz/decisions (evens out drift)")
	fs.StringVar(&o.redisURL, "redis-url", "", "use this Redis (with appendonly yes) instead of starting one")
	fs.StringVar(&o.config, "config", "configs/crumb.yaml", "site configuration")
	fs.StringVar(&o.site, "site", "exempel", "site to post decisions to")
	fs.StringVar(&o.profilePhase, "cpuprofile-phase", "decisions", "phase -cpuprofile covers: decisions or healthz")
	fs.IntVar(&o.committers, "committers", 0, "redisstore group committers (0: the store's default)")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the decision phases to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.conns < 1 || o.duration <= 0 || o.rounds < 1 {
		return errors.New("-conns, -duration and -rounds must be positive")
	}

	redisURL, version := o.redisURL, ""
	if redisURL == "" {
		rs, err := redistest.Launch(redistest.Options{TCP: true})
		if err != nil {
			return err
		}
		defer rs.Close()
		redisURL = rs.URL()
	}
	client, err := redisstore.Dial(redisURL)
	if err != nil {
		return err
	}
	if info, err := client.Info(ctx, "server").Result(); err == nil {
		version = field(info, "redis_version")
	}
	st, err := redisstore.New(ctx, client, redisstore.Options{Committers: o.committers})
	if err != nil {
		return err
	}
	defer st.Close()
	sites, err := siteconfig.Load(o.config)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	// The rate limiter stays on (its cost is part of the measurement) with
	// a limit no single load client reaches.
	srv, err := consentapi.NewServer(ctx, consentapi.Options{
		Sites: sites, RateLimit: 1e9, RateBurst: 1e9, Registry: prometheus.NewRegistry(), Logger: logger,
	}, st)
	if err != nil {
		return err
	}
	banner, ok := srv.Banner(o.site)
	if !ok {
		return fmt.Errorf("site %q is not in %s", o.site, o.config)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 5 * time.Second}
	go hs.Serve(ln)
	defer hs.Close()
	base := "http://" + ln.Addr().String()

	fmt.Fprintf(stdout, "crumb load test: %d connections, %v per endpoint in %d rounds, Redis %s appendonly yes at %s, GOMAXPROCS %d\n",
		o.conns, o.duration, o.rounds, version, redisURL, gomaxprocs())
	health := &result{name: "GET /healthz"}
	decide := &result{name: "POST /v1/sites/" + o.site + "/consents"}
	gen := newGenerator(base, o.conns, o.site, banner)
	// Warm up connections, scripts and caches.
	gen.run(ctx, health, 500*time.Millisecond, gen.healthz, true)
	gen.run(ctx, decide, 500*time.Millisecond, gen.decision, true)
	per := o.duration / time.Duration(o.rounds)
	var redisCPU float64
	for range o.rounds {
		if o.cpuProfile != "" && o.profilePhase == "healthz" {
			stopProfile, err := startProfile(o.cpuProfile)
			if err != nil {
				return err
			}
			gen.run(ctx, health, per, gen.healthz, false)
			stopProfile()
		} else {
			gen.run(ctx, health, per, gen.healthz, false)
		}
		before := redisCPUSeconds(ctx, client)
		if o.cpuProfile != "" && o.profilePhase == "decisions" {
			stopProfile, err := startProfile(o.cpuProfile)
			if err != nil {
				return err
			}
			defer stopProfile()
		}
		gen.run(ctx, decide, per, gen.decision, false)
		redisCPU += redisCPUSeconds(ctx, client) - before
	}
	health.print(stdout)
	decide.print(stdout)
	if os.Getenv("LOADTEST_COMMANDSTATS") != "" {
		fmt.Fprintln(stdout, client.Info(ctx, "commandstats", "cpu").Val())
	}
	fmt.Fprintf(stdout, "redis-server CPU during decisions: %.0f%% of one core (%.1f µs per decision)\n",
		100*redisCPU/decide.elapsed.Seconds(), 1e6*redisCPU/float64(len(decide.lat)))
	ratio := decide.throughput() / health.throughput()
	verdict := "MET"
	if ratio < 0.6 || decide.percentile(0.99) > 10*time.Millisecond {
		verdict = "NOT MET"
	}
	fmt.Fprintf(stdout, "ratio decisions/healthz: %.2f (target >= 0.60 with decision p99 <= 10ms: %s)\n", ratio, verdict)
	return nil
}

// redisCPUSeconds is the CPU time redis-server has used (INFO cpu).
func redisCPUSeconds(ctx context.Context, c redis.UniversalClient) float64 {
	info, err := c.Info(ctx, "cpu").Result()
	if err != nil {
		return 0
	}
	user, _ := strconv.ParseFloat(field(info, "used_cpu_user"), 64)
	sys, _ := strconv.ParseFloat(field(info, "used_cpu_sys"), 64)
	return user + sys
}

// startProfile starts a CPU profile (only the first call of a run counts).
func startProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return func() {}, nil // already profiling
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

func field(info, name string) string {
	for _, line := range splitLines(info) {
		if len(line) > len(name) && line[:len(name)+1] == name+":" {
			return line[len(name)+1:]
		}
	}
	return "?"
}
