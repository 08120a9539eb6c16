// Command loadtest measures the consent service under load on loopback:
// it starts a real redis-server with appendonly yes and appendfsync always
// (or -redis-fsync everysec; or uses -redis-url),
// starts the real server in-process on it, and drives N keep-alive
// connections in alternating phases, on the same server, at
//
//   - GET /healthz, the reference;
//   - POST /v1/sites/{site}/consents, each with a fresh event id;
//   - GET /v1/sites/{site}/crumb.js as a browser asks for it (br, gzip),
//     every answer a full 200 with the precompressed body (no
//     If-None-Match, so never a 304).
//
// It prints each endpoint's throughput and p50/p99 latency, where the CPU
// went (this process, which is both client and server; redis-server; the
// rest of the machine) and the two ratios the issues set targets for:
// decisions/healthz (≥ 0.6 with decision p99 ≤ 10 ms) and
// crumb.js/healthz (≥ 0.8).
//
// -no-write is a control: the store answers each decision at once
// without writing it, so the decisions' figures are the server's own cost
// (HTTP, Echo, checking, answering) with the Redis round trip taken out.
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
	"slices"
	"syscall"
	"time"

	"github.com/crumbhq/crumb/consentapi"
	"github.com/crumbhq/crumb/consentapi/redisstore"
	"github.com/crumbhq/crumb/consentapi/redistest"
	"github.com/crumbhq/crumb/consentapi/siteconfig"
	"github.com/crumbhq/crumb/consentapi/store"
	"github.com/prometheus/client_golang/prometheus"
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
	maxBatch     int
	profilePhase string
	fsync        string
	noWrite      bool
}

