// Package clierr holds the errors mfs's commands return: an error names
// the subcommand it came from, and a usage error exits with status 2.
// main (cmd/mfs) prints them, one line each; nothing here prints.
package clierr

import (
	"fmt"
	"strings"

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
	return func(c *cli.Context, err error, _ bool) error {
		var flags []cli.Flag
		if c != nil && c.Command != nil {
			flags = c.Command.Flags
		}
		return In(cmd, Usagef("%s (see mfs %s --help)", FlagMessage(err, flags), cmd))
	}
}

// undefinedFlag is how the flag package says a flag is not defined.
const undefinedFlag = "flag provided but not defined: -"

// FlagMessage says a flag parsing error in one line: an undefined flag as
// "unknown flag --adr: did you mean --addr?", suggesting the closest of
// flags; any other error in its own words.
func FlagMessage(err error, flags []cli.Flag) string {
	msg := strings.TrimSpace(err.Error())
	i := strings.Index(msg, undefinedFlag)
	if i < 0 {
		return msg
	}
	name := msg[i+len(undefinedFlag):]
	var names []string
	for _, f := range flags {
		names = append(names, f.Names()...)
	}
	out := "unknown flag " + dashes(name)
	if s := Suggest(name, names); s != "" {
		out += ": did you mean " + dashes(s) + "?"
	}
	return out
}

// dashes is a flag name as it is typed: -a, --addr.
func dashes(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// Suggest returns the candidate word most likely meant by a mistyped one:
// the closest by edit distance, if within a third of the word's length
// (at least 1), else one the word is a prefix of; "" when none is close,
// and for a word of one letter.
func Suggest(word string, candidates []string) string {
	if len(word) < 2 {
		return "" // -z for -l: a guess, not a suggestion
	}
	best, bestD := "", 0
	for _, c := range candidates {
		if c == word {
			continue
		}
		d := editDistance(word, c)
		if best == "" || d < bestD {
			best, bestD = c, d
		}
	}
	if best != "" && bestD <= max(1, len(word)/3) {
		return best
	}
	for _, c := range candidates {
		if c != word && strings.HasPrefix(c, word) {
			return c
		}
	}
	return ""
}

// editDistance is the Levenshtein distance between a and b, counting a
// swap of two neighbours as one edit (Damerau's optimal string alignment).
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range rb {
		d[0][j+1] = j + 1
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

// CommandNames lists the names (and aliases) of cmds that a user may
// type, for Suggest.
func CommandNames(cmds []*cli.Command) []string {
	var names []string
	for _, c := range cmds {
		if !c.Hidden {
			names = append(names, c.Names()...)
		}
	}
	return names
}

// Unknown is the usage error of a mistyped command word: `unknown command
// "nod": did you mean node?`; what names the kind of word (command,
// verb, subcommand).
func Unknown(what, word string, candidates []string) error {
	msg := fmt.Sprintf("unknown %s %q", what, word)
	if s := Suggest(word, candidates); s != "" {
		msg += ": did you mean " + s + "?"
	}
	return Usagef("%s", msg)
}
