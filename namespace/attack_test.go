package namespace

// The attacks of srv9p/attack_test.go that reach the files behind the
// server loop, sent to the namespace: on node 2's own files through /here
// and on them through node 1's proxy (/2). Each asserts that the harm does
// not happen.

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"
	"golang.org/x/sys/unix"

	"mfs/internal/fcall"
	"mfs/srv9p/srv9ptest"
)

// atkData is the content of node 2's t/f in the attack tests.
const atkData = "attack target"

// atkDepth is how deep node 2's t/a/a/… goes: with the node directory and
// t, a walk to its bottom takes fcall.MaxWalk names.
const atkDepth = fcall.MaxWalk - 2

// atkTarget is a way to node 2's tree: the node whose namespace server is
// dialled and the root directory walked through.
type atkTarget struct {
	name string
	node int
	dir  string
}

var atkTargets = []atkTarget{{"here", 2, "here"}, {"remote", 1, "2"}}

// atkCluster is a 2-node cluster whose node 2 holds t/f (atkData), t/d/
// and t/a/a/… atkDepth deep.
func atkCluster(t *testing.T) *cluster {
	t.Helper()
	c := newCluster(t, 2, WithLogger(testLog(t)))
	mustWriteHost(t, c.dirs[1], "t/f", atkData)
	deep := filepath.Join(append([]string{c.dirs[1], "t"}, atkNames(atkDepth)...)...)
	for _, d := range []string{filepath.Join(c.dirs[1], "t", "d"), deep} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// atkNames is n times "a".
func atkNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = "a"
	}
	return names
}

// atkDial connects to tg's namespace server, attaches fid 1 to the root
// and walks fid 2 to t/f below tg.
func atkDial(t *testing.T, c *cluster, tg atkTarget) *srv9ptest.Raw {
	t.Helper()
	r := srv9ptest.DialRaw(t, c.nsSrv[tg.node-1].addr)
	if err := r.Attach(1); err != nil {
		t.Fatal(err)
	}
	if err := r.Walk(1, 2, tg.dir, "t", "f"); err != nil {
		t.Fatal(err)
	}
	return r
}

// atkOpen is atkDial with fid 2 opened read-write.
func atkOpen(t *testing.T, c *cluster, tg atkTarget) *srv9ptest.Raw {
	t.Helper()
	r := atkDial(t, c, tg)
	if err := r.Lopen(2, uint32(p9.ReadWrite)); err != nil {
		t.Fatal(err)
	}
	return r
}

// atkRecv reads one reply within srv9ptest.Promptly.
func atkRecv(t *testing.T, r *srv9ptest.Raw) (uint16, fcall.Msg) {
	t.Helper()
	tag, m, err := r.Recv(srv9ptest.Promptly)
	if err != nil {
		t.Fatalf("no reply: %v", err)
	}
	return tag, m
}

// atkWantErrno reads one reply and wants it to be an Rlerror e on tag.
func atkWantErrno(t *testing.T, r *srv9ptest.Raw, tag uint16, e linux.Errno) {
	t.Helper()
	got, m := atkRecv(t, r)
	if rl, ok := m.(*fcall.Rlerror); !ok || got != tag || rl.Errno != e {
		t.Fatalf("reply %s (tag %d), want Rlerror %v (tag %d)", m, got, e, tag)
	}
}

// atkReadF wants fid 2 to read atkData.
func atkReadF(t *testing.T, r *srv9ptest.Raw) {
	t.Helper()
	if b, err := r.Read(2, 0, 64); err != nil || string(b) != atkData {
		t.Fatalf("Tread of fid 2: %q, %v", b, err)
	}
}

