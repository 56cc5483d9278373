package namespace

import (
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"

	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"
)

// attachCtx is the context of one attach: shared by pointer among every
// fid walked from that attach, so a "select N" written to ctl is seen by
// all of them. here is the Namespace's and never changes.
type attachCtx struct {
	mu       sync.Mutex
	home     int
	selected int
	// chosen is set once selected was given explicitly (selected=N or
	// "select N"); until then selected follows home.
	chosen bool
	// uid owns the files made through this attach (the Tattach's
	// n_uname, srv9p.Attach.UID); p9.NoUID if the Tattach carried none.
	// Set when the root is made, never changed.
	uid p9.UID
}

// get returns home and selected.
func (c *attachCtx) get() (home, selected int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.home, c.selected
}

// set changes one key.
func (c *attachCtx) set(key string, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch key {
	case "home":
		c.home = n
		if !c.chosen {
			c.selected = n
		}
	case "selected":
		c.selected = n
		c.chosen = true
	}
}

// clone returns an independent copy (a new root walked with key=value).
func (c *attachCtx) clone() *attachCtx {
	c.mu.Lock()
	defer c.mu.Unlock()
	return &attachCtx{home: c.home, selected: c.selected, chosen: c.chosen, uid: c.uid}
}

// Errors of the attach-name grammar and of ctl, and why a node cannot be
// used (for logs; the errno is the package doc's table).
var (
	errNoNode     = errors.New("no such node")
	errLeft       = errors.New("node has left the cluster")
	errFailed     = errors.New("node is listed as failed")
	errUnknownKey = errors.New("unknown context key (want home or selected)")
	errNotNumber  = errors.New("node is not a decimal number")
	errClosed     = errors.New("namespace closed")
	errCtlSyntax  = errors.New("ctl: want \"select N\"")
)

// parseNodeNumber accepts canonical decimal numbers only ("2", not "02"
// or "+2"), so every node has exactly one name.
func parseNodeNumber(s string) (int, bool) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || strconv.Itoa(n) != s {
		return 0, false
	}
	return n, true
}

// checkNode says whether node n can become a context node: 0 and nil if
// so, else the errno of the package doc's table and the reason.
func (ns *Namespace) checkNode(n int) (linux.Errno, error) {
	return ns.nodeErrno(ns.lookup(n), n)
}

// applyContext parses one key=value attach-name element into ctx. The
// error is a linux.Errno; the log line names the bad part.
func (ns *Namespace) applyContext(ctx *attachCtx, elem string) error {
	key, val, _ := strings.Cut(elem, "=")
	var err error
	var errno linux.Errno
	n, ok := parseNodeNumber(val)
	switch {
	case key != "home" && key != "selected":
		err, errno = errUnknownKey, linux.EINVAL
	case !ok:
		err, errno = errNotNumber, linux.EINVAL
	default:
		errno, err = ns.checkNode(n)
	}
	if err != nil {
		ns.cfg.log.Info("namespace: bad attach name element", slog.String("element", elem), slog.String("error", err.Error()))
		return errno
	}
	ctx.set(key, n)
	return nil
}

// ctlString is what reading ctl returns.
func (ns *Namespace) ctlString(ctx *attachCtx) string {
	h, s := ctx.get()
	return fmt.Sprintf("here %d home %d selected %d\n", ns.here, h, s)
}

// ctlWrite runs a ctl command: "select N" (a trailing newline is fine).
func (ns *Namespace) ctlWrite(ctx *attachCtx, cmd string) error {
	f := strings.Fields(cmd)
	if len(f) != 2 || f[0] != "select" {
		ns.cfg.log.Info("namespace: bad ctl command", slog.String("command", cmd))
		return linux.EINVAL
	}
	n, ok := parseNodeNumber(f[1])
	if !ok {
		ns.cfg.log.Info("namespace: bad ctl command", slog.String("command", cmd), slog.String("error", errNotNumber.Error()))
		return linux.EINVAL
	}
	if errno, err := ns.checkNode(n); err != nil {
		ns.cfg.log.Info("namespace: bad ctl command", slog.String("command", cmd), slog.String("error", err.Error()))
		return errno
	}
	ctx.set("selected", n)
	return nil
}
