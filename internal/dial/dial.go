// Package dial opens 9P client connections (9P2000.L unless told
// otherwise) and listeners for mfs addresses.
//
// An address is either "host:port" (TCP) or "unix:/path" (a unix socket).
//
// Dial connects and starts a session of mfs's client (internal/client).
package dial

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/user"
	"strconv"
	"strings"
	"time"

	"github.com/hugelgupf/p9/p9"

	"mfs/internal/client"
	"mfs/internal/fcall"
)

// DefaultMSize is the msize Dial asks for when none is given: 1 MiB.
const DefaultMSize = 1 << 20

// ParseAddr splits an mfs address into a network and an address for net.Dial
// and net.Listen.
func ParseAddr(addr string) (network, address string, err error) {
	switch {
	case strings.HasPrefix(addr, "unix:"):
		p := strings.TrimPrefix(addr, "unix:")
		if p == "" {
			return "", "", fmt.Errorf("address %q: empty socket path", addr)
		}
		return "unix", p, nil
	case addr == "":
		return "", "", errors.New("empty address")
	default:
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return "", "", fmt.Errorf("address %q: want host:port or unix:/path", addr)
		}
		return "tcp", addr, nil
	}
}

// Listen listens on an mfs address. A stale unix socket left by a process
// that is gone is removed first; a live one is an error (address in use).
func Listen(addr string) (net.Listener, error) {
	network, address, err := ParseAddr(addr)
	if err != nil {
		return nil, err
	}
	if network == "unix" {
		if c, err := net.DialTimeout("unix", address, time.Second); err == nil {
			c.Close()
			return nil, fmt.Errorf("listen %s: address already in use", addr)
		}
		if fi, err := os.Lstat(address); err == nil && fi.Mode()&os.ModeSocket != 0 {
			os.Remove(address)
		}
	}
	ln, err := net.Listen(network, address)
	if err != nil {
		return nil, err
	}
	return ln, nil
}

// Options tunes Dial.
type Options struct {
	// MSize is the largest message size to ask for; 0 means DefaultMSize.
	MSize uint32
	// Timeout bounds the connect and version exchange; 0 means 10 s.
	Timeout time.Duration
	// ReplyTimeout, if not 0, bounds each call (see internal/client): a
	// call the server does not answer in time is flushed and fails with
	// ETIMEDOUT; a server that answers nothing at all, not even the
	// flush, within another ReplyTimeout is dead, and every call fails
	// with EHOSTDOWN.
	ReplyTimeout time.Duration
	// UName and UID are what Conn.Attach sends as uname and n_uname (diod
	// wants both). An empty UName sends neither in 9P2000.L: an empty
	// uname and no n_uname. In 9P2000 and 9P2000.u, whose servers check
	// permissions against the uname, an empty UName is the running user's
	// login name (and, in 9P2000.u, UID its uid); 9P2000 sends no
	// n_uname.
	UName string
	UID   p9.UID
	// Dialect is the dialect to speak: fcall.L (also the zero value),
	// fcall.U or fcall.Plan9; the server must answer with the same.
	Dialect fcall.Dialect
}

// Conn is a client connection: mfs's client (internal/client) and the
// msize agreed on.
type Conn struct {
	*client.Conn
	// MSize is the msize the server agreed to.
	MSize uint32
	uname string
	uid   p9.UID
}

// Attach attaches to the attach name aname as Options.UName and UID.
func (c *Conn) Attach(aname string) (p9.File, error) {
	f, err := c.Conn.Attach(aname, c.uname, c.uid)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// Dial connects to addr (see Connect: root's TCP connections come from a
// privileged port) and starts a session in o.Dialect.
func Dial(ctx context.Context, addr string, o Options) (*Conn, error) {
	if o.Timeout == 0 {
		o.Timeout = 10 * time.Second
	}
	nc, err := Connect(ctx, addr, o.Timeout)
	if err != nil {
		return nil, err
	}
	// Cancelling ctx aborts the version exchange too, not only the connect.
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	c, err := start(nc, o)
	if !stop() && err == nil {
		c.Close()
		return nil, fmt.Errorf("%s: %w", addr, ctx.Err())
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", addr, err)
	}
	return c, nil
}

// start starts a session in o.Dialect on an open connection; the Conn
// owns nc from now on, also when start fails.
func start(nc net.Conn, o Options) (*Conn, error) {
	if o.MSize == 0 {
		o.MSize = DefaultMSize
	}
	if tc, ok := nc.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	nc.SetDeadline(time.Now().Add(o.Timeout))
	cl, err := client.New(nc, client.Options{MSize: o.MSize, Timeout: o.ReplyTimeout, Dialect: o.Dialect})
	if err != nil {
		return nil, err
	}
	nc.SetDeadline(time.Time{})
	uid := o.UID
	if o.UName == "" && cl.Dialect() != fcall.L {
		o.UName, uid = loginName()
	}
	if o.UName == "" {
		uid = p9.NoUID
	}
	return &Conn{Conn: cl, MSize: cl.MSize(), uname: o.UName, uid: uid}, nil
}

// loginName is the running user's login name, or its uid as a number
// where it has none, and its uid.
func loginName() (string, p9.UID) {
	uid := os.Getuid()
	if u, err := user.Current(); err == nil {
		return u.Username, p9.UID(uid)
	}
	return strconv.Itoa(uid), p9.UID(uid)
}
