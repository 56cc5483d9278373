package export

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hugelgupf/p9/p9"

	"mfs/internal/fcall"
	"mfs/srv9p/srv9ptest"
)

// TestBlockingLock: a blocking Tlock waits on the server for the lock
// (instead of answering BLOCKED, which makes the Linux client sleep 30 s),
// and stops waiting when flushed, when its connection ends, or at the cap.
func TestBlockingLock(t *testing.T) {
	a, dir := newExport(t)
	if err := os.WriteFile(filepath.Join(dir, "f"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	a, pendingWaits := srv9ptest.LockWaits(a)
	addr := srv9ptest.Serve(t, "tcp", a)
	holder := srv9ptest.OpenRaw(t, addr)
	hold := func(t *testing.T) {
		t.Helper()
		if st, err := holder.Lock(2, wrlck, 0, 0, 0); st != lockOK || err != nil {
			t.Fatalf("holder lock: %d, %v", st, err)
		}
	}
	release := func(t *testing.T) {
		t.Helper()
		if st, err := holder.Lock(2, unlck, 0, 0, 0); st != lockOK || err != nil {
			t.Fatalf("holder unlock: %d, %v", st, err)
		}
	}
	// waiter sends a blocking write lock on tag 100 and waits until the
	// server is waiting on it.
	waiter := func(t *testing.T) *rawConn {
		t.Helper()
		w := srv9ptest.OpenRaw(t, addr)
		w.Send(100, srv9ptest.TlockOf(2, wrlck, lockFlagBlock, 0, 0))
		srv9ptest.WaitFor(t, "the blocking Tlock to reach the server", func() bool { return pendingWaits() == 1 })
		return w
	}
	cases := []struct {
		name string
		// end makes the wait end; it returns the status the blocked
		// Tlock must get, or -1 if no reply is expected.
		end func(t *testing.T, w *rawConn) int
	}{
		{"granted after release", func(t *testing.T, w *rawConn) int {
			release(t)
			return lockOK
		}},
		{"flushed", func(t *testing.T, w *rawConn) int {
			w.Send(101, &fcall.Tflush{OldTag: 100})
			return lockBlocked
		}},
		{"connection closed", func(t *testing.T, w *rawConn) int {
			w.Conn.Close()
			return -1
		}},
		{"cap reached", func(t *testing.T, w *rawConn) int {
			return lockBlocked
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "cap reached" {
				old := lockWaitCap
				lockWaitCap = 100 * time.Millisecond
				t.Cleanup(func() { lockWaitCap = old })
			}
			hold(t)
			w := waiter(t)
			want := tc.end(t, w)
			if want >= 0 {
				replies := 1
				if tc.name == "flushed" {
					replies = 2 // Rlock, then Rflush
				}
				var got []string
				for range replies {
					tag, m, err := w.Recv(srv9ptest.Promptly)
					if err != nil {
						t.Fatalf("no reply: %v", err)
					}
					got = append(got, m.String())
					if rl, ok := m.(*fcall.Rlock); ok {
						if tag != 100 || rl.Status != p9.LockStatus(want) {
							t.Fatalf("Rlock tag %d status %d, want tag 100 status %d", tag, rl.Status, want)
						}
					}
				}
				if got[0] != "Rlock" {
					t.Fatalf("replies %v, want the Rlock first", got)
				}
			}
			srv9ptest.WaitFor(t, "the wait to end", func() bool { return pendingWaits() == 0 })
			if want != lockOK {
				// The waiter did not take the lock: the holder still
				// has it, and after release it is free.
				release(t)
				probe := srv9ptest.OpenRaw(t, addr)
				if st, err := probe.Lock(2, wrlck, 0, 0, 0); st != lockOK || err != nil {
					t.Fatalf("lock after a %s wait: %d, %v", tc.name, st, err)
				}
				probe.Lock(2, unlck, 0, 0, 0)
			} else {
				w.Lock(2, unlck, 0, 0, 0)
			}
		})
	}
}
