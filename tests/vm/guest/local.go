//go:build linux

package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// runLocal is "guest local NAME SUITE ROOT HOSTDIR [KEY=VALUE ...]": the
// checks of SUITE on a directory that is already there, a FUSE mount of a
// node's namespace (internal/mount's tests run it on DIR/here/… and
// DIR/2/…). Nothing is mounted and /proc/cmdline is not read. Each check
// gets the scratch directory ROOT/NAME/CHECK; the host view is the same
// directory as HOSTDIR/NAME/CHECK, where the owning node's disk has ROOT's
// files. KEY=VALUE are the checks' arguments (the mfs.KEY= of a guest
// boot). Checks run as the invoking user: those that need root say so in
// a skip. The output is the TAP lines of "guest run", then MFS-VM-DONE.
func runLocal(argv []string) int {
	if len(argv) < 4 {
		fmt.Fprintln(os.Stderr, "usage: guest local NAME SUITE ROOT HOSTDIR [KEY=VALUE ...]")
		return 2
	}
	name, suite, root, hostDir := argv[0], argv[1], argv[2], argv[3]
	if _, ok := suites[suite]; !ok {
		fmt.Fprintf(os.Stderr, "guest local: no suite %q\n", suite)
		return 2
	}
	args := map[string]string{}
	for _, kv := range argv[4:] {
		k, v, found := strings.Cut(kv, "=")
		if !found {
			fmt.Fprintf(os.Stderr, "guest local: %q: want KEY=VALUE\n", kv)
			return 2
		}
		args[k] = v
	}
	unix.Umask(0)
	p := phase{name: name, suite: suite, source: fsFUSE}
	t := &tap{}
	start := time.Now()
	runSuite(t, p, fsFUSE, root, name, localView{hostDir}, args)
	fmt.Printf("# phase %s took %v\n", name, time.Since(start).Round(time.Millisecond))
	fmt.Println("MFS-VM-DONE")
	return 0
}
