// Command crumb is a self-hosted cookie consent manager and website cookie
// scanner. Run "crumb help" for the subcommands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	var logged *loggedError
	if err != nil && !errors.Is(err, flag.ErrHelp) && !errors.As(err, &logged) {
		fmt.Fprintln(os.Stderr, "crumb:", err)
	}
	os.Exit(exitCode(err))
}

// command is one subcommand: its name, a one-line summary for "crumb help",
// and the function that runs it.
type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, env env) error
}

// env is the world a subcommand runs in, passed down instead of read from
// globals so tests can run the real program.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

func commands() []command {
	return []command{
		{"serve", "run the consent API, the banner and the demo page", runServe},
		{"scan", "crawl a website in headless Chromium and report its cookies and storage", runScan},
		{"classify", "classify cookie names read from stdin", runClassify},
		{"worker", "run scan workers that take scheduled scan jobs from Redis", runWorker},
		{"version", "print the version", runVersion},
	}
}

// run runs the subcommand args name. A subcommand that logs as JSON has its
// final error logged as one JSON line at level ERROR (msg "exiting", the
// error under "err", the exit code under "exit_code") and returned as a
// *loggedError, which main does not print again; every other error (flag
// and usage problems found before the logger exists, errors of commands
// logging text) main prints as plain text.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	sink := &stderrSink{Writer: stderr}
	err := dispatch(ctx, args, env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: sink})
	if err != nil && sink.json != nil && !errors.Is(err, flag.ErrHelp) {
		sink.json.Error("exiting", "err", err.Error(), "exit_code", exitCode(err))
		return &loggedError{err}
	}
	return err
}

// stderrSink is the stderr subcommands get; logSettings.logger notes in it
// the JSON logger it builds on it.
type stderrSink struct {
	io.Writer
	json *slog.Logger
}

// loggedError is an error already written to the log.
type loggedError struct{ err error }

func (e *loggedError) Error() string { return e.err.Error() }
func (e *loggedError) Unwrap() error { return e.err }

func dispatch(ctx context.Context, args []string, e env) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(e.stdout)
		if len(args) == 0 {
			return &usageError{msg: "no subcommand given"}
		}
		return nil
	}
	if args[0] == "-version" || args[0] == "--version" {
		args = append([]string{"version"}, args[1:]...)
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, args[1:], e)
		}
	}
	usage(e.stderr)
	return &usageError{msg: fmt.Sprintf("unknown subcommand %q", args[0])}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: crumb <subcommand> [flags]\n\nSubcommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun \"crumb <subcommand> -h\" for its flags and environment variables.")
}

// usageError is a problem with how crumb was invoked: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// usagef returns a *usageError with a formatted message.
func usagef(format string, a ...any) error { return &usageError{msg: fmt.Sprintf(format, a...)} }

// exitCode maps an error to the process exit code: 0 for success or -h,
// 2 for bad usage, 1 for everything else.
func exitCode(err error) int {
	var ue *usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		return 2
	default:
		return 1
	}
}

// parseFlags parses args with fs and turns flag errors into usage errors.
// The flag set must use flag.ContinueOnError.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &usageError{msg: err.Error()}
	}
	return nil
}
