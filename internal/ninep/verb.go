// Package ninep is `mfs 9p` and `mfs members`: 9P client verbs for shell
// scripts (read, write, cp, ls, stat, mkdir, rm, mv, ln, readlink, df,
// chmod, chown, touch, select, nodes), in 9P2000.L, 9P2000.u or 9P2000,
// with the copy engine of cp and of mv across nodes (cp*.go). Command and
// MembersCommand are the urfave/cli commands; each verb opens one
// connection, does its work and returns errors that main prints one line
// each (package clierr).
package ninep

import (
	"strings"

	"github.com/urfave/cli/v2"

	"mfs/internal/clierr"
)

// verb is one `mfs 9p` client verb. The verbs are a table so that their
// argument counts, help text and error wrapping are uniform.
type verb struct {
	name      string
	usage     string // one line for the verb list
	args      string // argument synopsis, e.g. "[--append] PATH"
	examples  string // Description text: what it does, with examples
	flags     []cli.Flag
	shortOpts bool // allow combined short flags (-ld)
	min, max  int  // argument count; max < 0 means no limit
	// check, if set, checks the arguments before connecting; its error
	// should be a usage error.
	check func(c *cli.Context, args []string) error
	run   func(s *session, c *cli.Context, args []string) error
}

// verbs lists every `mfs 9p` verb; each lives in the file of its concern.
func verbs() []verb {
	return []verb{
		readVerb(), writeVerb(), cpVerb(),
		lsVerb(), statVerb(),
		mkdirVerb(), rmVerb(), mvVerb(), lnVerb(), readlinkVerb(), dfVerb(),
		chmodVerb(), chownVerb(), touchVerb(),
		selectVerb(), nodesVerb(),
	}
}

// Command is `mfs 9p`: 9P client verbs for shell scripts (in 9P2000.L,
// 9P2000.u or 9P2000), in the manner of plan9port's 9p(1). Its errors
// name their subcommand and are usage errors or not as package clierr
// says; each is one line, or one line per error joined by errors.Join.
func Command() *cli.Command {
	var subs []*cli.Command
	for _, v := range verbs() {
		cmd := v.command("9p", dialSession)
		cmd.Flags = append(cmd.Flags, verbConnFlags()...)
		subs = append(subs, cmd)
	}
	return &cli.Command{
		Name:      "9p",
		Usage:     "read, write and list files of an mfs node (or any 9P server) from a shell",
		UsageText: "mfs 9p [--addr ADDR] [--aname SPEC] [--msize N] [--timeout D] [--dialect D] VERB [ARGS…]",
		Description: `Each verb opens one connection, does its work and exits: 0 on success,
1 when the operation fails (one line on stderr, e.g.
"mfs 9p: ls /7: no such file or directory"), 2 on a usage error.

ADDR is host:port, host alone (port 564), [ipv6]:port or unix:/path;
without --addr, $MFS_ADDR, and without that the local node's namespace
(its socket /run/mfs/mfs.sock, or $XDG_RUNTIME_DIR/mfs.sock for a user's
node, if there is one, else 127.0.0.1:564). The connection flags may come before the verb or after it
(mfs 9p ls --addr ADDR /); after the verb they have no short forms.
--timeout bounds connecting as well as each request. Paths are relative to
the attach (leading / optional) and cleaned here: "a/../b" is "/b".

--dialect (or $MFS_DIALECT) is the protocol to speak: 9p2000.L, the
default (mfs nodes, diod, Linux), 9p2000.u or 9p2000 (Plan 9, plan9port,
Inferno); the server must answer in it. In 9p2000.u and 9p2000 the verbs
go over the older messages (Tstat, Twstat, Topen, Tcreate, Tremove): mv
renames within a directory and copies across, times have whole seconds,
and in 9p2000 owners and groups go by name and setuid, setgid and sticky
bits are lost. What a dialect has no message for fails with one line
naming it: df in both (no statfs), ln and ln -s in 9p2000.

Examples:
   mfs 9p ls -l /
   echo hello | mfs 9p write /2/tmp/greeting
   mfs 9p read /2/tmp/greeting
   mfs 9p --addr unix:/run/mfs/mfs.sock stat /here/etc/hostname
   MFS_ADDR=10.0.0.5:564 mfs 9p nodes
   mfs 9p --addr plan9box --dialect 9p2000 ls -l /`,
		Flags:        connFlags(),
		Subcommands:  subs,
		OnUsageError: verbUsageError("9p"),
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return clierr.In("9p", clierr.Usagef("%v (see mfs 9p --help)", clierr.Unknown("verb", c.Args().First(), clierr.CommandNames(c.Command.Subcommands))))
			}
			return clierr.In("9p", clierr.Usagef("missing verb (see mfs 9p --help)"))
		},
	}
}

// opener gives a verb its session and the function that ends it.
type opener func(c *cli.Context) (s *session, done func(), err error)

// dialSession is the opener of a verb run from the command line: a fresh
// connection and attach, closed when the verb is done.
func dialSession(c *cli.Context) (*session, func(), error) {
	s, err := openSession(c)
	if err != nil {
		return nil, nil, err
	}
	return s, s.Close, nil
}

// command builds the cli.Command of v under the command named cmd (the
// prefix of its error lines), getting its session from open.
func (v verb) command(cmd string, open opener) *cli.Command {
	return &cli.Command{
		Name:                   v.name,
		Usage:                  v.usage,
		UsageText:              strings.TrimSpace("mfs 9p [connection flags] " + v.name + " " + v.args),
		Description:            v.examples,
		Flags:                  v.flags,
		UseShortOptionHandling: v.shortOpts,
		HideHelpCommand:        true, // a verb has no subcommands to complete
		OnUsageError:           verbUsageError(cmd),
		Action: func(c *cli.Context) error {
			return clierr.In(cmd, v.do(c, open))
		},
	}
}

// do checks v's argument count, gets a session, and runs v.
func (v verb) do(c *cli.Context, open opener) error {
	args := c.Args().Slice()
	if len(args) < v.min || (v.max >= 0 && len(args) > v.max) {
		return clierr.Usagef("%s: want %s %s (see mfs 9p %s --help)", v.name, v.name, v.args, v.name)
	}
	if v.check != nil {
		if err := v.check(c, args); err != nil {
			return err
		}
	}
	s, done, err := open(c)
	if err != nil {
		return err
	}
	defer done()
	return v.run(s, c, args)
}

// verbUsageError turns a flag parsing error into a usage error (exit 2)
// printed as one line, instead of urfave/cli's help dump on stdout.
func verbUsageError(cmd string) cli.OnUsageErrorFunc {
	return func(c *cli.Context, err error, _ bool) error {
		msg := strings.TrimSpace(err.Error())
		text := clierr.FlagMessage(err, c.Command.Flags) + connFlagHint(msg)
		if name := c.Command.Name; name != "" && name != cmd {
			text = name + ": " + text // the verb: mfs 9p: ls: unknown flag …
		}
		return clierr.In(cmd, clierr.Usagef("%s", text))
	}
}

// connFlagHint says where a connection flag goes when flag parsing did not
// know it: the verbs select runs take none (the connection is open), and
// after a verb -a is not short for --addr.
func connFlagHint(msg string) string {
	if strings.HasSuffix(msg, "not defined: -a") {
		return " (-a is short for --addr before the verb only; after it, write --addr)"
	}
	for _, f := range verbConnFlags() {
		if name := f.Names()[0]; strings.HasSuffix(msg, "not defined: -"+name) {
			return " (connection flags go before select: mfs 9p --" + name + " … select N VERB …)"
		}
	}
	return ""
}
