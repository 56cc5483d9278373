package main

import (
	"bytes"
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
		usage: "point /selected at node N (writes \"select N\" to ctl)",
		args:  "N",
		examples: `Writes "select N" to the ctl file at the root of the attach, so that
/selected shows node N (reading ctl shows "here 1 home 2 selected 3").

Examples:
   mfs 9p select 2
   mfs 9p read /selected/etc/hostname`,
		min: 1, max: 1,
		run: func(s *session, c *cli.Context, args []string) error {
			n, err := strconv.ParseUint(args[0], 10, 32)
			if err != nil || n == 0 {
				return usagef("select: node number %q: want 1, 2, …", args[0])
			}
			msg := fmt.Sprintf("select %d\n", n)
			return opErr("select", s.writeFile(ctlFile, []byte(msg)), strconv.FormatUint(n, 10))
		},
	}
}

// writeFile writes data at offset 0 of the existing file p in one Twrite.
func (s *session) writeFile(p string, data []byte) error {
	f, err := s.walk(p)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, _, err := f.Open(p9.WriteOnly); err != nil {
		return err
	}
	_, err = f.WriteAt(data, 0)
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
