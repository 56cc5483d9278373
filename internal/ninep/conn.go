package ninep

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"os/user"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"
	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"mfs/internal/client"
	"mfs/internal/clierr"
	"mfs/internal/dial"
	"mfs/internal/fcall"
)

// defaultNinepTimeout bounds each request, so that a frozen server or a
// cut link ends a verb with an error, not a hang. It is not a bound on a
// whole transfer: a transfer is many requests of at most msize bytes.
const defaultNinepTimeout = 30 * time.Second

// The connection flags, shared by `mfs 9p` (before the verb), every verb
// of it (after the verb) and `mfs members`.
const (
	flagAddr    = "addr"
	flagAName   = "aname"
	flagMSize   = "msize"
	flagTimeout = "timeout"
	flagDialect = "dialect"
)

// connFlags are the connection flags of `mfs 9p` and `mfs members`: with
// -a short for --addr, and $MFS_ADDR and $MFS_DIALECT read.
func connFlags() []cli.Flag {
	f := verbConnFlags()
	f[0].(*cli.StringFlag).Aliases = []string{"a"}
	f[0].(*cli.StringFlag).EnvVars = []string{"MFS_ADDR"}
	for _, x := range f {
		if sf, ok := x.(*cli.StringFlag); ok && sf.Name == flagDialect {
			sf.EnvVars = []string{"MFS_DIALECT"}
		}
	}
	return f
}

// verbConnFlags are the connection flags as each verb of `mfs 9p` accepts
// them after its name (mfs 9p ls --addr X /). They have no short names,
// which would collide with the verbs' own (cp -a, touch -a), and read no
// environment: $MFS_ADDR and $MFS_DIALECT are read once, by `mfs 9p`. A
// flag given after the verb wins over the same flag before it (see
// connContext).
func verbConnFlags() []cli.Flag {
	const cat = "connection (before or after the verb)"
	return []cli.Flag{
		&cli.StringFlag{
			Name:        flagAddr,
			Category:    cat,
			Usage:       "server address: host:port (port 564 if left out), [ipv6]:port or unix:/path",
			DefaultText: "$MFS_ADDR, else the local node's unix socket, else 127.0.0.1:564",
		},
		&cli.StringFlag{
			Name:     flagAName,
			Category: cat,
			Usage:    "attach name: context elements home=N/selected=N, then a path (empty: the server's root)",
		},
		&cli.UintFlag{
			Name:     flagMSize,
			Category: cat,
			Usage:    "largest 9P message size to ask for, in bytes",
			Value:    dial.DefaultMSize,
		},
		&cli.DurationFlag{
			Name:     flagTimeout,
			Category: cat,
			Usage:    "give up on connecting, or on a request, the server has not answered in this long (0: wait forever)",
			Value:    defaultNinepTimeout,
		},
		&cli.StringFlag{
			Name:        flagDialect,
			Category:    cat,
			Usage:       "9P dialect to speak: 9p2000.L, 9p2000.u or 9p2000 (any case); the server must speak it",
			Value:       "9p2000.L",
			DefaultText: "9p2000.L, or $MFS_DIALECT",
		},
	}
}

// connContext returns the context whose value of the connection flag name
// counts: the innermost one in c's lineage where it was given (after the
// verb, else before it; $MFS_ADDR counts as given to `mfs 9p`), else the
// outermost that defines it, for its default.
func connContext(c *cli.Context, name string) *cli.Context {
	var outer *cli.Context
	for _, x := range c.Lineage() {
		if x.Command == nil || !definesFlag(x.Command.Flags, name) {
			continue
		}
		if slices.Contains(x.LocalFlagNames(), name) {
			return x
		}
		outer = x
	}
	if outer == nil {
		return c
	}
	return outer
}

// definesFlag reports whether flags has one called name.
func definesFlag(flags []cli.Flag, name string) bool {
	for _, f := range flags {
		if slices.Contains(f.Names(), name) {
			return true
		}
	}
	return false
}

// connOptions are the connection flags' values, checked.
type connOptions struct {
	addr, aname string
	msize       uint32
	timeout     time.Duration
	dialect     fcall.Dialect
}

