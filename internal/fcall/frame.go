package fcall

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Sizes and reserved values of the protocol.
const (
	// HeaderSize is the size of size[4] type[1] tag[2].
	HeaderSize = 7
	// NoTag is the tag of Tversion.
	NoTag uint16 = 0xffff
	// NoFid stands for "no fid" (an attach without authentication).
	NoFid uint32 = 0xffffffff
	// MaxWalk is the most names one Twalk may carry (MAXWELEM).
	MaxWalk = 16
	// IOHeaderSize is what a client leaves of the msize for the headers
	// of Twrite and Rread: their payload is at most msize-IOHeaderSize.
	// It is Linux's P9_IOHDRSZ (24, one more than a Twrite header), which
	// servers such as diod hold clients to.
	IOHeaderSize = 24
	// MinMsize is the smallest msize a connection may agree on.
	MinMsize = 4096
)

// Decoding errors. A frame that fails with any of them has a well-formed
// header: a server answers it with an error and goes on.
var (
	ErrShort       = errors.New("9p: message body too short")
	ErrTrailing    = errors.New("9p: trailing bytes after message")
	ErrUnknownType = errors.New("9p: unknown message type")
	ErrTooMany     = errors.New("9p: too many walk names")
	ErrFrameSize   = errors.New("9p: bad frame size")
)

// Append appends the frame of message m with tag to b, in dialect d.
func Append(b []byte, d Dialect, tag uint16, m Msg) []byte {
	start := len(b)
	e := encoder{b: b}
	e.u32(0)
	e.u8(m.Type())
	e.u16(tag)
	m.encode(&e, d)
	binary.LittleEndian.PutUint32(e.b[start:], uint32(len(e.b)-start))
	return e.b
}

// Header splits the header of a frame: its size, type and tag. The frame
// must hold at least HeaderSize bytes.
func Header(frame []byte) (size uint32, typ uint8, tag uint16) {
	return binary.LittleEndian.Uint32(frame), frame[4], binary.LittleEndian.Uint16(frame[5:])
}

// Decode parses one whole frame (header included, len(frame) equal to its
// size field) in dialect d. It returns the tag even when the body fails
// to parse, so the error can be answered. Byte payloads alias frame.
func Decode(d Dialect, frame []byte) (tag uint16, m Msg, err error) {
	if len(frame) < HeaderSize || binary.LittleEndian.Uint32(frame) != uint32(len(frame)) {
		return NoTag, nil, ErrFrameSize
	}
	_, typ, tag := Header(frame)
	m = newMsg(typ)
	if m == nil || !d.Has(typ) {
		return tag, nil, fmt.Errorf("%w %d", ErrUnknownType, typ)
	}
	dec := decoder{b: frame[HeaderSize:]}
	m.decode(&dec, d)
	switch {
	case dec.err != nil:
		return tag, nil, fmt.Errorf("%s: %w", m, dec.err)
	case len(dec.b) != 0:
		return tag, nil, fmt.Errorf("%s: %w (%d)", m, ErrTrailing, len(dec.b))
	}
	return tag, m, nil
}

// PutRreadHeader writes, in place, the header of an Rread frame whose n
// bytes of data already stand at frame[RreadHeaderSize:], and returns the
// frame cut to its size. Servers read file data straight into the frame.
func PutRreadHeader(frame []byte, tag uint16, n int) []byte {
	return putCountHeader(frame, MsgRread, tag, n)
}

// PutRreaddirHeader is PutRreadHeader for an Rreaddir whose entries were
// appended with AppendDirent after RreadHeaderSize bytes.
func PutRreaddirHeader(frame []byte, tag uint16, n int) []byte {
	return putCountHeader(frame, MsgRreaddir, tag, n)
}

// RreadHeaderSize is the size of an Rread or Rreaddir frame before its data.
const RreadHeaderSize = HeaderSize + 4

func putCountHeader(frame []byte, typ uint8, tag uint16, n int) []byte {
	frame = frame[:RreadHeaderSize+n]
	binary.LittleEndian.PutUint32(frame, uint32(len(frame)))
	frame[4] = typ
	binary.LittleEndian.PutUint16(frame[5:], tag)
	binary.LittleEndian.PutUint32(frame[HeaderSize:], uint32(n))
	return frame
}
