package srv9ptest

import (
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"

	"mfs/internal/fcall"
)

// Raw speaks 9P message by message over one connection, for tests that
// must send what no client library sends (Tgetlock, a chosen fid, bad
// frames, flushes) or watch replies one by one. It encodes and decodes
// with mfs's one codec, internal/fcall, in Dialect (9P2000.L from
// DialRaw).
type Raw struct {
	T       testing.TB
	Conn    net.Conn
	Dialect fcall.Dialect
	tag     uint16
}

// ErrorReply is an Rerror of 9P2000 or 9P2000.u as an error: its string,
// and its errno (9P2000.u's; in 9P2000 the errno the string stands for).
type ErrorReply struct {
	Ename string
	Errno linux.Errno
}

func (e *ErrorReply) Error() string { return e.Ename }
func (e *ErrorReply) Unwrap() error { return e.Errno }

// Timeout bounds every RPC of a Raw.
const Timeout = 10 * time.Second

// DialRaw connects to an mfs address (host:port or unix:/path) and agrees
// on 9P2000.L with msize 64 KiB.
func DialRaw(t testing.TB, addr string) *Raw {
	t.Helper()
	return DialRawDialect(t, addr, fcall.L)
}

// DialRawDialect is DialRaw agreeing on dialect d.
func DialRawDialect(t testing.TB, addr string, d fcall.Dialect) *Raw {
	t.Helper()
	network, address := "tcp", addr
	if len(addr) > 5 && addr[:5] == "unix:" {
		network, address = "unix", addr[5:]
	}
	c, err := net.Dial(network, address)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	r := &Raw{T: t, Conn: c, Dialect: d}
	rep, err := r.RPCTag(fcall.NoTag, &fcall.Tversion{Msize: 64 << 10, Version: d.String()})
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := rep.(*fcall.Rversion); !ok || v.Version != d.String() {
		t.Fatalf("Tversion answered %#v", rep)
	}
	return r
}

// Send writes one message with tag, without waiting for a reply.
func (r *Raw) Send(tag uint16, m fcall.Msg) {
	r.T.Helper()
	r.SendFrame(fcall.Append(nil, r.dialect(), tag, m))
}

// SendFrame writes raw bytes.
func (r *Raw) SendFrame(b []byte) {
	r.T.Helper()
	r.Conn.SetWriteDeadline(time.Now().Add(Timeout))
	if _, err := r.Conn.Write(b); err != nil {
		r.T.Fatal(err)
	}
}

// Recv reads one reply, waiting at most d.
func (r *Raw) Recv(d time.Duration) (tag uint16, m fcall.Msg, err error) {
	r.Conn.SetReadDeadline(time.Now().Add(d))
	var hdr [fcall.HeaderSize]byte
	if _, err := io.ReadFull(r.Conn, hdr[:]); err != nil {
		return 0, nil, err
	}
	size, _, _ := fcall.Header(hdr[:])
	if size < fcall.HeaderSize || size > 16<<20 {
		return 0, nil, fmt.Errorf("reply size %d", size)
	}
	frame := make([]byte, size)
	copy(frame, hdr[:])
	if _, err := io.ReadFull(r.Conn, frame[fcall.HeaderSize:]); err != nil {
		return 0, nil, err
	}
	return fcall.Decode(r.dialect(), frame)
}

// dialect is the Raw's dialect, 9P2000.L for a Raw made by hand.
func (r *Raw) dialect() fcall.Dialect {
	if r.Dialect == fcall.Unknown {
		return fcall.L
	}
	return r.Dialect
}

