package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"
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
	run       func(s *session, c *cli.Context, args []string) error
}

// verbs lists every `mfs 9p` verb; each lives in the ninep_*.go file of its
// concern.
func verbs() []verb {
	return []verb{
		readVerb(), writeVerb(),
		lsVerb(), statVerb(),
		mkdirVerb(), rmVerb(), mvVerb(), lnVerb(), readlinkVerb(), dfVerb(),
		selectVerb(), nodesVerb(),
	}
}

// ninepCommand is `mfs 9p`: 9P2000.L client verbs for shell scripts, in the
// manner of plan9port's 9p(1).
func ninepCommand() *cli.Command {
	var subs []*cli.Command
	for _, v := range verbs() {
		subs = append(subs, v.command("9p"))
	}
	return &cli.Command{
		Name:      "9p",
		Usage:     "read, write and list files of an mfs node (or any 9P2000.L server) from a shell",
		UsageText: "mfs 9p [--addr ADDR] [--aname SPEC] [--msize N] VERB [ARGS…]",
		Description: `Each verb opens one connection, does its work and exits: 0 on success,
1 when the operation fails (one line on stderr, e.g.
"mfs 9p: ls /7: no such file or directory"), 2 on a usage error.

ADDR is host:port or unix:/path; without --addr, $MFS_ADDR, and without
that the local node's namespace (127.0.0.1:564). Paths are relative to the
attach (leading / optional) and cleaned here: "a/../b" is "/b".

Examples:
   mfs 9p ls -l /
   echo hello | mfs 9p write /2/tmp/greeting
   mfs 9p read /2/tmp/greeting
   mfs 9p --addr unix:/run/mfs.sock stat /here/etc/hostname
   MFS_ADDR=10.0.0.5:564 mfs 9p nodes`,
		Flags:        connFlags(),
		Subcommands:  subs,
		OnUsageError: onUsageError("9p"),
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return cmdErr("9p", usagef("unknown verb %q (see mfs 9p --help)", c.Args().First()))
			}
			return cmdErr("9p", usagef("missing verb (see mfs 9p --help)"))
		},
	}
}

// command builds the cli.Command of v under the command named cmd (the
// prefix of its error lines).
func (v verb) command(cmd string) *cli.Command {
	return &cli.Command{
		Name:                   v.name,
		Usage:                  v.usage,
		UsageText:              strings.TrimSpace("mfs 9p [connection flags] " + v.name + " " + v.args),
		Description:            v.examples,
		Flags:                  v.flags,
		UseShortOptionHandling: v.shortOpts,
		OnUsageError:           onUsageError(cmd),
		Action: func(c *cli.Context) error {
			return cmdErr(cmd, v.do(c))
		},
	}
}

// do checks v's argument count, connects, and runs v.
func (v verb) do(c *cli.Context) error {
	args := c.Args().Slice()
	if len(args) < v.min || (v.max >= 0 && len(args) > v.max) {
		return usagef("%s: want %s %s (see mfs 9p %s --help)", v.name, v.name, v.args, v.name)
	}
	s, err := openSession(c)
	if err != nil {
		return err
	}
	defer s.Close()
	return v.run(s, c, args)
}

// onUsageError turns a flag parsing error into a usage error (exit 2)
// printed as one line, instead of urfave/cli's help dump on stdout.
func onUsageError(cmd string) cli.OnUsageErrorFunc {
	return func(c *cli.Context, err error, _ bool) error {
		name := c.Command.Name
		if name == "" {
			name = cmd
		}
		return cmdErr(cmd, usagef("%s: %v", name, strings.TrimSpace(err.Error())))
	}
}

// cmdError is an error of the subcommand cmd, printed by main as
// "mfs CMD: …". It deliberately does not implement cli.ExitCoder: urfave/cli
// would print and exit by itself; main finds the exit code of the wrapped
// error with errors.As instead.
type cmdError struct {
	cmd string
	err error
}

func (e *cmdError) Error() string { return e.err.Error() }

// Unwrap returns the wrapped error.
func (e *cmdError) Unwrap() error { return e.err }

// Command names the subcommand for main's error line.
func (e *cmdError) Command() string { return e.cmd }

// cmdErr wraps a non-nil err as an error of the subcommand cmd.
func cmdErr(cmd string, err error) error {
	if err == nil {
		return nil
	}
	return &cmdError{cmd: cmd, err: err}
}

// usageError is a mistake in the command line: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// ExitCode implements cli.ExitCoder.
func (e *usageError) ExitCode() int { return 2 }

// usagef returns a usageError with a formatted message.
func usagef(format string, a ...any) error {
	return &usageError{msg: fmt.Sprintf(format, a...)}
}
