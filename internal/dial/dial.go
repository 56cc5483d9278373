// Package dial opens 9P2000.L client connections and listeners for mfs
// addresses.
//
// An address is either "host:port" (TCP) or "unix:/path" (a unix socket).
//
// Dial works around a gap of the p9 client (v0.4.1): it never lowers its
// msize to the one the server answers with, so a client asking for more than
// the server allows sends messages the server rejects. Dial first negotiates
// the msize itself with a plain Tversion, then starts the p9 client with the
// agreed size (the p9 client's own Tversion that follows starts a fresh
// session, as 9P allows).
package dial

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/hugelgupf/p9/p9"

	"mfs/internal/fcall"
)

// DefaultMSize is the msize Dial asks for when none is given: 1 MiB, where
// the p9 server answers reads and writes without splitting them further.
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
	// ReplyTimeout, if not 0, bounds how long a call waits while the server
	// sends nothing: then every pending call fails with ErrNoReply and the
	// connection is done. 0 waits forever (callers with a watchdog of their
	// own, such as the namespace's peers).
	ReplyTimeout time.Duration

	// Plain makes the client speak plain 9P2000.L to a foreign server such
	// as diod: Tversion asks for "9P2000.L" rather than the p9 client's
	// "9P2000.L.Google.7", and Tattach carries UName and UID as uname and
	// n_uname. Without it the connection is handed to the p9 client as is
	// (the fast path, for mfs's own servers). See plainConn.
	Plain bool
	// UName is the user name a Plain Tattach carries; empty means "root"
	// when UID is 0, the decimal UID otherwise.
	UName string
	// UID is the n_uname a Plain Tattach carries (0 is root).
	UID uint32
}

// Conn is a client connection: the p9 client and the msize agreed on.
type Conn struct {
	*p9.Client
	// MSize is the msize the server agreed to.
	MSize uint32
	conn  net.Conn
}

// NetConn returns the underlying network connection (for deadlines and
// closing from a watchdog).
func (c *Conn) NetConn() net.Conn { return c.conn }

// Dial connects to addr and negotiates a 9P2000.L session.
func Dial(ctx context.Context, addr string, o Options) (*Conn, error) {
	network, address, err := ParseAddr(addr)
	if err != nil {
		return nil, err
	}
	if o.Timeout == 0 {
		o.Timeout = 10 * time.Second
	}
	if o.MSize == 0 {
		o.MSize = DefaultMSize
	}
	d := net.Dialer{Timeout: o.Timeout}
	nc, err := d.DialContext(ctx, network, address)
	if err != nil {
		return nil, err
	}
	// Cancelling ctx aborts the version exchange too, not only the connect.
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	c, err := Client(nc, o)
	if !stop() && err == nil {
		c.Close()
		return nil, fmt.Errorf("%s: %w", addr, ctx.Err())
	}
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("%s: %w", addr, err)
	}
	return c, nil
}

// Client starts a 9P2000.L session on an open connection.
func Client(nc net.Conn, o Options) (*Conn, error) {
	if o.Timeout == 0 {
		o.Timeout = 10 * time.Second
	}
	if o.MSize == 0 {
		o.MSize = DefaultMSize
	}
	nc.SetDeadline(time.Now().Add(o.Timeout))
	msize, err := negotiate(nc, o.MSize)
	if err != nil {
		return nil, err
	}
	var rwc net.Conn = nc
	if o.ReplyTimeout > 0 {
		rwc = &replyDeadlineConn{Conn: nc, timeout: o.ReplyTimeout}
	}
	if o.Plain {
		uname := o.UName
		if uname == "" {
			uname = "root"
			if o.UID != 0 {
				uname = strconv.FormatUint(uint64(o.UID), 10)
			}
		}
		rwc = &plainConn{Conn: rwc, uname: uname, uid: o.UID}
	}
	cl, err := p9.NewClient(rwc, p9.WithMessageSize(msize))
	if err != nil {
		return nil, fmt.Errorf("version: %w", err)
	}
	nc.SetDeadline(time.Time{})
	return &Conn{Client: cl, MSize: msize, conn: nc}, nil
}

// negotiate sends a plain "9P2000.L" Tversion asking for msize and returns
// the msize the server agreed to.
func negotiate(rw io.ReadWriter, msize uint32) (uint32, error) {
	if _, err := rw.Write(fcall.Append(nil, fcall.L, fcall.NoTag, &fcall.Tversion{Msize: msize, Version: fcall.L.String()})); err != nil {
		return 0, fmt.Errorf("version: %w", err)
	}
	var hdr [fcall.HeaderSize]byte
	if _, err := io.ReadFull(rw, hdr[:]); err != nil {
		return 0, fmt.Errorf("version: %w", err)
	}
	size, _, _ := fcall.Header(hdr[:])
	if size < fcall.HeaderSize || size > 1<<16 {
		return 0, fmt.Errorf("version: bad reply size %d", size)
	}
	frame := make([]byte, size)
	copy(frame, hdr[:])
	if _, err := io.ReadFull(rw, frame[fcall.HeaderSize:]); err != nil {
		return 0, fmt.Errorf("version: %w", err)
	}
	_, m, err := fcall.Decode(fcall.L, frame)
	if err != nil {
		return 0, fmt.Errorf("version: %w", err)
	}
	switch m := m.(type) {
	case *fcall.Rversion:
		if fcall.ParseVersion(m.Version) != fcall.L {
			return 0, fmt.Errorf("version: server speaks %q, not 9P2000.L", m.Version)
		}
		if m.Msize > msize || m.Msize < fcall.MinMsize {
			return 0, fmt.Errorf("version: server offers unusable msize %d", m.Msize)
		}
		return m.Msize, nil
	case *fcall.Rlerror:
		return 0, fmt.Errorf("version: server error %d", uint32(m.Errno))
	}
	return 0, fmt.Errorf("version: unexpected reply %s", m)
}
