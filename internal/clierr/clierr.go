// Package clierr holds the errors mfs's commands return: an error names
// the subcommand it came from, and a usage error exits with status 2.
// main (cmd/mfs) prints them, one line each; nothing here prints.
package clierr

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

// commandError is an error of the subcommand cmd, printed by main as
// "mfs CMD: …". It deliberately does not implement cli.ExitCoder: urfave/cli
// would print and exit by itself; main finds the exit code of the wrapped
// error with errors.As instead.
type commandError struct {
	cmd string
	err error
}

func (e *commandError) Error() string { return e.err.Error() }

// Unwrap returns the wrapped error.
func (e *commandError) Unwrap() error { return e.err }

// Command names the subcommand for main's error line.
func (e *commandError) Command() string { return e.cmd }

// In wraps a non-nil err as an error of the subcommand cmd (its Command
// method returns cmd); nil stays nil.
func In(cmd string, err error) error {
	if err == nil {
		return nil
	}
	return &commandError{cmd: cmd, err: err}
}

// usageError is a mistake in the command line: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// ExitCode implements cli.ExitCoder.
func (e *usageError) ExitCode() int { return 2 }

// Usagef returns a usage error (its ExitCode is 2) with a formatted
// message.
func Usagef(format string, a ...any) error {
	return &usageError{msg: fmt.Sprintf(format, a...)}
}

// OnUsageError makes a flag error of the subcommand cmd a usage error of
// one line (see In and Usagef) instead of urfave/cli's usage text.
func OnUsageError(cmd string) cli.OnUsageErrorFunc {
	return func(_ *cli.Context, err error, _ bool) error {
		return In(cmd, Usagef("%v (see mfs %s --help)", err, cmd))
	}
}
