package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"

	"mfs/internal/fcall"
)

// TestTimeout: a call that outlives Options.Timeout is flushed and fails
// with ETIMEDOUT alone; the connection and its other files keep working.
func TestTimeout(t *testing.T) {
	const timeout = 300 * time.Millisecond
	for _, network := range networks {
		t.Run(network, func(t *testing.T) {
			a, dir := newExport(t)
			writeHost(t, filepath.Join(dir, "slow"), []byte("slow"))
			writeHost(t, filepath.Join(dir, "other"), []byte("other data"))
			// The export's FSync takes 2 s (less when the test ends).
			release := make(chan struct{})
			var syncing atomic.Int32
			h := &hooks{fsync: func() error {
				syncing.Add(1)
				defer syncing.Add(-1)
				select {
				case <-release:
				case <-time.After(2 * time.Second):
				}
				return nil
			}}
			tl := &tapListener{}
			tg := serve(t, network, &hookAttacher{Attacher: a, h: h}, func(ln net.Listener) net.Listener { tl.Listener = ln; return tl })
			var once sync.Once
			free := func() { once.Do(func() { close(release) }) }
			t.Cleanup(free) // before the server's cleanup, which waits for it

			tp := &tap{Conn: tg.dial(t)}
			c := connect(t, tp, Options{Timeout: timeout})
			root := attach(t, c)
			slow := openAt(t, root, "slow", p9.ReadWrite)
			other := openAt(t, root, "other", p9.ReadOnly)

			start := time.Now()
			err := slow.FSync()
			took := time.Since(start)
			if !errors.Is(err, linux.ETIMEDOUT) || !errors.Is(err, ErrTimeout) {
				t.Fatalf("FSync: %v, want ETIMEDOUT", err)
			}
			if took < timeout || took > 2*timeout+500*time.Millisecond {
				t.Errorf("FSync failed after %v; timeout %v", took, timeout)
			}
			if syncing.Load() != 1 {
				t.Errorf("the server's FSync is not running any more: the test proves nothing")
			}

			// The Tflush went out for the Tfsync's tag, and the server read it.
			var tag uint16
			found := false
			for _, f := range tp.out.all() {
				if m, ok := f.msg.(*fcall.Tfsync); ok && m.Fid == slow.fid {
					tag, found = f.tag, true
				}
			}
			if !found {
				t.Fatalf("no Tfsync went out")
			}
			flushed := func(fs []frame) bool {
				for _, f := range fs {
					if m, ok := f.msg.(*fcall.Tflush); ok && m.OldTag == tag {
						return true
					}
				}
				return false
			}
			if !flushed(tp.out.all()) {
				t.Errorf("the client sent no Tflush of tag %d", tag)
			}
			waitFor(t, 5*time.Second, "server read the Tflush", func() bool { return flushed(tl.received()) })

			// Same connection, right after: other files and the slow one
			// itself answer.
			if c.Err() != nil {
				t.Fatalf("connection dead after a timeout: %v", c.Err())
			}
			if _, _, attr, err := other.GetAttr(p9.AttrMask{Size: true}); err != nil || attr.Size != 10 {
				t.Errorf("getattr of another file: size %d, %v", attr.Size, err)
			}
			buf := make([]byte, 10)
			if n, err := other.ReadAt(buf, 0); n != 10 || string(buf) != "other data" {
				t.Errorf("read of another file: %q, %v", buf[:n], err)
			}
			if _, _, _, err := slow.GetAttr(p9.AttrMask{Mode: true}); err != nil {
				t.Errorf("getattr of the file whose fsync timed out: %v", err)
			}
			walkTo(t, root, "other")
			if syncing.Load() != 1 {
				t.Errorf("the server's FSync ended before the other calls were checked")
			}
			select {
			case <-c.Done():
				t.Fatalf("connection ended: %v", c.Err())
			default:
			}

			// Once the server's FSync returns, its late answers are taken
			// and forgotten: nothing stays pending, the connection lives.
			free()
			waitFor(t, 5*time.Second, "late reply and Rflush taken", func() bool { return pending(c) == 0 })
			if _, _, _, err := slow.GetAttr(p9.AttrMask{Mode: true}); err != nil || c.Err() != nil {
				t.Errorf("after the late reply: %v (connection: %v)", err, c.Err())
			}
			check(t, "fsync", slow.FSync())
		})
	}
}

