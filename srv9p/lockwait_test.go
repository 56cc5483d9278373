package srv9p

import (
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// promptly bounds how long a blocking Tlock may take once the lock is
// free or the request is flushed: generous, but far below the 30 s the
// Linux client waits before it retries a BLOCKED answer.
const promptly = 10 * time.Second

// sendFrame writes one request with the given tag, without waiting.
func (r *rawConn) sendFrame(typ uint8, tag uint16, body enc) {
	r.t.Helper()
	m := binary.LittleEndian.AppendUint32(nil, uint32(7+len(body)))
	m = append(m, typ)
	m = binary.LittleEndian.AppendUint16(m, tag)
	m = append(m, body...)
	if _, err := r.c.Write(m); err != nil {
		r.t.Fatal(err)
	}
}

// recvFrame reads one reply, waiting at most d.
func (r *rawConn) recvFrame(d time.Duration) (typ uint8, tag uint16, body dec, err error) {
	r.c.SetReadDeadline(time.Now().Add(d))
	var hdr [7]byte
	if _, err := io.ReadFull(r.c, hdr[:]); err != nil {
		return 0, 0, nil, err
	}
	b := make([]byte, binary.LittleEndian.Uint32(hdr[:])-7)
	if _, err := io.ReadFull(r.c, b); err != nil {
		return 0, 0, nil, err
	}
	return hdr[4], binary.LittleEndian.Uint16(hdr[5:]), b, nil
}

// tlockBody is a Tlock body on fid.
func tlockBody(fid uint32, typ uint8, flags uint32) enc {
	var b enc
	b.u32(fid).u8(typ).u32(flags).u64(0).u64(0).u32(4242).str("rawclient")
	return b
}

// pendingWaits is the number of blocking Tlocks the filters know of.
func pendingWaits() int {
	waitLocks.mu.Lock()
	defer waitLocks.mu.Unlock()
	return len(waitLocks.pending)
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(promptly)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestBlockingLock: a blocking Tlock waits on the server for the lock
// (instead of answering BLOCKED, which makes the Linux client sleep 30 s),
// and stops waiting when flushed, when its connection ends, or at the cap.
func TestBlockingLock(t *testing.T) {
	a, dir := newExport(t)
	if err := os.WriteFile(filepath.Join(dir, "f"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	addr := serve(t, "tcp", a)
	holder := openRaw(t, addr)
	hold := func(t *testing.T) {
		t.Helper()
		if st, err := holder.lock(2, wrlck, 0, 0, 0); st != lockOK || err != nil {
			t.Fatalf("holder lock: %d, %v", st, err)
		}
	}
	release := func(t *testing.T) {
		t.Helper()
		if st, err := holder.lock(2, unlck, 0, 0, 0); st != lockOK || err != nil {
			t.Fatalf("holder unlock: %d, %v", st, err)
		}
	}
	// waiter sends a blocking write lock on tag 100 and waits until the
	// server is waiting on it.
	waiter := func(t *testing.T) *rawConn {
		t.Helper()
		w := openRaw(t, addr)
		w.sendFrame(msgTlock, 100, tlockBody(2, wrlck, lockFlagBlock))
		waitFor(t, "the blocking Tlock to reach the server", func() bool { return pendingWaits() == 1 })
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
			var b enc
			b.u16(100)
			w.sendFrame(msgTflush, 101, b)
			return lockBlocked
		}},
		{"connection closed", func(t *testing.T, w *rawConn) int {
			w.c.Close()
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
				got := map[uint8]bool{}
				for range replies {
					typ, tag, body, err := w.recvFrame(promptly)
					if err != nil {
						t.Fatalf("no reply: %v", err)
					}
					got[typ] = true
					if typ == msgRlock {
						if tag != 100 || body[0] != uint8(want) {
							t.Fatalf("Rlock tag %d status %d, want tag 100 status %d", tag, body[0], want)
						}
					}
				}
				if !got[msgRlock] {
					t.Fatalf("replies %v, no Rlock", got)
				}
			}
			waitFor(t, "the wait to end", func() bool { return pendingWaits() == 0 })
			if want != lockOK {
				// The waiter did not take the lock: the holder still
				// has it, and after release it is free.
				release(t)
				probe := openRaw(t, addr)
				if st, err := probe.lock(2, wrlck, 0, 0, 0); st != lockOK || err != nil {
					t.Fatalf("lock after a %s wait: %d, %v", tc.name, st, err)
				}
				probe.lock(2, unlck, 0, 0, 0)
			} else {
				w.lock(2, unlck, 0, 0, 0)
			}
		})
	}
}
