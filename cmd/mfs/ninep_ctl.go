package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/hugelgupf/p9/p9"
	"github.com/urfave/cli/v2"
)

// Files of the namespace root the control verbs use (see package namespace).
const (
	ctlFile   = "ctl"
	nodesFile = "nodes"
)

func selectVerb() verb {
	return verb{
		name:  "select",
		usage: "point /selected at node N (writes \"select N\" to ctl), then run a verb",
		args:  "N [VERB ARGS…]",
		examples: `Writes "select N" to the ctl file at the root of the attach, so that
/selected of this attach is node N. The choice lasts as long as the attach,
so a verb given after N runs on the same attach; a later "mfs 9p" run starts
afresh (its /selected is the node it attached to), unless the attach name
sets it: --aname selected=N.

Examples:
   mfs 9p select 2 read /selected/etc/hostname
   mfs 9p select 3 ls -l /selected/tmp
   mfs 9p --aname selected=2 read /selected/etc/hostname`,
		min: 1, max: -1,
		run: func(s *session, c *cli.Context, args []string) error {
			n, err := strconv.ParseUint(args[0], 10, 32)
			if err != nil || n == 0 {
				return usagef("select: node number %q: want 1, 2, …", args[0])
			}
			if len(args) > 1 && findVerb(args[1]) == nil {
				return usagef("select: unknown verb %q (see mfs 9p --help)", args[1])
			}
			if err := s.ctl(fmt.Sprintf("select %d\n", n)); err != nil {
				return opErr("select", err, strconv.FormatUint(n, 10))
			}
			if len(args) == 1 {
				return nil
			}
			return runOnSession(s, c, args[1:])
		},
	}
}

// Errors of select.
var (
	errNoSuchNode = errors.New("no such node")
	errNoCtl      = errors.New("no ctl file at the attach root (not an mfs namespace?)")
)

// findVerb returns the verb select may run after it, or nil.
func findVerb(name string) *verb {
	for _, v := range verbs() {
		if v.name == name && v.name != "select" {
			return &v
		}
	}
	return nil
}

// runOnSession runs the verb line args (VERB ARGS…) on the open session s,
// parsing its flags as the command line would.
func runOnSession(s *session, c *cli.Context, args []string) error {
	reuse := func(*cli.Context) (*session, func(), error) { return s, func() {}, nil }
	app := &cli.App{
		Name:            "mfs 9p select N",
		HideHelpCommand: true,
		HideVersion:     true,
		Reader:          c.App.Reader,
		Writer:          c.App.Writer,
		ErrWriter:       c.App.ErrWriter,
		Action: func(c *cli.Context) error {
			return usagef("select: unknown verb %q (see mfs 9p --help)", c.Args().First())
		},
	}
	for _, v := range verbs() {
		if v.name != "select" {
			app.Commands = append(app.Commands, v.command("9p", reuse))
		}
	}
	return app.RunContext(c.Context, append([]string{app.Name}, args...))
}

// ctl writes cmd to the ctl file of the attach in one Twrite. ENOENT
// from the write means the node named does not exist; a missing ctl means
// the server is not an mfs namespace.
func (s *session) ctl(cmd string) error {
	f, err := s.walk(ctlFile)
	if isNotExist(err) {
		return errNoCtl
	}
	if err != nil {
		return err
	}
	defer f.Close()
	if _, _, err := f.Open(p9.WriteOnly); err != nil {
		return err
	}
	_, err = f.WriteAt([]byte(cmd), 0)
	if isNotExist(err) {
		return errNoSuchNode
	}
	return err
}

func nodesVerb() verb {
	return verb{
		name:  "nodes",
		usage: "list the cluster's nodes (the namespace's nodes file, as a table)",
		args:  "",
		examples: `Reads the nodes file of the namespace root (one line per node: number,
address, state, markers such as here or home) and prints it as an aligned
table. "mfs members" is the same.

Examples:
   mfs 9p nodes
   mfs members --addr 10.0.0.5:564`,
		min: 0, max: 0,
		run: func(s *session, c *cli.Context, args []string) error {
			return opErr("nodes", s.nodes(c.App.Writer), "/"+nodesFile)
		},
	}
}

// nodes prints the nodes file as a table.
func (s *session) nodes(w io.Writer) error {
	var buf bytes.Buffer
	if err := s.read(nodesFile, &buf); err != nil {
		return err
	}
	rows := nodesTable(buf.String())
	printTable(w, rows, len(rows[0]))
	return nil
}

// nodesTable splits the nodes file into rows under a header: number,
// address and state, then whatever follows (the markers) as one column. A
// first line that does not start with a number is taken as the file's own
// header.
func nodesTable(text string) [][]string {
	rows := [][]string{{"NODE", "ADDRESS", "STATE", "MARKERS"}}
	for i, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		row := make([]string, 4)
		copy(row, f)
		if len(f) > 3 {
			row[3] = strings.Join(f[3:], " ")
		}
		if _, err := strconv.Atoi(f[0]); err != nil && i == 0 {
			rows[0] = row
			continue
		}
		rows = append(rows, row)
	}
	return rows
}

// printTable writes rows as columns separated by two spaces: the first
// rightFrom columns left-aligned, the rest right-aligned; a left-aligned
// last column is not padded.
func printTable(w io.Writer, rows [][]string, rightFrom int) {
	var width []int
	for _, r := range rows {
		for i, col := range r {
			if i >= len(width) {
				width = append(width, 0)
			}
			width[i] = max(width[i], len(col))
		}
	}
	for _, r := range rows {
		var b strings.Builder
		for i, col := range r {
			if i > 0 {
				b.WriteString("  ")
			}
			switch {
			case i >= rightFrom:
				fmt.Fprintf(&b, "%*s", width[i], col)
			case i == len(r)-1:
				b.WriteString(col)
			default:
				fmt.Fprintf(&b, "%-*s", width[i], col)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}
