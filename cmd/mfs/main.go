// Command mfs runs a node of an mfs cluster, a local demo cluster, and 9P
// client verbs for scripts.
package main

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"strings"

	"github.com/urfave/cli/v2"
)

func main() {
	setGC()
	app := &cli.App{
		Name:                 "mfs",
		Usage:                "one file system for the whole cluster, over 9P",
		EnableBashCompletion: true,
		Commands: []*cli.Command{
			exportCommand(),
			nodeCommand(),
			demoCommand(),
			ninepCommand(),
			membersCommand(),
			tlsCommand(),
		},
	}
	if err := app.Run(os.Args); err != nil {
		fmt.Fprintln(os.Stderr, errorLine(err))
		os.Exit(exitCode(err))
	}
}

// errorLine formats err as the single line main prints: "mfs: …", or
// "mfs CMD: …" when the error names the subcommand it came from (by a
// Command() string method), so scripts see one line with a fixed prefix.
func errorLine(err error) string {
	prefix := "mfs"
	var c interface{ Command() string }
	if errors.As(err, &c) && c.Command() != "" {
		prefix += " " + c.Command()
	}
	msg := strings.ReplaceAll(strings.TrimSpace(err.Error()), "\n", "; ")
	return prefix + ": " + msg
}

// exitCode maps an error to the process exit status: 2 for usage errors, 1
// for everything else.
func exitCode(err error) int {
	var ec cli.ExitCoder
	if errors.As(err, &ec) {
		return ec.ExitCode()
	}
	return 1
}

// GC settings, unless the environment sets its own (GOGC, GOMEMLIMIT).
// The servers' garbage is mostly short-lived message buffers (the p9
// server allocates one payload buffer per Twrite and builds every reply
// afresh; readdir snapshots are large and short-lived) over a small live
// heap, so the default GOGC=100 collects very often: with 400 the export's
// CPU time per MiB written at 64 KiB msize drops by about a third and per
// entry listed by a quarter (srv9p/bench_test.go). The soft memory limit
// keeps that from growing a large heap fivefold: past it the collector
// works harder again instead of the heap growing.
const (
	gcPercent   = 400
	memoryLimit = 512 << 20
)

func setGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
}
