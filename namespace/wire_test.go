package namespace

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/hugelgupf/p9/p9"
)

// TestWireInterleaving drives one wire with p9 client traffic (large
// reads and writes, small walks) and injected requests (xattrs, locks,
// getlock) at once, and checks every answer: frames stay whole in both
// directions and replies reach their callers.
func TestWireInterleaving(t *testing.T) {
	dir := t.TempDir()
	data := bytes.Repeat([]byte("0123456789abcdef"), 256<<10) // 4 MiB
	mustWriteHost(t, dir, "big", string(data))
	mustWriteHost(t, dir, "x", "")
	s := serve(t, exportOf(t, dir))
	c := dialRaw(t, s.addr)
	root := attach(t, c.Conn, "")
	x := walk(t, root, "x")
	if _, _, err := x.Open(p9.ReadWrite); err != nil {
		t.Fatal(err)
	}
	xfid, _ := clientFid(x)
	if err := c.w.xattrWrite(xfid, "user.v", []byte("value"), 0, c.MSize); err != nil {
		t.Fatal(err)
	}

	const rounds = 20
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	run := func(name string, fn func(i int) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < rounds; i++ {
				if err := fn(i); err != nil {
					errs <- fmt.Errorf("%s round %d: %w", name, i, err)
					return
				}
			}
		}()
	}
	for g := 0; g < 3; g++ {
		run(fmt.Sprintf("reader %d", g), func(i int) error {
			f, err := walkErr(root, "big")
			if err != nil {
				return err
			}
			defer f.Close()
			if _, _, err := f.Open(p9.ReadOnly); err != nil {
				return err
			}
			buf := make([]byte, 1<<20)
			off := int64((i + g) % 4 << 20)
			n, err := f.ReadAt(buf, off)
			if err != nil || !bytes.Equal(buf[:n], data[off:off+int64(n)]) || n != len(buf) {
				return fmt.Errorf("read at %d: %d bytes, %v, content ok %v", off, n, err, bytes.Equal(buf[:n], data[off:off+int64(n)]))
			}
			return nil
		})
	}
	run("writer", func(i int) error {
		f, err := walkErr(root, "big")
		if err != nil {
			return err
		}
		defer f.Close()
		if _, _, err := f.Open(p9.WriteOnly); err != nil {
			return err
		}
		// Rewrite a region with the same bytes: readers stay right.
		n, err := f.WriteAt(data[1<<20:2<<20], 1<<20)
		if err != nil || n != 1<<20 {
			return fmt.Errorf("write: %d, %v", n, err)
		}
		return nil
	})
	run("walker", func(int) error {
		for j := 0; j < 20; j++ {
			f, err := walkErr(root, "x")
			if err != nil {
				return err
			}
			f.Close()
		}
		return nil
	})
	for g := 0; g < 2; g++ {
		run(fmt.Sprintf("xattr %d", g), func(int) error {
			b, err := c.w.xattrRead(xfid, "user.v", c.MSize)
			if err != nil || string(b) != "value" {
				return fmt.Errorf("getxattr: %q, %v", b, err)
			}
			names, err := c.w.xattrRead(xfid, "", c.MSize)
			if err != nil || !bytes.Contains(names, []byte("user.v\x00")) {
				return fmt.Errorf("listxattr: %q, %v", names, err)
			}
			return nil
		})
	}
	run("locker", func(int) error {
		if st, err := c.w.lock(xfid, p9.WriteLock, 0, 0, 10, 1, "t"); err != nil || st != p9.LockStatusOK {
			return fmt.Errorf("lock: %v %v", st, err)
		}
		if g, err := c.w.getlock(xfid, p9.WriteLock, 0, 10, 1, "t"); err != nil || g.Type != p9.Unlock {
			// Our own lock does not conflict with ourselves.
			return fmt.Errorf("getlock: %+v %v", g, err)
		}
		if st, err := c.w.lock(xfid, p9.Unlock, 0, 0, 10, 1, "t"); err != nil || st != p9.LockStatusOK {
			return fmt.Errorf("unlock: %v %v", st, err)
		}
		return nil
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestWireFailsPending: closing the socket fails injected requests and
// p9 calls waiting on the wire, and later ones at once.
func TestWireFailsPending(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c
		}
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	w := newWire(nc)
	srv := <-accepted
	done := make(chan error, 1)
	go func() {
		_, err := w.xattrRead(1, "user.x", 8192)
		done <- err
	}()
	// The request reaches the server, which never answers; then the
	// server side goes away.
	buf := make([]byte, 64)
	if _, err := srv.Read(buf); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("pending request succeeded on a closed connection")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("pending request still waiting 5 s after the peer closed")
	}
	if _, err := w.lock(1, p9.WriteLock, 0, 0, 0, 1, ""); err == nil {
		t.Fatal("request on a dead wire succeeded")
	}
	if _, err := w.Read(buf); err == nil {
		t.Fatal("p9 read on a dead wire succeeded")
	}
}

