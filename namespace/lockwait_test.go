package namespace

import (
	"fmt"
	"testing"

	"github.com/hugelgupf/p9/p9"

	"mfs/internal/fcall"
	"mfs/srv9p/srv9ptest"
)

// TestBlockingLockThroughNamespace: a blocking Tlock through the
// namespace waits for the lock, locally (/here) and through the proxy
// (/2, where the blocking Tlock waits on the peer), and a Tflush ends the
// wait at once without taking the lock (on the peer too).
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
				st, err := hf.Lock(1, typ, 0, 0, 0, "holder")
				if err != nil {
					t.Fatalf("holder lock %v: %v", typ, err)
				}
				return st
			}

			w := srv9ptest.DialRaw(t, addr)
			if err := w.Attach(1); err != nil {
				t.Fatal(err)
			}
			if err := w.Walk(1, 2, tc.path...); err != nil {
				t.Fatal(err)
			}
			if err := w.Lopen(2, 2); err != nil { // O_RDWR
				t.Fatal(err)
			}
			recv := func() (uint16, fcall.Msg) {
				t.Helper()
				tag, m, err := w.Recv(srv9ptest.Promptly)
				if err != nil {
					t.Fatalf("no reply: %v", err)
				}
				return tag, m
			}
			// waiting sends a blocking Tlock on tag and checks that the
			// server answers a later Tgetattr before it.
			waiting := func(tag uint16) {
				t.Helper()
				w.Send(tag, srv9ptest.TlockOf(2, p9.WriteLock, p9.LockFlagsBlock, 0, 0))
				w.Send(tag+1, &fcall.Tgetattr{Fid: 2, Mask: p9.AttrMaskAll})
				if rtag, m := recv(); rtag != tag+1 || m.Type() != fcall.MsgRgetattr {
					t.Fatalf("reply %s tag %d before the Rgetattr: the blocking Tlock did not wait", m, rtag)
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
			if rtag, m := recv(); rtag != 10 || m.Type() != fcall.MsgRlock || m.(*fcall.Rlock).Status != p9.LockStatusOK {
				t.Fatalf("blocked Tlock: reply %s %+v tag %d, want Rlock OK", m, m, rtag)
			}
			if st, err := w.Lock(2, p9.Unlock, 0, 0, 0); err != nil || st != p9.LockStatusOK {
				t.Fatalf("unlock: %v %v", st, err)
			}

			// Flushed: the wait ends and the lock is not taken.
			if st := lock(p9.WriteLock); st != p9.LockStatusOK {
				t.Fatalf("holder again: %v", st)
			}
			waiting(20)
			w.Send(22, &fcall.Tflush{OldTag: 20})
			var got []string
			for range 2 {
				rtag, m := recv()
				got = append(got, fmt.Sprintf("%s/%d", m, rtag))
				if rl, ok := m.(*fcall.Rlock); ok && rl.Status == p9.LockStatusOK {
					t.Fatal("the flushed Tlock was granted")
				}
			}
			if got[0] != "Rlock/20" || got[1] != "Rflush/22" {
				t.Fatalf("replies %v, want Rlock on 20, then Rflush on 22", got)
			}
			lock(p9.Unlock)
			if st := lock(p9.WriteLock); st != p9.LockStatusOK {
				t.Fatalf("holder after the flushed wait: %v (the waiter took the lock)", st)
			}
			lock(p9.Unlock)
		})
	}
}
