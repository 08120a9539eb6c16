package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"

	"github.com/redis/go-redis/v9"
)

// accountant samples where CPU time goes: this process (load generator
// and server together), redis-server (INFO cpu, main process; an AOF
// rewrite child shows under "other") and the whole machine (/proc/stat),
// so that a figure taken while other work shares the machine says so.
type accountant struct {
	redis redis.UniversalClient
}

// sample is the CPU counters at one moment, in seconds.
type sample struct {
	self, redis        float64
	machineBusy, total float64 // all CPUs, from /proc/stat; 0 if unreadable
}

func (a *accountant) sample(ctx context.Context) sample {
	var s sample
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		s.self = seconds(ru.Utime) + seconds(ru.Stime)
	}
	if info, err := a.redis.Info(ctx, "cpu").Result(); err == nil {
		user, _ := strconv.ParseFloat(field(info, "used_cpu_user"), 64)
		sys, _ := strconv.ParseFloat(field(info, "used_cpu_sys"), 64)
		s.redis = user + sys
	}
	s.machineBusy, s.total = machineCPU()
	return s
}

func seconds(tv syscall.Timeval) float64 { return float64(tv.Sec) + float64(tv.Usec)/1e6 }

// machineCPU reads the busy and total CPU seconds of all CPUs from the
// first line of /proc/stat (Linux); zeros elsewhere.
func machineCPU() (busy, total float64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return 0, 0
	}
	const hz = 100 // USER_HZ
	for i, v := range f[1:] {
		n, _ := strconv.ParseFloat(v, 64)
		total += n / hz
		if i != 3 && i != 4 { // idle, iowait
			busy += n / hz
		}
	}
	return busy, total
}

// usage accumulates a phase's CPU over its rounds.
type usage struct {
	self, redis, machineBusy, machineTotal float64
}

func (u *usage) add(before, after sample) {
	u.self += after.self - before.self
	u.redis += after.redis - before.redis
	u.machineBusy += after.machineBusy - before.machineBusy
	u.machineTotal += after.total - before.total
}

// print writes the CPU per request and how busy the machine was.
func (u *usage) print(w io.Writer, r *result) {
	n := float64(len(r.lat))
	if n == 0 {
		return
	}
	other := u.machineBusy - u.self - u.redis
	busy := 0.0
	if u.machineTotal > 0 {
		busy = 100 * u.machineBusy / u.machineTotal
	}
	fmt.Fprintf(w, "  %-34s %6.1f  %6.1f  %6.1f;  %3.0f%% of %d CPUs (this process %.0f%%, redis %.0f%%, others %.0f%% of one CPU)\n",
		r.name, 1e6*u.self/n, 1e6*u.redis/n, 1e6*max(other, 0)/n, busy, numCPU(),
		100*u.self/r.elapsed.Seconds(), 100*u.redis/r.elapsed.Seconds(), 100*max(other, 0)/r.elapsed.Seconds())
}

// profiler writes a CPU profile of the first round of one phase: resume
// before the phase, stop after it.
type profiler struct {
	f    *os.File
	done bool
}

func (p *profiler) resume(path string) error {
	if p.done || p.f != nil {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return err
	}
	p.f = f
	return nil
}

func (p *profiler) stop() {
	if p.f == nil {
		return
	}
	pprof.StopCPUProfile()
	p.f.Close()
	p.f, p.done = nil, true
}

func field(info, name string) string {
	for _, line := range strings.Split(strings.ReplaceAll(info, "\r", ""), "\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			return v
		}
	}
	return "?"
}

func gomaxprocs() int { return runtime.GOMAXPROCS(0) }
func numCPU() int     { return runtime.NumCPU() }
