package main

import (
	"strings"

	"github.com/urfave/cli/v2"

	"mfs/internal/clierr"
	"mfs/internal/gen"
)

// genCommand is `mfs gen man|bash|systemd|env`: the manual page, the bash
// completion script, the systemd unit of `mfs node` and an example of its
// environment file, made from the command tree so they never drift from
// it (`mk install` installs them).
func genCommand() *cli.Command {
	return &cli.Command{
		Name:      "gen",
		Usage:     "print the manual page (man), the bash completion (bash), the systemd unit (systemd) or its environment file (env)",
		UsageText: "mfs gen man > mfs.1\n   mfs gen bash > /usr/local/share/bash-completion/completions/mfs\n   mfs gen [--bin /usr/local/bin/mfs] systemd > /etc/systemd/system/mfs.service\n   mfs gen env > /etc/default/mfs",
		Description: `man prints mfs(1) in roff, for man -l or $PREFIX/share/man/man1/mfs.1.
bash prints a completion script for bash 4 or later, for
$PREFIX/share/bash-completion/completions/mfs (or source it): it completes
commands, 9p verbs and flags from a table made from this binary, without
running mfs. systemd prints a unit running mfs node (Type=notify,
EnvironmentFile=-/etc/default/mfs, hardening that leaves the export of /
whole, each option commented). env prints an example /etc/default/mfs:
every flag of mfs node as its MFS_ variable. 'mk install' installs all
but env (an example for /etc, which is yours).`,
		OnUsageError: clierr.OnUsageError("gen"),
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "bin", Value: gen.DefaultBin, Usage: "the unit's ExecStart runs mfs from `PATH` (systemd)"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return clierr.In("gen", clierr.Usagef("want one argument: man, bash, systemd or env"))
			}
			out := c.App.Writer
			switch c.Args().First() {
			case "man":
				return clierr.In("gen", gen.Man(out, c.App))
			case "bash":
				return clierr.In("gen", gen.Bash(out, c.App))
			case "systemd":
				if !strings.HasPrefix(c.String("bin"), "/") {
					return clierr.In("gen", clierr.Usagef("--bin %q: want an absolute path (systemd runs no relative ExecStart)", c.String("bin")))
				}
				return clierr.In("gen", gen.Systemd(out, c.String("bin")))
			case "env":
				return clierr.In("gen", gen.Env(out, c.App))
			}
			return clierr.In("gen", clierr.Usagef("%q: want man, bash, systemd or env", c.Args().First()))
		},
	}
}