// atkHoldLock write-locks t/f from a connection of its own, as tg sees it,
// and unlocks it when the test ends. The unlock is answered only once the
// lock is gone; closing the connection alone releases it some time later,
// and the next subtest's holder, on the same file, would find it BLOCKED.
func atkHoldLock(t *testing.T, c *cluster, tg atkTarget) *srv9ptest.Raw {
	t.Helper()
	h := atkOpen(t, c, tg)
	if st, err := h.Lock(2, p9.WriteLock, 0, 0, 0); st != p9.LockStatusOK || err != nil {
		t.Fatalf("holder: %v, %v", st, err)
	}
	t.Cleanup(func() {
		if st, err := h.Lock(2, p9.Unlock, 0, 0, 0); st != p9.LockStatusOK || err != nil {
			t.Errorf("holder's unlock: %v, %v", st, err)
		}
	})
	return h
}

// atkHolderKeeps wants a Tgetlock on r's fid 2 to report a write lock.
func atkHolderKeeps(t *testing.T, r *srv9ptest.Raw) {
	t.Helper()
	g, err := r.GetLock(2, p9.WriteLock, 0, 0, "probe")
	if err != nil || g.LockType != p9.WriteLock {
		t.Fatalf("Tgetlock: %+v, %v; want the holder's write lock", g, err)
	}
}

// TestAttackTrailingBytes: frames padded beyond their message are EINVAL
// and do nothing: no xattr fid, no clunk.
func TestAttackTrailingBytes(t *testing.T) {
	c := atkCluster(t)
	pad := func(m fcall.Msg, n int) []byte {
		b := fcall.Append(nil, fcall.L, 50, m)
		b = append(b, make([]byte, n)...)
		binary.LittleEndian.PutUint32(b, uint32(len(b)))
		return b
	}
	for _, tg := range atkTargets {
		for _, tc := range []struct {
			name  string
			frame []byte
		}{
			{"Txattrwalk+9000", pad(&fcall.Txattrwalk{Fid: 2, NewFid: 3}, 9000)},
			{"Tclunk+1", pad(&fcall.Tclunk{Fid: 2}, 1)},
		} {
			t.Run(tg.name+"/"+tc.name, func(t *testing.T) {
				r := atkOpen(t, c, tg)
				r.SendFrame(tc.frame)
				atkWantErrno(t, r, 50, linux.EINVAL)
				if err := r.Clunk(3); err != linux.EBADF {
					t.Fatalf("Tclunk of the would-be xattr fid: %v, want EBADF", err)
				}
				atkReadF(t, r)
			})
		}
	}
}

// TestAttackGetlockTokenLock: a Tlock with flags 1<<31 and the old
// getlock client string is an ordinary lock request: BLOCKED under
// another connection's write lock (an unlock releases only its own), which
// stays.
func TestAttackGetlockTokenLock(t *testing.T) {
	c := atkCluster(t)
	for _, tg := range atkTargets {
		t.Run(tg.name, func(t *testing.T) {
			atkHoldLock(t, c, tg)
			a := atkOpen(t, c, tg)
			for _, typ := range []p9.LockType{p9.ReadLock, p9.WriteLock, p9.Unlock} {
				rep, err := a.RPC(&fcall.Tlock{Fid: 2, LockType: typ, Flags: 1 << 31, PID: 1, Client: "\x00mfs-getlock\x00x\x00B"})
				if err != nil {
					t.Fatalf("type %v: %v", typ, err)
				}
				if st := rep.(*fcall.Rlock).Status; typ != p9.Unlock && st != p9.LockStatusBlocked {
					t.Fatalf("type %v: status %v, want BLOCKED", typ, st)
				}
				atkHolderKeeps(t, a)
			}
		})
	}
}

// TestAttackSelfFlush: a Tflush of its own tag or of an unknown one is
// answered at once, and 50 of them leave the connection working.
func TestAttackSelfFlush(t *testing.T) {
	c := atkCluster(t)
	for _, tg := range atkTargets {
		t.Run(tg.name, func(t *testing.T) {
			r := atkOpen(t, c, tg)
			for i := range uint16(52) {
				tag, old := 100+i, 100+i
				if i == 51 {
					old = 999
				}
				r.Send(tag, &fcall.Tflush{OldTag: old})
				got, m, err := r.Recv(2 * time.Second)
				if err != nil || got != tag || m.Type() != fcall.MsgRflush {
					t.Fatalf("Tflush %d of %d: %v (tag %d), %v", tag, old, m, got, err)
				}
			}
			atkReadF(t, r)
		})
	}
}

