package namespace

import (
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"

	"github.com/hugelgupf/p9/p9"
)

// promptly bounds how long a blocking Tlock may take once the lock is
// free or the request is flushed: generous, but far below the 30 s the
// Linux client waits before it retries a BLOCKED answer.
const promptly = 10 * time.Second

// frameConn sends and receives raw 9P frames, for what neither the p9
// client nor wire can send: a blocking Tlock left in flight, and Tflush.
type frameConn struct {
	t *testing.T
	c net.Conn
}

func dialFrames(t *testing.T, addr string) *frameConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	f := &frameConn{t: t, c: c}
	f.call(100, 0xffff, enc(nil).u32(65536).str("9P2000.L"), 101)
	return f
}

func (f *frameConn) send(typ uint8, tag uint16, body enc) {
	f.t.Helper()
	m := binary.LittleEndian.AppendUint32(nil, uint32(wireHeader+len(body)))
	m = append(m, typ)
	m = binary.LittleEndian.AppendUint16(m, tag)
	if _, err := f.c.Write(append(m, body...)); err != nil {
		f.t.Fatal(err)
	}
}

// recv reads one reply within promptly.
func (f *frameConn) recv() (typ uint8, tag uint16, body []byte) {
	f.t.Helper()
	f.c.SetReadDeadline(time.Now().Add(promptly))
	var hdr [wireHeader]byte
	if _, err := io.ReadFull(f.c, hdr[:]); err != nil {
		f.t.Fatalf("no reply: %v", err)
	}
	body = make([]byte, binary.LittleEndian.Uint32(hdr[:])-wireHeader)
	if _, err := io.ReadFull(f.c, body); err != nil {
		f.t.Fatal(err)
	}
	return hdr[4], binary.LittleEndian.Uint16(hdr[5:]), body
}

// call sends one request and wants the reply of type want on its tag.
func (f *frameConn) call(typ uint8, tag uint16, body enc, want uint8) []byte {
	f.t.Helper()
	f.send(typ, tag, body)
	rt, rtag, rb := f.recv()
	if rt != want || rtag != tag {
		f.t.Fatalf("request %d tag %d: reply %d tag %d (%x), want %d", typ, tag, rt, rtag, rb, want)
	}
	return rb
}

// tlock is a whole-file Tlock body on fid.
func tlock(fid uint32, typ p9.LockType, flags p9.LockFlags) enc {
	return enc(nil).u32(fid).u8(uint8(typ)).u32(uint32(flags)).u64(0).u64(0).u32(7).str("frames")
}

// TestBlockingLockThroughNamespace: a blocking Tlock through the
// namespace waits for the lock, locally (/here) and through the proxy
// (/2, where the namespace polls the peer), and a Tflush ends the wait at
// once without taking the lock.
func TestBlockingLockThroughNamespace(t *testing.T) {
	c := newCluster(t, 2)
	mustWriteHost(t, c.dirs[1], "l/f", "data")
	for _, tc := range []struct {
		name string
		node int
		path []string
	}{
		{"here", 2, []string{"here", "l", "f"}},
		{"remote", 1, []string{"2", "l", "f"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := c.nsSrv[tc.node-1].addr
			holder := dialRaw(t, addr)
			hf := holder.open(t, "", tc.path[0]+"/"+tc.path[1]+"/"+tc.path[2])
			lock := func(typ p9.LockType) p9.LockStatus {
				t.Helper()
				st, err := holder.w.lock(hf, typ, 0, 0, 0, 1, "holder")
				if err != nil {
					t.Fatalf("holder lock %v: %v", typ, err)
				}
				return st
			}

			w := dialFrames(t, addr)
			w.call(104, 1, enc(nil).u32(1).u32(^uint32(0)).str("").str("").u32(^uint32(0)), 105)
			walk := enc(nil).u32(1).u32(2).u16(uint16(len(tc.path)))
			for _, n := range tc.path {
				walk = walk.str(n)
			}
			w.call(110, 2, walk, 111)
			w.call(12, 3, enc(nil).u32(2).u32(2), 13) // Tlopen O_RDWR
			// waiting sends a blocking Tlock on tag and checks that the
			// server answers a later Tgetattr before it.
			waiting := func(tag uint16) {
				t.Helper()
				w.send(52, tag, tlock(2, p9.WriteLock, p9.LockFlagsBlock))
				w.send(24, tag+1, enc(nil).u32(2).u64(0x3fff))
				if rt, rtag, rb := w.recv(); rt != 25 || rtag != tag+1 {
					t.Fatalf("reply %d tag %d (%x) before the Rgetattr: the blocking Tlock did not wait", rt, rtag, rb)
				}
			}

			// Granted after the release.
			if st := lock(p9.WriteLock); st != p9.LockStatusOK {
				t.Fatalf("holder: %v", st)
			}
			waiting(10)
			if st := lock(p9.Unlock); st != p9.LockStatusOK {
				t.Fatalf("holder unlock: %v", st)
			}
			if rt, rtag, rb := w.recv(); rt != 53 || rtag != 10 || p9.LockStatus(rb[0]) != p9.LockStatusOK {
				t.Fatalf("blocked Tlock: reply %d tag %d %x, want Rlock OK", rt, rtag, rb)
			}
			w.call(52, 12, tlock(2, p9.Unlock, 0), 53)

			// Flushed: the wait ends and the lock is not taken.
			if st := lock(p9.WriteLock); st != p9.LockStatusOK {
				t.Fatalf("holder again: %v", st)
			}
			waiting(20)
			w.send(108, 22, enc(nil).u16(20))
			got := map[uint8]uint16{}
			for range 2 {
				rt, rtag, rb := w.recv()
				got[rt] = rtag
				if rt == 53 && p9.LockStatus(rb[0]) == p9.LockStatusOK {
					t.Fatal("the flushed Tlock was granted")
				}
			}
			if got[53] != 20 || got[109] != 22 {
				t.Fatalf("replies %v, want Rlock on 20 and Rflush on 22", got)
			}
			lock(p9.Unlock)
			if st := lock(p9.WriteLock); st != p9.LockStatusOK {
				t.Fatalf("holder after the flushed wait: %v (the waiter took the lock)", st)
			}
			lock(p9.Unlock)
		})
	}
}
