// Command mfs runs a node of an mfs cluster, a local demo cluster, and 9P
// client verbs for scripts.
package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/urfave/cli/v2"

	"mfs/internal/clierr"
	"mfs/internal/ninep"
)

func main() {
	setGC()
	app := &cli.App{
		Name:                 "mfs",
		Usage:                "one file system for the whole cluster, over 9P",
		Version:              buildVersion(),
		EnableBashCompletion: true,
		// A word that is no command is a usage error suggesting the
		// closest command, not urfave/cli's "No help topic".
		Action: func(c *cli.Context) error {
			if !c.Args().Present() {
				return cli.ShowAppHelp(c)
			}
			return clierr.In("", fmt.Errorf("%w (see mfs --help)", clierr.Unknown("command", c.Args().First(), clierr.CommandNames(c.App.Commands))))
		},
		OnUsageError: func(c *cli.Context, err error, _ bool) error {
			// In: urfave/cli would print an ExitCoder itself and exit.
			return clierr.In("", clierr.Usagef("%s (see mfs --help)", clierr.FlagMessage(err, c.App.Flags)))
		},
		Commands: []*cli.Command{
			exportCommand(),
			nodeCommand(),
			demoCommand(),
			ninep.Command(),
			ninep.MembersCommand(),
			tlsCommand(),
			versionCommand(),
			genCommand(),
			runCommand(),
			runInnerCommand(),
		},
	}
	cli.VersionPrinter = func(c *cli.Context) { fmt.Fprint(c.App.Writer, versionText(debug.ReadBuildInfo())) }
	if err := app.Run(os.Args); err != nil {
		for _, line := range errorLines(err) {
			fmt.Fprintln(os.Stderr, line)
		}
		os.Exit(exitCode(err))
	}
}

// errorLines formats err as the lines main prints: "mfs: …", or "mfs CMD:
// …" when the error names the subcommand it came from (by a Command()
// string method), so scripts see lines with a fixed prefix. Each error
// joined by errors.Join (the first such join in err's chain: a verb that
// carries on past each failure, as rm and ls do) is a line of its own;
// any other error is one line.
func errorLines(err error) []string {
	prefix := "mfs"
	var c interface{ Command() string }
	if errors.As(err, &c) && c.Command() != "" {
		prefix += " " + c.Command()
	}
	errs := []error{err}
	var joined interface{ Unwrap() []error }
	if errors.As(err, &joined) {
		errs = joined.Unwrap()
	}
	var lines []string
	for _, e := range errs {
		msg := strings.ReplaceAll(strings.TrimSpace(e.Error()), "\n", "; ")
		lines = append(lines, prefix+": "+msg)
	}
	return lines
}

// errorLine is errorLines for an error that is one line.
func errorLine(err error) string {
	return strings.Join(errorLines(err), "\n")
}

// versionCommand is `mfs version`, the same as `mfs --version`.
func versionCommand() *cli.Command {
	return &cli.Command{
		Name:      "version",
		Usage:     "print the version, VCS revision and Go version of this binary",
		UsageText: "mfs version (or mfs --version)",
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return clierr.In("version", clierr.Usagef("takes no arguments"))
			}
			fmt.Fprint(c.App.Writer, versionText(debug.ReadBuildInfo()))
			return nil
		},
	}
}

// buildVersion is the module version of this binary: a tag such as
// v0.3.0 when built by `go install mfs/cmd/mfs@v0.3.0`, "(devel)" when
// built from a checkout, "unknown" without build information.
func buildVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	return moduleVersion(bi)
}

// moduleVersion is bi's main module version, "(devel)" when empty.
func moduleVersion(bi *debug.BuildInfo) string {
	if bi.Main.Version == "" {
		return "(devel)"
	}
	return bi.Main.Version
}

// versionText is what `mfs version` prints: the module version, the VCS
// revision (with its time, and "modified" when the tree had uncommitted
// changes) and the Go version and platform, from the build information
// the go command embeds. What the build lacks is "unknown": a build from
// outside a git checkout, or with -buildvcs=false, has no revision.
func versionText(bi *debug.BuildInfo, ok bool) string {
	if !ok {
		return fmt.Sprintf("mfs unknown\nrevision unknown\ngo %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	rev := "unknown"
	if r := settings["vcs.revision"]; r != "" {
		rev = r
		var notes []string
		if t := settings["vcs.time"]; t != "" {
			notes = append(notes, t)
		}
		if settings["vcs.modified"] == "true" {
			notes = append(notes, "modified")
		}
		if len(notes) > 0 {
			rev += " (" + strings.Join(notes, ", ") + ")"
		}
	}
	goVersion := bi.GoVersion
	if goVersion == "" {
		goVersion = "unknown"
	}
	platform := runtime.GOOS + "/" + runtime.GOARCH
	if os, arch := settings["GOOS"], settings["GOARCH"]; os != "" && arch != "" {
		platform = os + "/" + arch
	}
	return fmt.Sprintf("mfs %s\nrevision %s\ngo %s %s\n", moduleVersion(bi), rev, goVersion, platform)
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