// Phase names, as -cpuprofile-phase takes them.
const (
	phaseHealthz   = "healthz"
	phaseDecisions = "decisions"
	phaseCrumbJS   = "crumbjs"
)

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o options
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.conns, "conns", 50, "concurrent keep-alive connections")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "total time per endpoint, split over the rounds")
	fs.IntVar(&o.rounds, "rounds", 2, "alternations healthz/decisions/crumb.js (evens out drift)")
	fs.StringVar(&o.redisURL, "redis-url", "", "use this Redis (with appendonly yes) instead of starting one")
	fs.StringVar(&o.fsync, "redis-fsync", "always", "appendfsync of the Redis it starts, and the weakest the store accepts: always or everysec")
	fs.StringVar(&o.config, "config", "configs/crumb.yaml", "site configuration")
	fs.StringVar(&o.site, "site", "exempel", "site to post decisions to and fetch crumb.js of")
	fs.StringVar(&o.profilePhase, "cpuprofile-phase", phaseDecisions, "phase -cpuprofile covers: decisions, healthz or crumbjs")
	fs.IntVar(&o.committers, "committers", 0, "redisstore batches in flight (0: the store's default)")
	fs.IntVar(&o.maxBatch, "max-batch", 0, "redisstore decisions per batch (0: the store's default; -max-batch 1 -committers 50 is one pipeline per request)")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the first round of -cpuprofile-phase to this file")
	fs.BoolVar(&o.noWrite, "no-write", false, "a control run: decisions are checked and answered but not written (the store answers at once), which measures the server's own decision path")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.conns < 1 || o.duration <= 0 || o.rounds < 1 {
		return errors.New("-conns, -duration and -rounds must be positive")
	}
	if o.committers < 0 || o.maxBatch < 0 {
		return errors.New("-committers and -max-batch must not be negative")
	}
	fsync, err := redisstore.ParseFsync(o.fsync)
	if err != nil {
		return err
	}
	if !slices.Contains([]string{phaseHealthz, phaseDecisions, phaseCrumbJS}, o.profilePhase) {
		return fmt.Errorf("-cpuprofile-phase %q: want decisions, healthz or crumbjs", o.profilePhase)
	}

	redisURL, version := o.redisURL, ""
	if redisURL == "" {
		rs, err := redistest.Launch(redistest.Options{TCP: true, Args: []string{"--appendfsync", string(fsync)}})
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
	policy := client.ConfigGet(ctx, "appendfsync").Val()["appendfsync"]
	st, err := redisstore.New(ctx, client, redisstore.Options{Committers: o.committers, MaxBatch: o.maxBatch, Fsync: fsync})
	if err != nil {
		return err
	}
	defer st.Close()
	var served store.Store = st
	if o.noWrite {
		served = unwritten{st}
	}
	sites, err := siteconfig.Load(o.config)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	// The rate limiter stays on (its cost is part of the measurement) with
	// a limit no single load client reaches.
	srv, err := consentapi.NewServer(ctx, consentapi.Options{
		Sites: sites, RateLimit: 1e9, RateBurst: 1e9, Registry: prometheus.NewRegistry(), Logger: logger,
	}, served)
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

	fmt.Fprintf(stdout, "crumb load test: %d connections, %v per endpoint in %d rounds, Redis %s appendonly yes appendfsync %s at %s, GOMAXPROCS %d, %d CPUs\n",
		o.conns, o.duration, o.rounds, version, policy, redisstore.Redacted(redisURL), gomaxprocs(), numCPU())
	if o.noWrite {
		fmt.Fprintln(stdout, "-no-write control run: decisions are checked and answered but NOT written; the decision figures are the server's own cost, not a store's")
	}
	gen := newGenerator(base, o.conns, o.site, banner, srv.WidgetVersion())
	phases := []*phase{
		{name: phaseHealthz, res: &result{name: "GET /healthz"}, do: gen.healthz},
		{name: phaseDecisions, res: &result{name: "POST /v1/sites/" + o.site + "/consents"}, do: gen.decision},
		{name: phaseCrumbJS, res: &result{name: "GET /v1/sites/" + o.site + "/crumb.js"}, do: gen.crumbJS},
	}
	// Warm up connections, scripts, caches and the rendered crumb.js.
	for _, p := range phases {
		gen.run(ctx, p.res, 500*time.Millisecond, p.do, true)
	}
	acct := &accountant{redis: client}
	var prof profiler
	defer prof.stop()
	per := o.duration / time.Duration(o.rounds)
	for range o.rounds {
		for _, p := range phases {
			if o.cpuProfile != "" && o.profilePhase == p.name {
				if err := prof.resume(o.cpuProfile); err != nil {
					return err
				}
			}
			before := acct.sample(ctx)
			gen.run(ctx, p.res, per, p.do, false)
			p.cpu.add(before, acct.sample(ctx))
			prof.stop()
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
	}
	for _, p := range phases {
		p.res.print(stdout)
	}
	fmt.Fprintln(stdout, "CPU per request (µs): this process (client + server), redis-server, other processes; machine busy")
	for _, p := range phases {
		p.cpu.print(stdout, p.res)
	}
	if os.Getenv("LOADTEST_COMMANDSTATS") != "" {
		fmt.Fprintln(stdout, client.Info(ctx, "commandstats").Val())
	}
	health, decide, js := phases[0].res, phases[1].res, phases[2].res
	ratio := decide.throughput() / health.throughput()
	if o.noWrite {
		fmt.Fprintf(stdout, "ratio decisions/healthz: %.2f (-no-write control: decisions not written, so no verdict on the target)\n", ratio)
	} else {
		fmt.Fprintf(stdout, "ratio decisions/healthz: %.2f (target >= 0.60 with decision p99 <= 10ms: %s)\n",
			ratio, verdict(ratio >= 0.6 && decide.percentile(0.99) <= 10*time.Millisecond))
	}
	ratio = js.throughput() / health.throughput()
	fmt.Fprintf(stdout, "ratio crumb.js/healthz:  %.2f (target >= 0.80: %s)\n", ratio, verdict(ratio >= 0.8))
	return nil
}

// phase is one endpoint's share of the run.
type phase struct {
	name string
	res  *result
	do   func() error
	cpu  usage
}

func verdict(met bool) string {
	if met {
		return "MET"
	}
	return "NOT MET"
}
