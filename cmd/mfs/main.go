// Command mfs runs a node of an mfs cluster, a local demo cluster, and 9P
// client verbs for scripts.
package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"
)

func main() {
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