// TestAttackXattrcreateSize: attr_size is capped at 64 KiB, Twrite cannot
// pass it, a short value is refused at the clunk, and none of these sets
// the attribute on node 2.
func TestAttackXattrcreateSize(t *testing.T) {
	c := atkCluster(t)
	host := filepath.Join(c.dirs[1], "t", "f")
	const name = "user.attack"
	for _, tg := range atkTargets {
		for _, tc := range srv9ptest.XattrSizeCases {
			t.Run(tg.name+"/"+tc.Name, func(t *testing.T) {
				unix.Removexattr(host, name)
				tc.Check(t, atkDial(t, c, tg), host, name)
			})
		}
	}
}

// TestAttackXattrcreateMemory: 20 unclunked Txattrcreate fids filled with
// 64 KiB each hold about that much memory in the namespace's server.
func TestAttackXattrcreateMemory(t *testing.T) {
	c := atkCluster(t)
	heap := func() int64 {
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return int64(ms.HeapAlloc)
	}
	for _, tg := range atkTargets {
		t.Run(tg.name, func(t *testing.T) {
			r := atkDial(t, c, tg)
			chunk := bytes.Repeat([]byte("m"), 32<<10)
			const fids, size = 20, 64 << 10
			before := heap()
			for i := range uint32(fids) {
				fid := 100 + i
				if err := r.Walk(2, fid); err != nil {
					t.Fatal(err)
				}
				if _, err := r.RPC(&fcall.Txattrcreate{Fid: fid, Name: "user.big", Size: size}); err != nil {
					t.Fatalf("Txattrcreate %d: %v", i, err)
				}
				for off := 0; off < size; off += len(chunk) {
					if err := r.Write(fid, uint64(off), chunk); err != nil {
						t.Fatalf("Twrite %d at %d: %v", i, off, err)
					}
				}
			}
			if grew := heap() - before; grew > 16<<20 {
				t.Fatalf("heap grew %d MiB for %d xattr fids of 64 KiB", grew>>20, fids)
			}
		})
	}
}

// TestAttackWalk: Twalk's limits hold through the namespace, and a refused
// walk makes no fid and leaves the newfid in use alone.
func TestAttackWalk(t *testing.T) {
	c := atkCluster(t)
	for _, tg := range atkTargets {
		t.Run(tg.name, func(t *testing.T) {
			r := atkDial(t, c, tg)
			if err := r.Walk(1, 3, tg.dir, "t", "d"); err != nil {
				t.Fatal(err)
			}
			qid := func(fid uint32) (p9.QID, error) {
				rep, err := r.RPC(&fcall.Tgetattr{Fid: fid, Mask: p9.AttrMaskAll})
				if err != nil {
					return p9.QID{}, err
				}
				return rep.(*fcall.Rgetattr).QID, nil
			}
			dq, err := qid(3)
			if err != nil {
				t.Fatal(err)
			}
			bottom := append([]string{tg.dir, "t"}, atkNames(atkDepth)...)
			for _, tc := range []struct {
				name   string
				fid    uint32
				newfid uint32
				names  []string
				want   error
			}{
				{"17 names", 1, 10, append(bottom, "a"), linux.EINVAL},
				{"newfid in use", 1, 3, []string{tg.dir, "t", "f"}, linux.EBADF},
				{"from a file", 2, 10, []string{"x"}, linux.ENOTDIR},
				{"dot", 3, 10, []string{"."}, linux.EINVAL},
				{"dotdot", 3, 10, []string{".."}, linux.EINVAL},
				{"dotdot at the root", 1, 10, []string{tg.dir, ".."}, linux.EINVAL},
				{"slash", 1, 10, []string{tg.dir + "/t"}, linux.EINVAL},
				{"nul", 3, 10, []string{"f\x00x"}, linux.EINVAL},
				{"empty", 1, 10, []string{""}, linux.EINVAL},
			} {
				if err := r.Walk(tc.fid, tc.newfid, tc.names...); err != tc.want {
					t.Fatalf("%s: Twalk %q: %v, want %v", tc.name, tc.names, err, tc.want)
				}
				if err := r.Clunk(10); err != linux.EBADF {
					t.Fatalf("%s: the refused walk left fid 10 (clunk %v)", tc.name, err)
				}
				if q, err := qid(3); err != nil || q != dq {
					t.Fatalf("%s: fid 3 now %v, %v; want t/d %v", tc.name, q, err, dq)
				}
			}
			rep, err := r.RPC(&fcall.Twalk{Fid: 1, NewFid: 10, Names: bottom})
			if err != nil || len(rep.(*fcall.Rwalk).QIDs) != fcall.MaxWalk {
				t.Fatalf("walk of %d names: %v, %v", len(bottom), rep, err)
			}
		})
	}
}

