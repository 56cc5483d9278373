package ninep

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/hugelgupf/p9/linux"

	"mfs/internal/clierr"
	"mfs/internal/dial"
)

// Keys of the attach-name context elements (see package namespace,
// "Attach context").
var anameKeys = []string{"home", "selected"}

// CheckAName checks an attach name against the namespace's grammar before
// it is sent, since the server answers a bad one with a bare EINVAL: the
// key=value context elements come first (keys home and selected, values
// canonical decimal node numbers: "2", not "02" or "+2"), then a path,
// whose names may not be "." or "..". An element with "=" after the first
// name of the path is an ordinary name. A bad name is a usage error naming
// the bad element.
func CheckAName(aname string) error {
	inPath := false
	for _, elem := range strings.Split(aname, "/") {
		switch {
		case elem == "":
		case elem == "." || elem == "..":
			return clierr.Usagef("--aname %s: %q: attach names are not cleaned, write the path without . and ..", aname, elem)
		case !inPath && strings.Contains(elem, "="):
			key, val, _ := strings.Cut(elem, "=")
			if !slices.Contains(anameKeys, key) {
				return clierr.Usagef("--aname %s: unknown context key %q (want home or selected)", aname, key)
			}
			if _, ok := ParseNodeNumber(val); !ok {
				return clierr.Usagef("--aname %s: %s: node number %q: want 1, 2, … (decimal, no sign or leading zero)", aname, key, val)
			}
		default:
			inPath = true
		}
	}
	return nil
}

// ParseNodeNumber accepts a node number as the namespace does: canonical
// decimal from 1 ("2", not "02" or "+2"), so every node has one name.
func ParseNodeNumber(s string) (int, bool) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || strconv.Itoa(n) != s {
		return 0, false
	}
	return n, true
}

// anameContext returns the context elements of a checked attach name.
func anameContext(aname string) []string {
	var ctx []string
	for _, elem := range strings.Split(aname, "/") {
		switch {
		case elem == "":
		case strings.Contains(elem, "="):
			ctx = append(ctx, elem)
		default:
			return ctx
		}
	}
	return ctx
}

// anamePath reports whether the checked attach name has a path after its
// context elements.
func anamePath(aname string) bool {
	for _, elem := range strings.Split(aname, "/") {
		if elem != "" && !strings.Contains(elem, "=") {
			return true
		}
	}
	return false
}

// attachError explains a failed attach. When the namespace answers that a
// node is unknown or down, each context element is attached to alone to
// find the one it means ("selected=9: no such node"): the reply's errno
// alone does not tell a bad element from a missing path.
func attachError(conn *dial.Conn, aname string, err error) error {
	e, ok := errnoOf(err)
	elems := anameContext(aname)
	if !ok || len(elems) == 0 || (e != linux.ENOENT && e != linux.EHOSTDOWN && e != linux.EHOSTUNREACH) {
		return err
	}
	if len(elems) == 1 && !anamePath(aname) {
		// The one element is what failed: asking again would only
		// make the server log the mistake twice.
		return &nodeError{what: elems[0], err: err}
	}
	for _, elem := range elems {
		f, perr := conn.Attach(elem)
		if perr == nil {
			f.Close()
			continue
		}
		if _, ok := errnoOf(perr); ok {
			return &nodeError{what: elem, err: perr}
		}
		return err
	}
	return err
}

// nodeError is a failure about a node named by number (select N,
// home=N, selected=N): the namespace's ENOENT means there is no such
// node, and reads so wherever a node is named.
type nodeError struct {
	what string // "select 9", "selected=9"
	err  error
}

func (e *nodeError) Error() string {
	text := errText(e.err)
	if isNotExist(e.err) {
		text = "no such node"
	}
	if e.what == "" {
		return text
	}
	return fmt.Sprintf("%s: %s", e.what, text)
}

// Unwrap returns the cause.
func (e *nodeError) Unwrap() error { return e.err }
