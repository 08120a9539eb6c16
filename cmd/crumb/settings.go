package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"
)

// envFlags is a subcommand's flag set whose flags can also be set by
// CRUMB_* environment variables: a flag given on the command line wins over
// its variable, and the variable over the default.
type envFlags struct {
	fs      *flag.FlagSet
	envOf   map[string]string // flag name → variable
	e       env
	fromEnv map[string]bool // flags parse set from their variable
}

func newEnvFlags(name, usage string, e env) *envFlags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // the error is printed once, by main; Usage writes the help
	fs.Usage = func() { fmt.Fprint(e.stderr, usage) }
	return &envFlags{fs: fs, envOf: map[string]string{}, e: e, fromEnv: map[string]bool{}}
}

func (f *envFlags) str(p *string, name, env, def string) {
	f.fs.StringVar(p, name, def, "")
	f.envOf[name] = env
}

func (f *envFlags) int(p *int, name, env string, def int) {
	f.fs.IntVar(p, name, def, "")
	f.envOf[name] = env
}

func (f *envFlags) float(p *float64, name, env string, def float64) {
	f.fs.Float64Var(p, name, def, "")
	f.envOf[name] = env
}

func (f *envFlags) bool(p *bool, name, env string, def bool) {
	f.fs.BoolVar(p, name, def, "")
	f.envOf[name] = env
}

func (f *envFlags) duration(p *time.Duration, name, env string, def time.Duration) {
	f.fs.DurationVar(p, name, def, "")
	f.envOf[name] = env
}

// parse parses args (a usage error for bad flags or stray arguments), then
// sets every flag not given on the command line from its variable. It
// returns one problem per variable whose value the flag refuses, for the
// caller to report together with its own checks.
func (f *envFlags) parse(args []string) ([]string, error) {
	if err := parseFlags(f.fs, args); err != nil {
		return nil, err
	}
	if f.fs.NArg() > 0 {
		return nil, usagef("%s: unexpected argument %q", f.fs.Name(), f.fs.Arg(0))
	}
	set := map[string]bool{}
	f.fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	var problems []string
	f.fs.VisitAll(func(fl *flag.Flag) {
		name := f.envOf[fl.Name]
		if v := f.e.getenv(name); name != "" && v != "" && !set[fl.Name] {
			if err := f.fs.Set(fl.Name, v); err != nil {
				// A refused value leaves the flag at its zero value:
				// restore the default, so that the caller's checks do not
				// report that zero as a second problem.
				f.fs.Set(fl.Name, fl.DefValue)
				problems = append(problems, fmt.Sprintf("%s=%q: %s", name, v, wantOf(fl.Value)))
			}
			f.fromEnv[fl.Name] = true
		}
	})
	return problems, nil
}

// wantOf says what a variable for flag value v must hold, for a value the
// flag refused ("parse error" alone does not say).
func wantOf(v flag.Value) string {
	g, _ := v.(flag.Getter)
	if g == nil {
		return "invalid value"
	}
	switch g.Get().(type) {
	case time.Duration:
		return "want a duration such as 30s, 5m or 1h"
	case int:
		return "want a whole number"
	case float64:
		return "want a number"
	case bool:
		return "want true or false"
	}
	return "invalid value"
}

// source says where a parsed flag's value came from, for the startup log:
// "-name" (the command line), its variable's name, or "default".
func (f *envFlags) source(name string) string {
	if f.fromEnv[name] {
		return f.envOf[name]
	}
	given := false
	f.fs.Visit(func(fl *flag.Flag) { given = given || fl.Name == name })
	if given {
		return "-" + name
	}
	return "default"
}

// logSettings are the logging flags every long-running subcommand shares.
type logSettings struct{ format, level string }

func (l *logSettings) register(f *envFlags) {
	f.str(&l.format, "log-format", "CRUMB_LOG_FORMAT", "text")
	f.str(&l.level, "log-level", "CRUMB_LOG_LEVEL", "info")
}

// check returns the problems with the settings.
func (l *logSettings) check() []string {
	var problems []string
	if l.format != "text" && l.format != "json" {
		problems = append(problems, fmt.Sprintf("log format %q: want text or json", l.format))
	}
	if _, err := parseLevel(l.level); err != nil {
		problems = append(problems, err.Error())
	}
	return problems
}

// logger builds the process's one logger, writing to w. Durations are
// logged as text ("20s"), in JSON as in text. When w is the *stderrSink run
// passes down and the format is json, the sink keeps the logger so that
// run reports the command's final error through it, as JSON.
func (l *logSettings) logger(w io.Writer) *slog.Logger {
	lv, _ := parseLevel(l.level)
	opts := &slog.HandlerOptions{Level: lv, ReplaceAttr: durationText}
	if l.format == "json" {
		logger := slog.New(slog.NewJSONHandler(w, opts))
		if sink, ok := w.(*stderrSink); ok {
			sink.json = logger
		}
		return logger
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// durationText is a slog ReplaceAttr that writes time.Duration values as
// their String(), not (in JSON) as nanoseconds.
func durationText(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		a.Value = slog.StringValue(a.Value.Duration().String())
	}
	return a
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("log level %q: want debug, info, warn or error", s)
	}
	return l, nil
}