// TestAttackFlushBlockingLock: a Tflush of a blocking Tlock that waits is
// answered Rlock (BLOCKED) then Rflush, nothing more on that tag, and the
// lock is not taken.
func TestAttackFlushBlockingLock(t *testing.T) {
	c := atkCluster(t)
	for _, tg := range atkTargets {
		t.Run(tg.name, func(t *testing.T) {
			atkHoldLock(t, c, tg)
			w := atkOpen(t, c, tg)
			w.Send(10, srv9ptest.TlockOf(2, p9.WriteLock, p9.LockFlagsBlock, 0, 0))
			// A later request answered first: the Tlock waits.
			w.Send(11, &fcall.Tgetattr{Fid: 2, Mask: p9.AttrMaskAll})
			if tag, m := atkRecv(t, w); tag != 11 || m.Type() != fcall.MsgRgetattr {
				t.Fatalf("reply %s (tag %d) before the Rgetattr: the blocking Tlock did not wait", m, tag)
			}
			w.Send(12, &fcall.Tflush{OldTag: 10})
			var got []string
			for range 2 {
				tag, m := atkRecv(t, w)
				s := fmt.Sprintf("%s %d", m, tag)
				if rl, ok := m.(*fcall.Rlock); ok {
					s = fmt.Sprintf("%s %v", s, rl.Status)
				}
				got = append(got, s)
			}
			if want := fmt.Sprintf("Rlock 10 %v,Rflush 12", p9.LockStatusBlocked); strings.Join(got, ",") != want {
				t.Fatalf("replies %q, want %q", got, want)
			}
			// The next reply on the connection is the next request's.
			if _, err := w.RPCTag(10, &fcall.Tgetattr{Fid: 2, Mask: p9.AttrMaskAll}); err != nil {
				t.Fatal(err)
			}
			atkHolderKeeps(t, w)
		})
	}
}

// TestAttackXattrwalkClunk: clunking the fid a Txattrwalk made leaves the
// fid it was made from working, opened or not.
func TestAttackXattrwalkClunk(t *testing.T) {
	c := atkCluster(t)
	if err := unix.Setxattr(filepath.Join(c.dirs[1], "t", "f"), "user.k", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	for _, tg := range atkTargets {
		for _, opened := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/opened=%v", tg.name, opened), func(t *testing.T) {
				r := atkDial(t, c, tg)
				if opened {
					if err := r.Lopen(2, uint32(p9.ReadWrite)); err != nil {
						t.Fatal(err)
					}
				}
				srv9ptest.XattrFidsLeaveFile(t, r, opened, atkData)
			})
		}
	}
}
