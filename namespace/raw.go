package namespace

import (
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"
)

// 9P2000.L message types of the requests wire sends itself.
const (
	msgRlerror      = 7
	msgTsetattr     = 26
	msgTxattrwalk   = 30
	msgTxattrcreate = 32
	msgTlock        = 52
	msgTgetlock     = 54
	msgTwalk        = 110
	msgTread        = 116
	msgTwrite       = 118
	msgTclunk       = 120
)

// enc builds a message body.
type enc []byte

func (e enc) u8(v uint8) enc   { return append(e, v) }
func (e enc) u16(v uint16) enc { return binary.LittleEndian.AppendUint16(e, v) }
func (e enc) u32(v uint32) enc { return binary.LittleEndian.AppendUint32(e, v) }
func (e enc) u64(v uint64) enc { return binary.LittleEndian.AppendUint64(e, v) }
func (e enc) str(s string) enc { return append(e.u16(uint16(len(s))), s...) }

// dec reads a reply body; a short body sets bad instead of panicking.
type dec struct {
	b   []byte
	bad bool
}

func (d *dec) take(n int) []byte {
	if d.bad || len(d.b) < n {
		d.bad = true
		return make([]byte, n)
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}
func (d *dec) u8() uint8   { return d.take(1)[0] }
func (d *dec) u32() uint32 { return binary.LittleEndian.Uint32(d.take(4)) }
func (d *dec) u64() uint64 { return binary.LittleEndian.Uint64(d.take(8)) }
func (d *dec) str() string {
	n := binary.LittleEndian.Uint16(d.take(2))
	return string(d.take(int(n)))
}

// call sends an injected request and checks the reply type: Rlerror
// becomes its linux.Errno.
func (w *wire) call(typ uint8, body enc) (*dec, error) {
	r, err := w.rpc(typ, body)
	if err != nil {
		return nil, err
	}
	if r.typ == msgRlerror {
		d := &dec{b: r.body}
		e := d.u32()
		if d.bad {
			return nil, errBadFrame
		}
		return nil, linux.Errno(e)
	}
	if r.typ != typ+1 {
		return nil, fmt.Errorf("reply type %d to request type %d: %w", r.typ, typ, errBadFrame)
	}
	return &dec{b: r.body}, nil
}

// clunk drops a reserved fid; its error matters for xattrcreate, where
// the clunk commits the attribute.
func (w *wire) clunk(fid uint32) error {
	_, err := w.call(msgTclunk, enc(nil).u32(fid))
	if err == nil {
		w.putFid(fid)
	} else if _, ok := err.(linux.Errno); ok {
		// The server drops the fid even when the clunk fails.
		w.putFid(fid)
	}
	return err
}

// lock sends Tlock naming fid (the p9 client's Lock leaves the fid out).
func (w *wire) lock(fid uint32, typ p9.LockType, flags p9.LockFlags, start, length uint64, pid int32, client string) (p9.LockStatus, error) {
	d, err := w.call(msgTlock, enc(nil).u32(fid).u8(uint8(typ)).u32(uint32(flags)).u64(start).u64(length).u32(uint32(pid)).str(client))
	if err != nil {
		return p9.LockStatusError, err
	}
	st := d.u8()
	if d.bad {
		return p9.LockStatusError, errBadFrame
	}
	return p9.LockStatus(st), nil
}

// setattr sends Tsetattr naming fid with the whole mode: the p9 client's
// SetAttr drops the setuid and setgid bits (its codec masks the mode with
// 01777).
func (w *wire) setattr(fid uint32, valid p9.SetAttrMask, attr p9.SetAttr, mode p9.FileMode) error {
	var mask uint32
	for i, set := range []bool{valid.Permissions, valid.UID, valid.GID, valid.Size, valid.ATime, valid.MTime, valid.CTime, valid.ATimeNotSystemTime, valid.MTimeNotSystemTime} {
		if set {
			mask |= 1 << i
		}
	}
	_, err := w.call(msgTsetattr, enc(nil).u32(fid).u32(mask).u32(uint32(mode)).u32(uint32(attr.UID)).u32(uint32(attr.GID)).
		u64(attr.Size).u64(attr.ATimeSeconds).u64(attr.ATimeNanoSeconds).u64(attr.MTimeSeconds).u64(attr.MTimeNanoSeconds))
	return err
}

// getLock is the result of a Tgetlock: the conflicting lock, or Type
// Unlock when there is none.
type getLock struct {
	Type          p9.LockType
	Start, Length uint64
	PID           int32
	Client        string
}

// getlock sends Tgetlock, which the p9 client has no method for.
func (w *wire) getlock(fid uint32, typ p9.LockType, start, length uint64, pid int32, client string) (getLock, error) {
	d, err := w.call(msgTgetlock, enc(nil).u32(fid).u8(uint8(typ)).u64(start).u64(length).u32(uint32(pid)).str(client))
	if err != nil {
		return getLock{}, err
	}
	g := getLock{Type: p9.LockType(d.u8()), Start: d.u64(), Length: d.u64(), PID: int32(d.u32()), Client: d.str()}
	if d.bad {
		return getLock{}, errBadFrame
	}
	return g, nil
}

// xattrRead walks fid to the attribute name ("" lists names) and reads
// it whole. Peers are srv9p.Serve, whose filter makes the Txattrwalk start
// from a clone of fid (the bare p9 server would give the xattr fid fid's
// own File and close it at the clunk).
func (w *wire) xattrRead(fid uint32, name string, msize uint32) ([]byte, error) {
	nf := w.allocFid()
	d, err := w.call(msgTxattrwalk, enc(nil).u32(fid).u32(nf).str(name))
	if err != nil {
		if _, ok := err.(linux.Errno); ok {
			w.putFid(nf)
		}
		return nil, err
	}
	size := d.u64()
	if d.bad || size > maxFrame {
		w.clunk(nf)
		return nil, errBadFrame
	}
	buf := make([]byte, 0, size)
	chunk := uint64(msize - 11 - wireHeader)
	for uint64(len(buf)) < size {
		n := min(size-uint64(len(buf)), chunk)
		d, err := w.call(msgTread, enc(nil).u32(nf).u64(uint64(len(buf))).u32(uint32(n)))
		if err != nil {
			w.clunk(nf)
			return nil, err
		}
		cnt := d.u32()
		data := d.take(int(cnt))
		if d.bad || cnt == 0 {
			w.clunk(nf)
			return nil, linux.EIO
		}
		buf = append(buf, data...)
	}
	if err := w.clunk(nf); err != nil {
		return nil, err
	}
	return buf, nil
}

// xattrWrite sets (or, with no data and XattrReplace, removes) attribute
// name: clone fid, Txattrcreate, Twrite, and Tclunk, which commits.
func (w *wire) xattrWrite(fid uint32, name string, data []byte, flags p9.XattrFlags, msize uint32) error {
	nf := w.allocFid()
	if _, err := w.call(msgTwalk, enc(nil).u32(fid).u32(nf).u16(0)); err != nil {
		if _, ok := err.(linux.Errno); ok {
			w.putFid(nf)
		}
		return err
	}
	if _, err := w.call(msgTxattrcreate, enc(nil).u32(nf).str(name).u64(uint64(len(data))).u32(uint32(flags))); err != nil {
		w.clunk(nf)
		return err
	}
	chunk := int(msize - 23 - wireHeader)
	for off := 0; off < len(data); {
		n := min(len(data)-off, chunk)
		d, err := w.call(msgTwrite, enc(nil).u32(nf).u64(uint64(off)).u32(uint32(n)).append(data[off:off+n]))
		if err != nil {
			w.clunk(nf)
			return err
		}
		cnt := d.u32()
		if d.bad || cnt == 0 {
			w.clunk(nf)
			return linux.EIO
		}
		off += int(cnt)
	}
	return w.clunk(nf)
}

func (e enc) append(b []byte) enc { return append(e, b...) }

// splitXattrNames splits a Txattrwalk listing (NUL-terminated names).
func splitXattrNames(b []byte) []string {
	var names []string
	for _, n := range strings.Split(string(b), "\x00") {
		if n != "" {
			names = append(names, n)
		}
	}
	return names
}