// TestDeadPeer: a peer that answers nothing, not even a Tflush, is dead
// after the timeout and the flush's timeout: every pending call fails with
// EHOSTDOWN, later ones at once; a new connection works.
func TestDeadPeer(t *testing.T) {
	const timeout = 300 * time.Millisecond
	limit := 2*timeout + time.Second
	cases := []struct {
		name string
		// calls returns the calls to make while the proxy is frozen.
		calls func(t *testing.T, root *File) map[string]func() error
	}{
		{"metadata", func(t *testing.T, root *File) map[string]func() error {
			f := openAt(t, root, "f", p9.ReadOnly)
			d := openAt(t, root, "", p9.ReadOnly)
			buf := make([]byte, 1<<20)
			return map[string]func() error{
				"getattr":  func() error { _, _, _, err := root.GetAttr(p9.AttrMaskAll); return err },
				"getattr2": func() error { _, _, _, err := f.GetAttr(p9.AttrMaskAll); return err },
				"read":     func() error { _, err := f.ReadAt(buf, 0); return err },
				"walk":     func() error { _, _, err := root.Walk([]string{"f"}); return err },
				"statfs":   func() error { _, err := root.StatFS(); return err },
				"readdir":  func() error { _, err := d.Readdir(0, 100); return err },
				"xattr":    func() error { _, err := f.GetXattr("user.x"); return err },
				"mkdir":    func() error { _, err := root.Mkdir("d", 0o755, p9.NoUID, p9.NoGID); return err },
			}
		}},
		{"writes-backed-up", func(t *testing.T, root *File) map[string]func() error {
			calls := map[string]func() error{
				"getattr": func() error { _, _, _, err := root.GetAttr(p9.AttrMaskAll); return err },
			}
			data := bytes.Repeat([]byte("x"), 4<<20)
			for i := range 16 {
				w := openAt(t, root, "f", p9.WriteOnly)
				calls[fmt.Sprintf("write%d", i)] = func() error { _, err := w.WriteAt(data, 0); return err }
			}
			return calls
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, dir := newExport(t)
			writeHost(t, filepath.Join(dir, "f"), bytes.Repeat([]byte("y"), 1<<20))
			writeHost(t, filepath.Join(dir, "l"), nil)
			tg := serve(t, "tcp", a, nil)
			p := newProxy(t, tg.addr)
			dial := func() net.Conn {
				nc, err := net.Dial("tcp", p.addr())
				check(t, "dial the proxy", err)
				return nc
			}
			c := connect(t, dial(), Options{Timeout: timeout})
			root := attach(t, c)
			calls := tc.calls(t, root)

			// A LockWait, waiting at the server before the freeze, has no
			// timeout of its own; it ends with the connection.
			holder := openAt(t, attach(t, connect(t, tg.dial(t), Options{Timeout: 5 * time.Second})), "l", p9.ReadWrite)
			if st, err := holder.Lock(1, p9.WriteLock, 0, 0, 0, "holder"); st != p9.LockStatusOK || err != nil {
				t.Fatalf("lock: %v, %v", st, err)
			}
			waiter := openAt(t, root, "l", p9.ReadWrite)
			type result struct {
				name string
				err  error
				took time.Duration
			}
			results := make(chan result, len(calls)+1)
			go func() {
				start := time.Now()
				_, err := waiter.LockWait(context.Background(), 2, p9.WriteLock, 0, 0, 0, "waiter")
				results <- result{"lockwait", err, time.Since(start)}
			}()
			waitFor(t, 5*time.Second, "Tlock sent", func() bool { return pending(c) == 1 })

			t.Cleanup(p.close) // first: a failing case must not hang its cleanups
			p.freeze()
			frozen := time.Now()
			for name, call := range calls {
				go func() {
					start := time.Now()
					err := call()
					results <- result{name, err, time.Since(start)}
				}()
			}
			for range len(calls) + 1 {
				select {
				case r := <-results:
					if !errors.Is(r.err, linux.EHOSTDOWN) || !errors.Is(r.err, ErrDead) {
						t.Errorf("%s: %v, want EHOSTDOWN", r.name, r.err)
					}
					if r.name != "lockwait" && r.took > limit {
						t.Errorf("%s failed after %v, more than %v", r.name, r.took, limit)
					}
				case <-time.After(limit + 2*time.Second):
					t.Fatalf("calls still pending %v after the freeze", time.Since(frozen))
				}
			}
			select {
			case <-c.Done():
			case <-time.After(time.Second):
				t.Fatalf("Done not closed")
			}
			if c.Err() == nil {
				t.Errorf("Err is nil on a dead connection")
			}

			// Later calls fail at once.
			for name, call := range map[string]func() error{
				"getattr": func() error { _, _, _, err := root.GetAttr(p9.AttrMaskAll); return err },
				"walk":    func() error { _, _, err := root.Walk(nil); return err },
				"attach":  func() error { _, err := c.Attach("", "root", p9.NoUID); return err },
				"lockwait": func() error {
					_, err := waiter.LockWait(context.Background(), 2, p9.WriteLock, 0, 0, 0, "waiter")
					return err
				},
			} {
				start := time.Now()
				err := call()
				if !errors.Is(err, linux.EHOSTDOWN) || time.Since(start) > 100*time.Millisecond {
					t.Errorf("%s on a dead connection: %v after %v", name, err, time.Since(start))
				}
			}

			// Thawed, a new connection through the proxy works.
			p.unfreeze()
			c2 := connect(t, dial(), Options{Timeout: timeout})
			if _, _, attr, err := walkTo(t, attach(t, c2), "f").GetAttr(p9.AttrMask{Size: true}); err != nil || attr.Size != 1<<20 {
				t.Errorf("new connection: size %d, %v", attr.Size, err)
			}
		})
	}
}

