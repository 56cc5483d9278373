package dial

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"

	"github.com/hugelgupf/p9/p9"

	"mfs/internal/fcall"
)

// plainConn sits between the p9 client and a foreign server. It rewrites two
// outgoing messages the p9 client gets wrong for such servers and passes
// everything else through unchanged:
//
//   - Tversion carries "9P2000.L" instead of "9P2000.L.Google.7" (diod answers
//     the latter with EIO and the p9 client only retries on EAGAIN). The
//     server then answers "9P2000.L", which also keeps the p9 client from
//     sending its own extensions (Twalkgetattr, Tucreate …).
//   - Tattach carries a user name and n_uname (the p9 client sends an empty
//     name and no uid, which diod rejects).
//
// The p9 client writes one message as two or three Write calls (header,
// fixed part, payload) under its send lock, so plainConn reassembles frames:
// it holds the bytes of an incomplete frame and sends a complete one with a
// single writev, the payload going out without being copied. Only Write is
// wrapped; reads go straight to the connection.
type plainConn struct {
	net.Conn
	uname string
	uid   uint32

	// pending holds the bytes of the current, incomplete frame; size is its
	// length from the header, 0 while the header is incomplete. Write is
	// only called by one goroutine at a time (the p9 client's send lock),
	// so these need no lock of their own.
	pending []byte
	size    uint32
}

// errBadFrame reports a frame whose size field cannot be right; the
// connection is unusable afterwards.
var errBadFrame = errors.New("plain 9P: malformed outgoing frame")

// Write implements io.Writer: it consumes p frame by frame.
func (c *plainConn) Write(p []byte) (int, error) {
	total := len(p)
	for len(p) > 0 {
		if c.size == 0 {
			k := min(7-len(c.pending), len(p))
			c.pending = append(c.pending, p[:k]...)
			p = p[k:]
			if len(c.pending) < 7 {
				break
			}
			c.size = binary.LittleEndian.Uint32(c.pending[:4])
			if c.size < 7 {
				return total - len(p), errBadFrame
			}
		}
		rest := int(c.size) - len(c.pending)
		if len(p) < rest {
			c.pending = append(c.pending, p...)
			break
		}
		chunk := p[:rest]
		p = p[rest:]
		var err error
		switch c.pending[4] {
		case fcall.MsgTversion, fcall.MsgTattach:
			frame, rerr := c.rewrite(append(c.pending, chunk...))
			if rerr != nil {
				return total - len(p), rerr
			}
			_, err = c.Conn.Write(frame)
		default:
			bufs := net.Buffers{c.pending, chunk}
			_, err = bufs.WriteTo(c.Conn)
		}
		c.pending = c.pending[:0]
		c.size = 0
		if err != nil {
			return total - len(p), err
		}
	}
	return total, nil
}

// rewrite returns frame (a complete Tversion or Tattach) as a foreign
// server wants it.
func (c *plainConn) rewrite(frame []byte) ([]byte, error) {
	tag, m, err := fcall.Decode(fcall.L, frame)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errBadFrame, err)
	}
	switch m := m.(type) {
	case *fcall.Tversion:
		m.Version = fcall.L.String()
	case *fcall.Tattach:
		m.Uname, m.NUname = c.uname, p9.UID(c.uid)
	}
	return fcall.Append(nil, fcall.L, tag, m), nil
}
