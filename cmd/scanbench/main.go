// Command scanbench measures the crawler: it serves a generated shop of
// -pages pages locally (over HTTPS, through Chromium's host rules, as the
// tests do) and scans it once per concurrency level, printing pages per
// minute and peak memory: the Go process (heap in use and RSS) and the
// Chromium processes (RSS summed over all of them, and PSS, which counts
// memory they share once), sampled from /proc. Ratios are against the first
// level, measured in the same run.
//
//	go run ./cmd/scanbench -pages 100 -concurrency 1,2,4
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/crumbhq/crumb/scanner/crawl"
	"github.com/crumbhq/crumb/scanner/crawl/crawltest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "scanbench:", err)
		os.Exit(1)
	}
}

// result is one scan's figures.
type result struct {
	concurrency, pages, errors int
	wall                       time.Duration
	peak                       memory
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("scanbench", flag.ContinueOnError)
	pages := fs.Int("pages", 100, "pages of the generated site")
	levels := fs.String("concurrency", "1,2,4", "comma-separated tab counts to measure")
	dwell := fs.Duration("dwell", 500*time.Millisecond, "time on each page before collecting")
	chromium := fs.String("chromium", getenv("CRUMB_CHROMIUM"), "the browser (env CRUMB_CHROMIUM; default found on PATH)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var counts []int
	for _, s := range strings.Split(*levels, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return fmt.Errorf("-concurrency: %q is not a tab count", s)
		}
		counts = append(counts, n)
	}
	srv, err := crawltest.Start(crawltest.NewShop(*pages), crawltest.ShopHosts...)
	if err != nil {
		return err
	}
	defer srv.Close()

	var results []result
	for _, c := range counts {
		dir, err := os.MkdirTemp("", "scanbench-")
		if err != nil {
			return err
		}
		o := crawl.Options{
			URL: "https://www.butiken.se/", MaxPages: *pages, Concurrency: c, Dwell: *dwell,
			ChromiumPath: *chromium, ChromiumFlags: srv.Flags, TempDir: dir,
		}
		fmt.Fprintf(os.Stderr, "scanning %d pages with %d tabs...\n", *pages, c)
		sampler := startSampling(dir, 250*time.Millisecond)
		began := time.Now()
		rep, err := crawl.Scan(ctx, o)
		wall := time.Since(began)
		peak := sampler.stop()
		os.RemoveAll(dir)
		if err != nil {
			return err
		}
		r := result{concurrency: c, pages: len(rep.Pages), wall: wall, peak: peak}
		for _, p := range rep.Pages {
			if p.Failed() {
				r.errors++
			}
		}
		results = append(results, r)
	}
	return report(stdout, results, *dwell)
}

func report(w io.Writer, results []result, dwell time.Duration) error {
	fmt.Fprintf(w, "generated shop, dwell %s, %d CPUs, %s\n", dwell, runtime.NumCPU(), runtime.Version())
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "tabs\tpages\terrors\twall\tpages/min\tspeed-up\tGo heap\tGo RSS\tChromium RSS\tChromium PSS\tpeak total (Go RSS + Chromium PSS)\t")
	base := results[0]
	perMin := func(r result) float64 { return float64(r.pages) / r.wall.Minutes() }
	for _, r := range results {
		fmt.Fprintf(tw, "%d\t%d\t%d\t%s\t%.1f\t%.2f×\t%s\t%s\t%s\t%s\t%s\t\n", r.concurrency, r.pages, r.errors,
			r.wall.Round(100*time.Millisecond), perMin(r), perMin(r)/perMin(base),
			mib(r.peak.goHeap), mib(r.peak.goRSS), mib(r.peak.chromeRSS), mib(r.peak.chromePSS), mib(r.peak.goRSS+r.peak.chromePSS))
	}
	return tw.Flush()
}

func mib(b uint64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

// memory is one sample, or the peaks of each figure over many.
type memory struct {
	goHeap, goRSS, chromeRSS, chromePSS uint64
}

// sampler records peak memory until stopped.
type sampler struct {
	mu   sync.Mutex
	peak memory
	done chan struct{}
	wg   sync.WaitGroup
}

// startSampling samples this process and every process whose command line
// holds marker (the browser's profile directory) every interval.
func startSampling(marker string, interval time.Duration) *sampler {
	s := &sampler{done: make(chan struct{})}
	s.wg.Go(func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			m := sample(marker)
			s.mu.Lock()
			s.peak.goHeap = max(s.peak.goHeap, m.goHeap)
			s.peak.goRSS = max(s.peak.goRSS, m.goRSS)
			s.peak.chromeRSS = max(s.peak.chromeRSS, m.chromeRSS)
			s.peak.chromePSS = max(s.peak.chromePSS, m.chromePSS)
			s.mu.Unlock()
			select {
			case <-s.done:
				return
			case <-t.C:
			}
		}
	})
	return s
}

func (s *sampler) stop() memory {
	close(s.done)
	s.wg.Wait()
	return s.peak
}

func sample(marker string) memory {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m := memory{goHeap: ms.HeapInuse, goRSS: procField("self", "status", "VmRSS:")}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		cmd, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !bytes.Contains(cmd, []byte(marker)) {
			continue
		}
		m.chromeRSS += procField(e.Name(), "status", "VmRSS:")
		m.chromePSS += procField(e.Name(), "smaps_rollup", "Pss:")
	}
	return m
}

// procField reads a "Name:   123 kB" line of /proc/<pid>/<file> as bytes.
func procField(pid, file, name string) uint64 {
	f, err := os.Open(filepath.Join("/proc", pid, file))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), name); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
