package clustertls

import (
	"crypto/tls"
	"fmt"
	"net"
)

// NewListener returns ln serving TLS with ServerConfig, as
// tls.NewListener does: Accept returns *tls.Conn values whose handshake
// runs on their first Read or Write. In addition, a client whose first
// byte is not that of a TLS handshake record is refused at once, with an
// error saying so: a 9P2000.L Tversion (its size, 21, is 0x15) reads to
// crypto/tls as the header of a 100-byte alert record, so a plain 9P
// client would otherwise hold the connection, waiting for bytes it never
// sends, until the server's idle timeout.
//
// Each connection is known to the node until it is closed: a revocation
// list that revokes its peer's certificate closes it.
func (n *Node) NewListener(ln net.Listener) net.Listener {
	return &listener{Listener: ln, n: n}
}

type listener struct {
	net.Listener
	n *Node
}

// Accept implements net.Listener.
func (l *listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := l.n.rev.track(&firstByteConn{Conn: c})
	return tls.Server(tc, l.n.serverConfig(tc)), nil
}

// recordTypeHandshake is the first byte of a TLS ClientHello.
const recordTypeHandshake = 0x16

// firstByteConn is a server's raw connection under TLS that fails its
// first read unless the client's first byte opens a handshake record.
// Only the tls.Conn above reads it, under its own lock.
type firstByteConn struct {
	net.Conn
	checked bool
}

func (c *firstByteConn) Read(p []byte) (int, error) {
	k, err := c.Conn.Read(p)
	if !c.checked && k > 0 {
		c.checked = true
		if p[0] != recordTypeHandshake {
			return 0, fmt.Errorf("not a TLS client (first byte %#02x; plain 9P?)", p[0])
		}
	}
	return k, err
}

// NetConn returns the connection underneath, as tls.Conn.NetConn does.
func (c *firstByteConn) NetConn() net.Conn { return c.Conn }