// RPCTag sends m with tag and returns its reply; an Rlerror comes back as
// its linux.Errno.
func (r *Raw) RPCTag(tag uint16, m fcall.Msg) (fcall.Msg, error) {
	r.T.Helper()
	r.Send(tag, m)
	got, rep, err := r.Recv(Timeout)
	if err != nil {
		r.T.Fatalf("%s: %v", m, err)
	}
	if got != tag {
		r.T.Fatalf("%s: reply tag %d, want %d", m, got, tag)
	}
	if e, ok := rep.(*fcall.Rlerror); ok {
		return nil, e.Errno
	}
	if e, ok := rep.(*fcall.Rerror); ok {
		errno := e.Errno
		if r.dialect() == fcall.Plan9 {
			errno = fcall.ErrnoOfString(e.Ename)
		}
		return nil, &ErrorReply{Ename: e.Ename, Errno: errno}
	}
	if rep.Type() != m.Type()+1 {
		r.T.Fatalf("%s answered with %s", m, rep)
	}
	return rep, nil
}

// RPC is RPCTag with the next tag.
func (r *Raw) RPC(m fcall.Msg) (fcall.Msg, error) {
	r.T.Helper()
	r.tag++
	if r.tag == fcall.NoTag {
		r.tag = 1
	}
	return r.RPCTag(r.tag, m)
}

// Attach attaches fid to the root, with no user.
func (r *Raw) Attach(fid uint32) error {
	return r.AttachAs(fid, "", p9.NoUID)
}

// AttachAs attaches fid at the attach name aname with n_uname uid.
func (r *Raw) AttachAs(fid uint32, aname string, uid p9.UID) error {
	r.T.Helper()
	_, err := r.RPC(&fcall.Tattach{Fid: fid, Afid: fcall.NoFid, Aname: aname, NUname: uid})
	return err
}

// Walk walks newfid from fid through names.
func (r *Raw) Walk(fid, newfid uint32, names ...string) error {
	r.T.Helper()
	_, err := r.RPC(&fcall.Twalk{Fid: fid, NewFid: newfid, Names: names})
	return err
}

// Lopen opens fid with Linux open flags.
func (r *Raw) Lopen(fid, flags uint32) error {
	r.T.Helper()
	_, err := r.RPC(&fcall.Tlopen{Fid: fid, Flags: p9.OpenFlags(flags)})
	return err
}

// Clunk clunks fid.
func (r *Raw) Clunk(fid uint32) error {
	r.T.Helper()
	_, err := r.RPC(&fcall.Tclunk{Fid: fid})
	return err
}

// Lock sends a Tlock for the whole range given and returns the status.
func (r *Raw) Lock(fid uint32, typ p9.LockType, flags p9.LockFlags, start, length uint64) (p9.LockStatus, error) {
	r.T.Helper()
	rep, err := r.RPC(TlockOf(fid, typ, flags, start, length))
	if err != nil {
		return 0, err
	}
	return rep.(*fcall.Rlock).Status, nil
}

// TlockOf is the Tlock Lock sends.
func TlockOf(fid uint32, typ p9.LockType, flags p9.LockFlags, start, length uint64) *fcall.Tlock {
	return &fcall.Tlock{Fid: fid, LockType: typ, Flags: flags, Start: start, Length: length, PID: 4242, Client: "rawclient"}
}

// GetLock sends a Tgetlock.
func (r *Raw) GetLock(fid uint32, typ p9.LockType, start, length uint64, client string) (*fcall.Rgetlock, error) {
	r.T.Helper()
	rep, err := r.RPC(&fcall.Tgetlock{Fid: fid, LockType: typ, Start: start, Length: length, PID: 4242, Client: client})
	if err != nil {
		return nil, err
	}
	return rep.(*fcall.Rgetlock), nil
}

// Read reads up to count bytes at off.
func (r *Raw) Read(fid uint32, off uint64, count uint32) ([]byte, error) {
	r.T.Helper()
	rep, err := r.RPC(&fcall.Tread{Fid: fid, Offset: off, Count: count})
	if err != nil {
		return nil, err
	}
	return rep.(*fcall.Rread).Data, nil
}

// Write writes data at off.
func (r *Raw) Write(fid uint32, off uint64, data []byte) error {
	r.T.Helper()
	_, err := r.RPC(&fcall.Twrite{Fid: fid, Offset: off, Data: data})
	return err
}

