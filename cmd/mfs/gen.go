package main

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"

	"mfs/internal/clierr"
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
			&cli.StringFlag{Name: "bin", Value: defaultBin, Usage: "the unit's ExecStart runs mfs from `PATH` (systemd)"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return clierr.In("gen", clierr.Usagef("want one argument: man, bash, systemd or env"))
			}
			out := c.App.Writer
			switch c.Args().First() {
			case "man":
				return clierr.In("gen", genMan(out, c.App))
			case "bash":
				return clierr.In("gen", genBash(out, c.App))
			case "systemd":
				if !strings.HasPrefix(c.String("bin"), "/") {
					return clierr.In("gen", clierr.Usagef("--bin %q: want an absolute path (systemd runs no relative ExecStart)", c.String("bin")))
				}
				return clierr.In("gen", genSystemd(out, c.String("bin")))
			case "env":
				return clierr.In("gen", genEnv(out, c.App))
			}
			return clierr.In("gen", clierr.Usagef("%q: want man, bash, systemd or env", c.Args().First()))
		},
	}
}

// genBash writes a bash completion script for the app: a table of each
// command path's subcommands and flags, and a function that finds the
// path in the words typed so far.
func genBash(w io.Writer, app *cli.App) error {
	cmds := map[string][]string{}
	flags := map[string][]string{}
	var walk func(path string, subs []*cli.Command, fl []cli.Flag)
	walk = func(path string, subs []*cli.Command, fl []cli.Flag) {
		seen := map[string]bool{}
		add := func(f string) {
			if !seen[f] {
				seen[f] = true
				flags[path] = append(flags[path], f)
			}
		}
		for _, f := range fl {
			for _, n := range f.Names() {
				if len(n) == 1 {
					add("-" + n)
				} else {
					add("--" + n)
				}
			}
		}
		add("--help")
		for _, c := range subs {
			if c.Hidden || c.Name == "help" { // urfave/cli's own
				continue
			}
			for _, n := range c.Names() { // an alias has its command's table
				cmds[path] = append(cmds[path], n)
				walk(path+" "+n, c.Subcommands, c.Flags)
			}
		}
	}
	walk("mfs", app.Commands, append(app.Flags, &cli.BoolFlag{Name: "version"}))

	var b strings.Builder
	b.WriteString(`# bash completion for mfs (bash 4 or later), made by 'mfs gen bash'.
# Install as $PREFIX/share/bash-completion/completions/mfs, or source it.

declare -gA _mfs_cmds=(
`)
	writeTable(&b, cmds)
	b.WriteString(`)
declare -gA _mfs_flags=(
`)
	writeTable(&b, flags)
	b.WriteString(`)

# _mfs finds the command path ("mfs 9p ls") in the words before the
# cursor, then offers that command's flags after a "-", else its
# subcommands; with neither, bash completes file names.
_mfs() {
	local cur=${COMP_WORDS[COMP_CWORD]} path=mfs w i
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		case " ${_mfs_cmds[$path]} " in
		*" $w "*) path="$path $w" ;;
		esac
	done
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "${_mfs_flags[$path]}" -- "$cur"))
	else
		COMPREPLY=($(compgen -W "${_mfs_cmds[$path]}" -- "$cur"))
	fi
}
complete -o bashdefault -o default -F _mfs mfs
`)
	_, err := io.WriteString(w, b.String())
	return err
}

// writeTable writes the entries of an associative array, sorted by key.
func writeTable(b *strings.Builder, t map[string][]string) {
	keys := make([]string, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(b, "\t[%q]=%q\n", k, strings.Join(t[k], " "))
	}
}
