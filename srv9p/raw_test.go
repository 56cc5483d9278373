package srv9p

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"mfs/internal/dial"
)

// rawConn speaks 9P2000.L frame by frame, for what the p9 client cannot
// send: Tgetlock, Tlock on a chosen fid, the xattr messages.
type rawConn struct {
	t   testing.TB
	c   net.Conn
	tag uint16
}

func dialRaw(t testing.TB, addr string) *rawConn {
	t.Helper()
	network, address, err := dial.ParseAddr(addr)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial(network, address)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	r := &rawConn{t: t, c: c}
	var b enc
	b.u32(65536).str("9P2000.L")
	if typ, _ := r.rpc(100, b); typ != 101 {
		t.Fatalf("Tversion answered with type %d", typ)
	}
	return r
}

// enc builds a message body.
type enc []byte

func (e *enc) u8(v uint8) *enc   { *e = append(*e, v); return e }
func (e *enc) u16(v uint16) *enc { *e = binary.LittleEndian.AppendUint16(*e, v); return e }
func (e *enc) u32(v uint32) *enc { *e = binary.LittleEndian.AppendUint32(*e, v); return e }
func (e *enc) u64(v uint64) *enc { *e = binary.LittleEndian.AppendUint64(*e, v); return e }
func (e *enc) str(s string) *enc { e.u16(uint16(len(s))); *e = append(*e, s...); return e }

// dec reads a reply body.
type dec []byte

func (d *dec) u8() uint8   { v := (*d)[0]; *d = (*d)[1:]; return v }
func (d *dec) u32() uint32 { v := binary.LittleEndian.Uint32(*d); *d = (*d)[4:]; return v }
func (d *dec) u64() uint64 { v := binary.LittleEndian.Uint64(*d); *d = (*d)[8:]; return v }
func (d *dec) str() string {
	n := int(binary.LittleEndian.Uint16(*d))
	s := string((*d)[2 : 2+n])
	*d = (*d)[2+n:]
	return s
}

// rpc sends one request and returns the reply's type and body.
func (r *rawConn) rpc(typ uint8, body enc) (uint8, dec) {
	r.t.Helper()
	r.tag++
	tag := r.tag
	if typ == 100 {
		tag = 0xffff
	}
	m := binary.LittleEndian.AppendUint32(nil, uint32(7+len(body)))
	m = append(m, typ)
	m = binary.LittleEndian.AppendUint16(m, tag)
	m = append(m, body...)
	r.c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := r.c.Write(m); err != nil {
		r.t.Fatal(err)
	}
	var hdr [7]byte
	if _, err := io.ReadFull(r.c, hdr[:]); err != nil {
		r.t.Fatal(err)
	}
	size := binary.LittleEndian.Uint32(hdr[:])
	rb := make([]byte, size-7)
	if _, err := io.ReadFull(r.c, rb); err != nil {
		r.t.Fatal(err)
	}
	if got := binary.LittleEndian.Uint16(hdr[5:]); got != tag {
		r.t.Fatalf("reply tag %d, want %d", got, tag)
	}
	return hdr[4], rb
}

// call is rpc that turns an Rlerror into an error.
func (r *rawConn) call(typ uint8, body enc) (dec, error) {
	r.t.Helper()
	rt, rb := r.rpc(typ, body)
	if rt == 7 {
		return nil, errnoError(binary.LittleEndian.Uint32(rb))
	}
	if rt != typ+1 {
		r.t.Fatalf("request %d answered with type %d", typ, rt)
	}
	return rb, nil
}

type errnoError uint32

func (e errnoError) Error() string { return fmt.Sprintf("errno %d", uint32(e)) }

func (r *rawConn) attach(fid uint32) error {
	var b enc
	b.u32(fid).u32(^uint32(0)).str("").str("").u32(^uint32(0))
	_, err := r.call(104, b)
	return err
}

func (r *rawConn) walk(fid, newfid uint32, names ...string) error {
	var b enc
	b.u32(fid).u32(newfid).u16(uint16(len(names)))
	for _, n := range names {
		b.str(n)
	}
	_, err := r.call(110, b)
	return err
}

func (r *rawConn) lopen(fid, flags uint32) error {
	var b enc
	b.u32(fid).u32(flags)
	_, err := r.call(12, b)
	return err
}

func (r *rawConn) clunk(fid uint32) error {
	var b enc
	b.u32(fid)
	_, err := r.call(120, b)
	return err
}

func (r *rawConn) lock(fid uint32, typ uint8, flags uint32, start, length uint64) (uint8, error) {
	var b enc
	b.u32(fid).u8(typ).u32(flags).u64(start).u64(length).u32(4242).str("rawclient")
	d, err := r.call(52, b)
	if err != nil {
		return 0, err
	}
	return d.u8(), nil
}

type getlockReply struct {
	Type          uint8
	Start, Length uint64
	PID           uint32
	Client        string
}

func (r *rawConn) getlock(fid uint32, typ uint8, start, length uint64, client string) (getlockReply, error) {
	var b enc
	b.u32(fid).u8(typ).u64(start).u64(length).u32(4242).str(client)
	d, err := r.call(54, b)
	if err != nil {
		return getlockReply{}, err
	}
	return getlockReply{d.u8(), d.u64(), d.u64(), d.u32(), d.str()}, nil
}

func (r *rawConn) read(fid uint32, off uint64, count uint32) ([]byte, error) {
	var b enc
	b.u32(fid).u64(off).u32(count)
	d, err := r.call(116, b)
	if err != nil {
		return nil, err
	}
	n := d.u32()
	return d[:n], nil
}

func (r *rawConn) write(fid uint32, off uint64, data []byte) error {
	var b enc
	b.u32(fid).u64(off).u32(uint32(len(data)))
	b = append(b, data...)
	_, err := r.call(118, b)
	return err
}

// setxattr sets (or, with an empty value and XATTR_REPLACE, removes) an
// attribute of the file at fid, walking a fresh fid for it as the Linux
// client does.
func (r *rawConn) setxattr(fid, tmp uint32, name string, value []byte, flags uint32) error {
	if err := r.walk(fid, tmp); err != nil {
		return err
	}
	var b enc
	b.u32(tmp).str(name).u64(uint64(len(value))).u32(flags)
	if _, err := r.call(32, b); err != nil {
		r.clunk(tmp)
		return err
	}
	if len(value) > 0 {
		if err := r.write(tmp, 0, value); err != nil {
			r.clunk(tmp)
			return err
		}
	}
	return r.clunk(tmp)
}

// getxattr reads an attribute ("" lists the names).
func (r *rawConn) getxattr(fid, tmp uint32, name string) ([]byte, error) {
	var b enc
	b.u32(fid).u32(tmp).str(name)
	d, err := r.call(30, b)
	if err != nil {
		return nil, err
	}
	size := d.u64()
	defer r.clunk(tmp)
	if size == 0 {
		return nil, nil
	}
	return r.read(tmp, 0, uint32(size))
}
