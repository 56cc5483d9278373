package main

import (
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"os/signal"
	"os/user"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"
	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"mfs/internal/client"
	"mfs/internal/dial"
)

// defaultNinepTimeout bounds each request, so that a frozen server or a
// cut link ends a verb with an error, not a hang. It is not a bound on a
// whole transfer: a transfer is many requests of at most msize bytes.
const defaultNinepTimeout = 30 * time.Second

// connFlags are the connection flags shared by `mfs 9p` and `mfs members`.
func connFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{
			Name:        "addr",
			Aliases:     []string{"a"},
			Usage:       "server address: host:port or unix:/path",
			EnvVars:     []string{"MFS_ADDR"},
			DefaultText: "$MFS_ADDR, else the local node's unix socket, else 127.0.0.1:564",
		},
		&cli.StringFlag{
			Name:  "aname",
			Usage: "attach name (the tree to attach to; empty: the server's root)",
		},
		&cli.UintFlag{
			Name:  "msize",
			Usage: "largest 9P message size to ask for, in bytes",
			Value: dial.DefaultMSize,
		},
		&cli.DurationFlag{
			Name:  "timeout",
			Usage: "give up on a request the server has not answered in this long (0: wait forever)",
			Value: defaultNinepTimeout,
		},
	}
}

// session is one client connection attached to one tree.
type session struct {
	conn *dial.Conn
	root p9.File
}

// openSession dials the server named by the connection flags (looked up in
// c's lineage: the flags of `9p`, or of `members` itself) and attaches.
func openSession(c *cli.Context) (*session, error) {
	addr, aname, msize := c.String("addr"), c.String("aname"), c.Uint("msize")
	if addr == "" {
		addr = defaultNinepAddr()
	}
	if _, _, err := dial.ParseAddr(addr); err != nil {
		return nil, usagef("--addr: %v", err)
	}
	if msize < 4096 || msize > math.MaxUint32 {
		return nil, usagef("--msize %d: want 4096 or more", msize)
	}
	// A signal during the connect ends it with an error; afterwards the
	// default handling is back, so ^C stops a long read at once.
	ctx, stop := signal.NotifyContext(c.Context, syscall.SIGINT, syscall.SIGTERM)
	if c.Duration("timeout") < 0 {
		return nil, usagef("--timeout %v: must not be negative", c.Duration("timeout"))
	}
	// Attach as the user running the command (diod wants a user name).
	opts := dial.Options{MSize: uint32(msize), ReplyTimeout: c.Duration("timeout"), UName: strconv.Itoa(os.Getuid()), UID: p9.UID(os.Getuid())}
	if u, err := user.Current(); err == nil {
		opts.UName = u.Username
	}
	conn, err := dial.Dial(ctx, addr, opts)
	stop()
	if err != nil {
		// dial names the address, which the error line already does.
		return nil, &opError{op: "connect", paths: []string{addr}, err: &trimmedError{err: err, prefix: addr + ": "}}
	}
	root, err := conn.Attach(aname)
	if err != nil {
		conn.Close()
		return nil, &opError{op: "attach", paths: []string{fmt.Sprintf("%q", aname)}, err: err}
	}
	return &session{conn: conn, root: root}, nil
}

// Close clunks the root and closes the connection.
func (s *session) Close() {
	s.root.Close()
	s.conn.Close()
}

// trimmedError is err with prefix dropped from its text; errors.Is and
// errors.As still see err.
type trimmedError struct {
	err    error
	prefix string
}

func (e *trimmedError) Error() string { return strings.TrimPrefix(errText(e.err), e.prefix) }

// Unwrap returns the cause.
func (e *trimmedError) Unwrap() error { return e.err }

// opError is a failed operation on the named paths: exit status 1, printed
// as "OP PATH…: reason".
type opError struct {
	op    string
	paths []string
	err   error
}

func (e *opError) Error() string {
	return e.op + " " + strings.Join(e.paths, " ") + ": " + errText(e.err)
}

// Unwrap returns the cause.
func (e *opError) Unwrap() error { return e.err }

// errText describes err the way a shell user expects: the errno text of a
// server error ("no such file or directory") or of a failed connect
// ("connection refused"), else err's own text (which for an error wrapping
// an errno with context, such as a rename across nodes, is that context).
func errText(err error) string {
	if errors.Is(err, client.ErrTimeout) || errors.Is(err, client.ErrDead) {
		return "no reply from the server (--timeout)"
	}
	if le, ok := err.(linux.Errno); ok {
		return unix.Errno(le).Error()
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		var se syscall.Errno
		if errors.As(oe.Err, &se) {
			return se.Error()
		}
		var de *net.DNSError
		if errors.As(oe.Err, &de) {
			return de.Error()
		}
		if oe.Timeout() {
			return "timed out"
		}
		return oe.Err.Error()
	}
	return err.Error()
}

// opErr returns err as an opError of op on paths, or nil.
func opErr(op string, err error, paths ...string) error {
	if err == nil {
		return nil
	}
	return &opError{op: op, paths: paths, err: err}
}
