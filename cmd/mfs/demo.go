package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"

	"mfs/internal/clierr"
	"mfs/internal/demo"
)

// demoCommand runs a whole cluster in one process, on loopback.
func demoCommand() *cli.Command {
	return &cli.Command{
		Name:  "demo",
		Usage: "run a small cluster on this machine (loopback only) and show how to use it",
		Description: `Starts --nodes real nodes in this process: real serf gossip, real 9P
servers, each on a free 127.0.0.1 port, each exporting its own directory
(DIR/1, DIR/2, …, seeded with hello.txt, etc/hostname and a tmp/ anyone
may write; without --dir a temporary directory removed on exit). The
nodes talk to each other as a cluster across machines would: mutual TLS
with a CA and node certificates, and encrypted gossip, all made in a
temporary directory removed on exit. Prints "export MFS_ADDR=…" first,
then the addresses and commands to try, and serves until interrupted
(Ctrl-C).

Run by root, the demo treats its clients as a node does (root's own
clients connect from a privileged port and act as root, anyone else as
the anonymous user). Run by an ordinary user, it can act as that user
alone, so every client acts as that user.`,
		OnUsageError: clierr.OnUsageError("demo"),
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "nodes", Value: 3, EnvVars: []string{"MFS_DEMO_NODES"}, Usage: "number of nodes (1 to 64)"},
			&cli.StringFlag{Name: "dir", EnvVars: []string{"MFS_DEMO_DIR"}, Usage: "export DIR/1, DIR/2, … (kept on exit); default a temporary directory (removed)"},
			&cli.StringFlag{Name: "mount", EnvVars: []string{"MFS_MOUNT"}, Usage: "mount node 1's namespace at `DIR` with FUSE (context per process)"},
			&cli.StringFlag{Name: "log-format", Value: "text", EnvVars: []string{"MFS_LOG_FORMAT"}, Usage: "text or json"},
			&cli.StringFlag{Name: "log-level", Value: "warn", EnvVars: []string{"MFS_LOG_LEVEL"}, Usage: "debug, info, warn or error"},
		},
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return clierr.In("demo", clierr.Usagef("unexpected argument %q", c.Args().First()))
			}
			nodes := c.Int("nodes")
			if nodes < 1 || nodes > demo.MaxNodes {
				return clierr.In("demo", clierr.Usagef("--nodes %d: want 1 to %d", nodes, demo.MaxNodes))
			}
			log, err := newLogger(c.App.ErrWriter, c.String("log-format"), c.String("log-level"))
			if err != nil {
				return clierr.In("demo", clierr.Usagef("%v", err))
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			out := c.App.Writer
			if out == nil {
				out = os.Stdout
			}
			return clierr.In("demo", demo.Run(ctx, out, nodes, c.String("dir"), c.String("mount"), log))
		},
	}
}