// TestWireDeadWritesSucceed: once the connection has failed, the p9
// client's writes are dropped and reported as done (whole frames, split as
// the client splits them, also one cut off by the failure), while its
// reads fail: a failed send would leave the p9 client's pooled response
// object posted with a stale error for another connection (see
// wire.Write). Injected requests, which are the namespace's own, still
// fail at once.
func TestWireDeadWritesSucceed(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	w := newWire(a)
	frame := func(n int) []byte {
		f := make([]byte, n)
		binary.LittleEndian.PutUint32(f, uint32(n))
		f[4], f[5] = 110, 1
		return f
	}
	f := frame(40)
	go io.Copy(io.Discard, b)
	if _, err := w.Write(f[:7]); err != nil { // header of a frame in flight
		t.Fatal(err)
	}
	w.fail(errWireClosed)
	for i, piece := range [][]byte{f[7:20], f[20:], frame(7), frame(30)[:7], frame(30)[7:]} {
		if n, err := w.Write(piece); err != nil || n != len(piece) {
			t.Fatalf("piece %d on a dead wire: %d, %v", i, n, err)
		}
	}
	if _, err := w.Read(make([]byte, 8)); err == nil {
		t.Fatal("read on a dead wire succeeded")
	}
	// wmu was released at the end of each frame: an injected request
	// does not hang on it.
	done := make(chan error, 1)
	go func() { _, err := w.lock(1, p9.WriteLock, 0, 0, 0, 1, ""); done <- err }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("injected request on a dead wire succeeded")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("injected request hangs on a dead wire")
	}
}

// TestWireReadSplits: frames reach their readers whole and in order
// however the socket cuts the stream (several frames in one read, one
// byte per read) and however the p9 client sizes its reads, with a
// reserved reply between p9 frames and bodies below and above the read
// buffer's size.
func TestWireReadSplits(t *testing.T) {
	frame := func(n int, tag uint16) []byte {
		f := make([]byte, n)
		binary.LittleEndian.PutUint32(f, uint32(n))
		f[4] = 117
		binary.LittleEndian.PutUint16(f[5:], tag)
		for i := wireHeader; i < n; i++ {
			f[i] = byte(i*7 + n)
		}
		return f
	}
	p9a, raw, p9b, p9c := frame(20, 1), frame(30, firstRawTag), frame(3*wireRBuf+5, 2), frame(7, 3)
	stream := bytes.Join([][]byte{p9a, raw, p9b, p9c}, nil)
	want := bytes.Join([][]byte{p9a, p9b, p9c}, nil)
	for _, step := range []int{len(stream), 1, 13, wireRBuf - 1} {
		t.Run(fmt.Sprint("pieces of ", step), func(t *testing.T) {
			a, b := net.Pipe()
			defer b.Close()
			w := newWire(a)
			defer w.Close()
			ch := make(chan rawReply, 1)
			w.waiting[firstRawTag] = ch
			go func() {
				for off := 0; off < len(stream); off += step {
					if _, err := b.Write(stream[off:min(off+step, len(stream))]); err != nil {
						return
					}
				}
			}()
			var got []byte
			sizes := []int{wireHeader, 1, 5000, 3, 1 << 20}
			for i := 0; len(got) < len(want); i++ {
				p := make([]byte, sizes[i%len(sizes)])
				n, err := w.Read(p)
				if err != nil {
					t.Fatalf("read after %d bytes: %v", len(got), err)
				}
				got = append(got, p[:n]...)
			}
			if !bytes.Equal(got, want) {
				t.Fatal("p9 frames arrived changed")
			}
			select {
			case r := <-ch:
				if r.typ != raw[4] || !bytes.Equal(r.body, raw[wireHeader:]) {
					t.Fatalf("reserved reply: type %d, body %x", r.typ, r.body)
				}
			default:
				t.Fatal("reserved reply not dispatched")
			}
		})
	}
}