// TestPipelining: 16 reads on one connection are at the server at once
// (its ReadAt waits until all 16 are in).
func TestPipelining(t *testing.T) {
	const n = 16
	for _, network := range networks {
		t.Run(network, func(t *testing.T) {
			a, dir := newExport(t)
			for i := range n {
				writeHost(t, filepath.Join(dir, fmt.Sprintf("p%02d", i)), []byte(fmt.Sprintf("data of %02d", i)))
			}
			var in, most atomic.Int32
			all := make(chan struct{})
			h := &hooks{readAt: func(name string) error {
				if !strings.HasPrefix(name, "p") {
					return nil
				}
				k := in.Add(1)
				defer in.Add(-1)
				for m := most.Load(); k > m && !most.CompareAndSwap(m, k); m = most.Load() {
				}
				if k == n {
					close(all)
				}
				select {
				case <-all:
					return nil
				case <-time.After(5 * time.Second):
					return linux.ETIME
				}
			}}
			tg := serve(t, network, &hookAttacher{Attacher: a, h: h}, nil)
			tp := &tap{Conn: tg.dial(t)}
			c := connect(t, tp, Options{Timeout: 10 * time.Second})
			root := attach(t, c)
			files := make([]*File, n)
			for i := range files {
				files[i] = openAt(t, root, fmt.Sprintf("p%02d", i), p9.ReadOnly)
			}
			var wg sync.WaitGroup
			errs := make([]error, n)
			for i, f := range files {
				wg.Go(func() {
					buf := make([]byte, 64)
					k, err := f.ReadAt(buf, 0)
					if err == nil && string(buf[:k]) != fmt.Sprintf("data of %02d", i) {
						err = fmt.Errorf("read %q", buf[:k])
					}
					errs[i] = err
				})
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("read %d: %v", i, err)
				}
			}
			if m := most.Load(); m != n {
				t.Errorf("at most %d reads at the server at once, want %d", m, n)
			}
			treads := 0
			for _, f := range tp.out.all() {
				if _, ok := f.msg.(*fcall.Tread); ok {
					treads++
				}
			}
			if treads != n {
				t.Errorf("%d Treads on the connection, want %d", treads, n)
			}
		})
	}
}