// connFlagValues reads and checks the connection flags as c sees them.
func connFlagValues(c *cli.Context) (connOptions, error) {
	addr := connContext(c, flagAddr).String(flagAddr)
	aname := connContext(c, flagAName).String(flagAName)
	msize := connContext(c, flagMSize).Uint(flagMSize)
	timeout := connContext(c, flagTimeout).Duration(flagTimeout)
	dialectName := connContext(c, flagDialect).String(flagDialect)
	if addr == "" {
		addr = defaultNinepAddr()
	}
	addr, err := NormalizeAddr(addr)
	if err != nil {
		return connOptions{}, clierr.Usagef("--addr: %v", err)
	}
	if msize < 4096 || msize > math.MaxUint32 {
		return connOptions{}, clierr.Usagef("--msize %d: want 4096 or more", msize)
	}
	if timeout < 0 {
		return connOptions{}, clierr.Usagef("--timeout %v: must not be negative", timeout)
	}
	if err := CheckAName(aname); err != nil {
		return connOptions{}, err
	}
	dialect, ok := fcall.ParseDialect(dialectName)
	if !ok {
		return connOptions{}, clierr.Usagef("--dialect %q: want 9p2000.L, 9p2000.u or 9p2000", dialectName)
	}
	return connOptions{addr: addr, aname: aname, msize: uint32(msize), timeout: timeout, dialect: dialect}, nil
}

// ninepPort is 9P's registered TCP port, used when --addr names a host
// alone.
const ninepPort = "564"

// NormalizeAddr completes a server address: a host without a port ("host",
// "10.0.0.5", "::1", "[::1]") gets port 564; "host:port", "[ipv6]:port"
// and "unix:/path" are returned unchanged.
func NormalizeAddr(addr string) (string, error) {
	if strings.HasPrefix(addr, "unix:") {
		_, _, err := dial.ParseAddr(addr)
		return addr, err
	}
	bad := fmt.Errorf("address %q: want host, host:port, [ipv6]:port or unix:/path", addr)
	if addr == "" {
		return "", bad
	}
	if _, _, err := net.SplitHostPort(addr); err == nil {
		return addr, nil
	}
	host := addr
	bracketed := strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]")
	if bracketed {
		host = host[1 : len(host)-1]
	}
	if bracketed || strings.Contains(host, ":") {
		// An IPv6 address (with a zone, maybe); anything else with a
		// colon has a port that SplitHostPort did not like.
		ip, err := netip.ParseAddr(host)
		if err != nil || !ip.Is6() {
			return "", bad
		}
	}
	if host == "" || strings.ContainsAny(host, "[]/ ") {
		return "", bad
	}
	return net.JoinHostPort(host, ninepPort), nil
}

// session is one client connection attached to one tree.
type session struct {
	conn *dial.Conn
	root p9.File
	// addr and aname are what it connected and attached to.
	addr, aname string
}

// openSession dials the server named by the connection flags (as given
// after the verb, else before it, see connContext) and attaches.
func openSession(c *cli.Context) (*session, error) {
	o, err := connFlagValues(c)
	if err != nil {
		return nil, err
	}
	// Attach as the user running the command (diod wants a user name).
	opts := dial.Options{MSize: o.msize, Timeout: o.timeout, ReplyTimeout: o.timeout, UName: strconv.Itoa(os.Getuid()), UID: p9.UID(os.Getuid()), Dialect: o.dialect}
	if u, err := user.Current(); err == nil {
		opts.UName = u.Username
	}
	// A signal during the connect ends it with an error; afterwards the
	// default handling is back, so ^C stops a long read at once.
	ctx, stop := signal.NotifyContext(c.Context, syscall.SIGINT, syscall.SIGTERM)
	if o.timeout > 0 {
		// One bound for the connect and the version exchange together.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.timeout)
		defer cancel()
	} else {
		opts.Timeout = noTimeout
	}
	conn, err := dial.Dial(ctx, o.addr, opts)
	stop()
	if err != nil {
		return nil, &opError{op: "connect", paths: []string{o.addr}, err: connectError(err, o.timeout, o.addr)}
	}
	root, err := conn.Attach(o.aname)
	if err != nil {
		err = attachError(conn, o.aname, err)
		conn.Close()
		return nil, &opError{op: "attach", paths: []string{fmt.Sprintf("%q", o.aname)}, err: err}
	}
	return &session{conn: conn, root: root, addr: o.addr, aname: o.aname}, nil
}

