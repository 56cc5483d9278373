// Command mfs runs a node of an mfs cluster, a local demo cluster, and 9P
// client verbs for scripts.
package main

import (
	"errors"
	"fmt"
	"os"

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
		fmt.Fprintf(os.Stderr, "mfs: %v\n", err)
		os.Exit(exitCode(err))
	}
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
