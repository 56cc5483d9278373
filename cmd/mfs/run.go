package main

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"mfs/internal/run"
)

// runCommand is `mfs run`: CMD and its children get a mount namespace of
// their own with the node's namespace on --mnt, attached with their own
// home and selected node (MOSIX's per-process context).
func runCommand() *cli.Command {
	return &cli.Command{
		Name:      "run",
		Usage:     "run a command with its own home and selected node under /mfs (no root on a FUSE mount)",
		UsageText: "mfs run [--home N] [--select N] [--mnt /mfs] [--addr ADDR] [--user NAME] -- CMD [ARGS…]",
		Description: `On a node's FUSE mount (mfs node --mount DIR, --mnt DIR), whose context is
per process: write "home N" and "select N" to --mnt's ctl for this
process and exec CMD, which keeps the context and hands it to its
children. No root, no mount namespace; --addr does not apply.

On a v9fs mount point: run CMD in a private mount namespace (the host's later mounts still
propagate into it) with the node's namespace mounted on --mnt by the
kernel's 9p client (version=9p2000.L, access=user, cache=none), attached
as home=N/selected=M. CMD and every process it starts see their own
/mfs/home and /mfs/selected; "echo select N > /mfs/ctl" changes the
selection of that tree only. Nothing is mounted outside the tree.

A nested mfs run (inside a tree, as root again) inherits the tree's
context from --mnt's ctl: home unless --home is given, and selected too
when neither flag is. Outside a tree home defaults to the node mounted
and selected to home.

--addr is unix:/path (trans=unix; default: the local node's socket,
/run/mfs/mfs.sock) or host[:port] (trans=tcp, port 564 if left out; a
name is resolved to an IP address here).

Then it needs root (CAP_SYS_ADMIN) to mount, as MOSIX's mosrun did. CMD runs as
--user (name or uid), or as the invoking user when started through sudo
($SUDO_UID, $SUDO_GID), with that user's groups; else as root. A missing
--mnt is created with mkdir on the real disk (mkdir is not namespaced).

Exit status, as env(1): 125 when mfs run itself fails (usage errors
included, not 2 as elsewhere in mfs), 126 when CMD cannot be run, 127
when it is not found, otherwise CMD's (128+N when signal N ended it).

Examples:
  sudo mfs run --home 2 --select 3 -- sh
  sudo mfs run --addr 10.0.0.5 --select 4 --user alice -- make -j8`,
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return run.Failf("%v (see mfs run --help)", err)
		},
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "home", Usage: "home node `N` of CMD's tree"},
			&cli.StringFlag{Name: "select", Usage: "selected node `N` of CMD's tree"},
			&cli.StringFlag{Name: "mnt", Value: run.DefaultMountPoint, Usage: "mount point (created on the real disk if missing)"},
			&cli.StringFlag{Name: "addr", Usage: "node to mount: unix:/path or host[:port] (default: the local node's socket)"},
			&cli.StringFlag{Name: "user", Usage: "run CMD as this user (name or uid) with its groups"},
		},
		Action: func(c *cli.Context) error {
			req := run.Request{
				Home:   run.NodeFlag{Given: c.IsSet("home"), Value: c.String("home")},
				Select: run.NodeFlag{Given: c.IsSet("select"), Value: c.String("select")},
				Mnt:    c.String("mnt"),
				Addr:   c.String("addr"),
				User:   c.String("user"),
				Argv:   c.Args().Slice(),
			}
			if run.OnFUSE(req.Mnt) {
				return run.ExecFUSE(req)
			}
			spec, err := run.Prepare(c.Context, req)
			if err != nil {
				return err
			}
			status, err := run.Outer(spec)
			if err != nil {
				fmt.Fprintln(os.Stderr, errorLine(err))
			}
			os.Exit(status)
			return nil
		},
	}
}

// runInnerCommand is the hidden second step of `mfs run`, in the new mount
// namespace: mount, drop privileges, exec CMD.
func runInnerCommand() *cli.Command {
	return &cli.Command{
		Name:            run.InnerCommand,
		Hidden:          true,
		SkipFlagParsing: true,
		Action: func(c *cli.Context) error {
			return run.Inner(c.Args().Slice())
		},
	}
}
