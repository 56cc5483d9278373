package ninep

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"
	"github.com/urfave/cli/v2"

	"mfs/internal/clierr"
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
		args:  "N VERB [ARGS…]",
		examples: `Writes "select N" to the ctl file at the root of the attach, so that
/selected of this attach is node N, then runs VERB on the same attach. The
choice lasts as long as the attach, that is this one command: a later
"mfs 9p" run starts afresh (its /selected is the node it attached to),
unless the attach name sets it: --aname selected=N. So VERB is required.

Examples:
   mfs 9p select 2 read /selected/etc/hostname
   mfs 9p select 3 ls -l /selected/tmp
   mfs 9p --aname selected=2 read /selected/etc/hostname`,
		min: 1, max: -1,
		check: func(c *cli.Context, args []string) error {
			if _, ok := ParseNodeNumber(args[0]); !ok {
				return clierr.Usagef("select: node number %q: want 1, 2, …", args[0])
			}
			if len(args) == 1 {
				return clierr.Usagef("select %s: missing verb: the selection lasts for one attach, this command (mfs 9p select %s VERB [ARGS…], or mfs 9p --aname selected=%s VERB [ARGS…])", args[0], args[0], args[0])
			}
			if findVerb(args[1]) == nil {
				return clierr.Usagef("select: unknown verb %q (see mfs 9p --help)", args[1])
			}
			return nil
		},
		run: func(s *session, c *cli.Context, args []string) error {
			if err := s.ctl("select " + args[0] + "\n"); err != nil {
				return opErr("select", &nodeError{err: err}, args[0])
			}
			return runOnSession(s, c, args[1:])
		},
	}
}

// errNoCtl is a ctl command sent to a server whose attach root has no ctl
// file.
var errNoCtl = errors.New("no ctl file at the attach root (not an mfs namespace?)")

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
			return clierr.Usagef("select: unknown verb %q (see mfs 9p --help)", c.Args().First())
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
// from the write means the node named does not exist (see nodeError); a
// missing ctl means the server is not an mfs namespace.
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
	return err
}

// maxCtl is the most a ctl command may take: write to /ctl reads this much
// of its input before writing, to recognise a "select N".
const maxCtl = 512

// writeCtl is `mfs 9p write /ctl`. Its input goes to ctl as any write
// does, but a "select N" is recognised: an unknown node reads as it does
// for the select verb, and a selection that worked is reported on warn to
// last no longer than this attach, which ends with the command, with the
// two ways that work.
func (s *session) writeCtl(warn io.Writer, p string, appending bool, r io.Reader) error {
	head, err := io.ReadAll(io.LimitReader(r, maxCtl+1))
	if err != nil {
		return err
	}
	f := strings.Fields(string(head))
	isSelect := len(head) <= maxCtl && len(f) == 2 && f[0] == "select"
	err = s.write(p, appending, io.MultiReader(bytes.NewReader(head), r))
	if !isSelect {
		return err
	}
	n := f[1]
	if e, ok := errnoOf(err); ok && (e == linux.ENOENT || e == linux.EHOSTDOWN || e == linux.EHOSTUNREACH) {
		return &nodeError{what: "select " + n, err: err}
	}
	if err != nil {
		return err
	}
	if !s.isNamespaceCtl(p) {
		return nil
	}
	fmt.Fprintf(warn, "mfs 9p: warning: %q lasts only as long as this attach, which ends with this command; "+
		"to run a verb on node %s: mfs 9p select %s VERB [ARGS…], or mfs 9p --aname selected=%s VERB [ARGS…]\n",
		"select "+n, n, n, n)
	return nil
}

// isNamespaceCtl reports whether p reads as a namespace's ctl file
// ("here N home N selected N").
func (s *session) isNamespaceCtl(p string) bool {
	var buf bytes.Buffer
	if s.read(p, &buf) != nil {
		return false
	}
	f := strings.Fields(buf.String())
	return len(f) == 6 && f[0] == "here" && f[2] == "home" && f[4] == "selected"
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
			err := s.nodes(c.App.Writer)
			if isNotExist(err) {
				return s.noNodeTable(err)
			}
			return opErr("nodes", err, "/"+nodesFile)
		},
	}
}

// errNoNodeTable is the nodes verb at an attach without a node table: a
// plain export, or an attach name with a path (below the namespace root).
type errNoNodeTable struct {
	addr, aname string
	err         error
}

func (e *errNoNodeTable) Error() string {
	if anamePath(e.aname) {
		return fmt.Sprintf("%s --aname %s: no node table there (a node's namespace has it at its root: attach without a path)", e.addr, e.aname)
	}
	return fmt.Sprintf("%s is an export, not a node's namespace: it has no node table", e.addr)
}

// Unwrap returns the cause.
func (e *errNoNodeTable) Unwrap() error { return e.err }

// noNodeTable explains a missing nodes file.
func (s *session) noNodeTable(err error) error {
	return &errNoNodeTable{addr: s.addr, aname: s.aname, err: err}
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