// Setattr sends a Tsetattr with the raw valid mask, mode and size (uid,
// gid and times zero), as the Linux client sends chmod and truncate.
func (r *Raw) Setattr(fid, valid, mode uint32, size uint64) error {
	r.T.Helper()
	_, err := r.RPC(&fcall.Tsetattr{Fid: fid, Valid: fcall.SetAttrMaskOf(valid), Attr: p9.SetAttr{Permissions: p9.FileMode(mode), Size: size}})
	return err
}

// SetXattr sets (or, with an empty value, removes) an attribute of the
// file at fid, through a fresh fid tmp as the Linux client does.
func (r *Raw) SetXattr(fid, tmp uint32, name string, value []byte, flags uint32) error {
	r.T.Helper()
	if err := r.Walk(fid, tmp); err != nil {
		return err
	}
	if _, err := r.RPC(&fcall.Txattrcreate{Fid: tmp, Name: name, Size: uint64(len(value)), Flags: flags}); err != nil {
		r.Clunk(tmp)
		return err
	}
	if len(value) > 0 {
		if err := r.Write(tmp, 0, value); err != nil {
			r.Clunk(tmp)
			return err
		}
	}
	return r.Clunk(tmp)
}

// GetXattr reads an attribute ("" lists the names) through the new fid
// tmp, which it clunks.
func (r *Raw) GetXattr(fid, tmp uint32, name string) ([]byte, error) {
	r.T.Helper()
	rep, err := r.RPC(&fcall.Txattrwalk{Fid: fid, NewFid: tmp, Name: name})
	if err != nil {
		return nil, err
	}
	defer r.Clunk(tmp)
	size := rep.(*fcall.Rxattrwalk).Size
	if size == 0 {
		return nil, nil
	}
	return r.Read(tmp, 0, uint32(size))
}

// IsErrno reports whether err is the errno e.
func IsErrno(err error, e linux.Errno) bool {
	got, ok := err.(linux.Errno)
	return ok && got == e
}

// OpenRaw dials addr (see DialRaw), attaches fid 1 to the root and opens
// its file "f" read-write as fid 2.
func OpenRaw(t testing.TB, addr string) *Raw {
	t.Helper()
	r := DialRaw(t, addr)
	if err := r.Attach(1); err != nil {
		t.Fatal(err)
	}
	if err := r.Walk(1, 2, "f"); err != nil {
		t.Fatal(err)
	}
	if err := r.Lopen(2, uint32(p9.ReadWrite)); err != nil {
		t.Fatal(err)
	}
	return r
}

// XattrFidsLeaveFile checks that xattr fids made from fid 2 of r (a file
// holding data, with the one attribute user.k = "v"), read and clunked
// three times over, leave fid 2 working: it opens read-write (unless
// opened says it is open already), reads data and takes a write.
func XattrFidsLeaveFile(t testing.TB, r *Raw, opened bool, data string) {
	t.Helper()
	for i := range 3 {
		if v, err := r.GetXattr(2, 3, "user.k"); err != nil || string(v) != "v" {
			t.Fatalf("round %d: get: %q, %v", i, v, err)
		}
		if l, err := r.GetXattr(2, 3, ""); err != nil || string(l) != "user.k\x00" {
			t.Fatalf("round %d: list: %q, %v", i, l, err)
		}
	}
	if !opened {
		if err := r.Lopen(2, uint32(p9.ReadWrite)); err != nil {
			t.Fatalf("Tlopen after the xattr fids: %v", err)
		}
	}
	if b, err := r.Read(2, 0, 64); err != nil || string(b) != data {
		t.Fatalf("Tread after the xattr fids: %q, %v", b, err)
	}
	if err := r.Write(2, 0, []byte(data)); err != nil {
		t.Fatalf("Twrite after the xattr fids: %v", err)
	}
}
