package dial

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
)

// 9P message types the plain wrapper rewrites.
const (
	msgTattach = 104
)

// plainVersion is the version string foreign servers (diod, the kernel's
// peers) accept; the p9 client asks for "9P2000.L.Google.7".
const plainVersion = "9P2000.L"

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
		case msgTversion, msgTattach:
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
	r := reader{b: frame[7:]}
	out := make([]byte, 0, len(frame)+len(c.uname))
	out = append(out, 0, 0, 0, 0)
	out = append(out, frame[4:7]...)
	switch frame[4] {
	case msgTversion:
		msize := r.u32()
		r.str() // the p9 client's version string
		if r.err != nil {
			return nil, fmt.Errorf("rewrite Tversion: %w", r.err)
		}
		out = binary.LittleEndian.AppendUint32(out, msize)
		out = appendStr(out, plainVersion)
	case msgTattach:
		fid, afid := r.u32(), r.u32()
		r.str() // uname
		aname := r.str()
		if r.err != nil {
			return nil, fmt.Errorf("rewrite Tattach: %w", r.err)
		}
		out = binary.LittleEndian.AppendUint32(out, fid)
		out = binary.LittleEndian.AppendUint32(out, afid)
		out = appendStr(out, c.uname)
		out = appendStr(out, aname)
		out = binary.LittleEndian.AppendUint32(out, c.uid)
	}
	binary.LittleEndian.PutUint32(out, uint32(len(out)))
	return out, nil
}

// appendStr appends a 9P string (2-byte length, bytes).
func appendStr(b []byte, s string) []byte {
	b = binary.LittleEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}

// reader decodes the fixed fields of a frame; the first short read sets
// err and every later read returns zero values.
type reader struct {
	b   []byte
	err error
}

func (r *reader) u32() uint32 {
	if r.err != nil || len(r.b) < 4 {
		r.err = errBadFrame
		return 0
	}
	v := binary.LittleEndian.Uint32(r.b)
	r.b = r.b[4:]
	return v
}

func (r *reader) str() string {
	if r.err != nil || len(r.b) < 2 {
		r.err = errBadFrame
		return ""
	}
	n := int(binary.LittleEndian.Uint16(r.b))
	if len(r.b) < 2+n {
		r.err = errBadFrame
		return ""
	}
	s := string(r.b[2 : 2+n])
	r.b = r.b[2+n:]
	return s
}