// noTimeout stands for "no limit" where dial.Options takes 0 as its
// default: about 146 years.
const noTimeout = time.Duration(1 << 62)

// timeoutError is a connect or a version exchange that --timeout cut
// short; what says which.
type timeoutError struct {
	what    string
	timeout time.Duration
	err     error
}

func (e *timeoutError) Error() string {
	return fmt.Sprintf("%s within %v (--timeout)", e.what, e.timeout)
}

// Unwrap returns the cause.
func (e *timeoutError) Unwrap() error { return e.err }

// connectError describes a failed dial.Dial: a timeout says which part
// ran out of time; anything else is the error without the address, which
// the error line names already.
func connectError(err error, timeout time.Duration, addr string) error {
	var oe *net.OpError
	isDial := errors.As(err, &oe) && oe.Op == "dial"
	timedOut := timeout > 0 && (errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, os.ErrDeadlineExceeded) || (oe != nil && oe.Timeout()))
	var ve *client.VersionError
	switch {
	case timedOut && isDial:
		return &timeoutError{what: "no connection", timeout: timeout, err: err}
	case timedOut:
		return &timeoutError{what: "connected, but no 9P answer", timeout: timeout, err: err}
	case errors.As(err, &ve):
		return &versionError{ve}
	}
	if hint := noNodeHint(err, addr); hint != "" {
		return &hintError{err: err, hint: hint}
	}
	return &trimmedError{err: err, prefix: addr + ": "}
}

// noNodeHint says what to do when nothing listens at addr: a unix socket
// whose file is missing, or left by a node that stopped (the file stays
// when a node is killed; the next mfs node replaces it), or a loopback
// port nobody listens on, means no node runs here.
func noNodeHint(err error, addr string) string {
	network, address, perr := dial.ParseAddr(addr)
	if perr != nil {
		return ""
	}
	refused := errors.Is(err, syscall.ECONNREFUSED)
	switch {
	case network == "unix" && refused:
		return "no node serves " + address + ": the socket file is left by one that stopped; start mfs node, which replaces it"
	case network == "unix" && errors.Is(err, syscall.ENOENT):
		return "no node runs here: start one with mfs node, or give --addr"
	case refused && !nonLoopback(address):
		return "no node runs here: start one with mfs node, or give --addr"
	case refused:
		return "is mfs node running there?"
	}
	return ""
}

// nonLoopback reports whether the TCP address host:port names another
// host than this one.
func nonLoopback(address string) bool {
	host, _, err := net.SplitHostPort(address)
	if err != nil || host == "localhost" {
		return false
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback()
}

// hintError is a failed connect with what to do about it:
// "connection refused (no node runs here: start one with mfs node, …)".
type hintError struct {
	err  error
	hint string
}

func (e *hintError) Error() string { return errText(e.err) + " (" + e.hint + ")" }

// Unwrap returns the cause.
func (e *hintError) Unwrap() error { return e.err }

// versionError is a server that answered the Tversion with another
// dialect: it says which --dialect the server would take.
type versionError struct{ err *client.VersionError }

func (e *versionError) Error() string {
	msg := e.err.Error()
	if d := fcall.ParseVersion(e.err.Answer); d != fcall.Unknown {
		msg += " (try --dialect " + dialectFlag(d) + ")"
	}
	return msg
}

// Unwrap returns the cause.
func (e *versionError) Unwrap() error { return e.err }

// dialectFlag is d as --dialect spells it: 9p2000.L, 9p2000.u, 9p2000.
func dialectFlag(d fcall.Dialect) string { return "9p" + strings.TrimPrefix(d.String(), "9P") }

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
	if te, ok := err.(*timeoutError); ok {
		return te.Error()
	}
	if he, ok := err.(*hintError); ok {
		return he.Error()
	}
	if client.Dropped(err) {
		return "the server closed the connection"
	}
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
