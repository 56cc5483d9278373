package dial

import (
	"context"
	"errors"
	"net"
	"os"
	"syscall"
	"time"
)

// Privileged source ports tried, highest first, as the kernel's v9fs
// privport and NFS clients do (bindresvport).
const (
	privPortHigh = 1023
	privPortLow  = 600
)

// Connect connects to an mfs address within timeout. Run as root, a TCP
// connection comes from a privileged source port (below 1024), which only
// root can bind: mfs servers believe the claims of such a connection, as
// NFS believes a "secure" port. Anyone else connects from an ordinary
// port.
func Connect(ctx context.Context, addr string, timeout time.Duration) (net.Conn, error) {
	network, address, err := ParseAddr(addr)
	if err != nil {
		return nil, err
	}
	d := net.Dialer{Timeout: timeout}
	if network != "tcp" || os.Geteuid() != 0 {
		return d.DialContext(ctx, network, address)
	}
	// SO_REUSEADDR lets a port whose last connection waits out
	// TIME_WAIT serve a connection to another address at once.
	d.Control = func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1)
		})
		if err != nil {
			return err
		}
		return serr
	}
	var last error
	for port := privPortHigh; port >= privPortLow; port-- {
		d.LocalAddr = &net.TCPAddr{Port: port}
		c, err := d.DialContext(ctx, network, address)
		if err == nil {
			return c, nil
		}
		if !errors.Is(err, syscall.EADDRINUSE) && !errors.Is(err, syscall.EADDRNOTAVAIL) {
			return nil, err
		}
		last = err
	}
	return nil, last
}
