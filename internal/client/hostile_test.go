package client

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"

	"mfs/internal/fcall"
)

// fake is the server end of a connection to a fake 9P server.
type fake struct {
	nc net.Conn
	rd *bufio.Reader

	mu   sync.Mutex
	reqs []fcall.Msg // the requests read
}

// next reads one request; ok is false once the client has gone or sent
// something that is not a request.
func (f *fake) next() (tag uint16, m fcall.Msg, ok bool) {
	hdr, err := f.rd.Peek(4)
	if err != nil {
		return 0, nil, false
	}
	size := binary.LittleEndian.Uint32(hdr)
	if size < fcall.HeaderSize || size > 16<<20 {
		return 0, nil, false
	}
	frame := make([]byte, size)
	if _, err := io.ReadFull(f.rd, frame); err != nil {
		return 0, nil, false
	}
	tag, m, err = fcall.Decode(fcall.L, frame)
	if err != nil {
		return 0, nil, false
	}
	f.mu.Lock()
	f.reqs = append(f.reqs, m)
	f.mu.Unlock()
	return tag, m, true
}

func (f *fake) requests() []fcall.Msg {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fcall.Msg(nil), f.reqs...)
}

func (f *fake) send(tag uint16, m fcall.Msg) { f.nc.Write(fcall.Append(nil, fcall.L, tag, m)) }

// raw writes a frame header claiming size, then body.
func (f *fake) raw(size uint32, typ uint8, tag uint16, body ...byte) {
	b := binary.LittleEndian.AppendUint32(nil, size)
	b = append(b, typ)
	b = binary.LittleEndian.AppendUint16(b, tag)
	f.nc.Write(append(b, body...))
}

// version answers a Tversion as a 9P2000.L server does.
func (f *fake) version() bool {
	tag, m, ok := f.next()
	tv, isVersion := m.(*fcall.Tversion)
	if !ok || !isVersion {
		return false
	}
	f.send(tag, &fcall.Rversion{Msize: tv.Msize, Version: "9P2000.L"})
	return true
}

// fakeServer accepts one connection on loopback TCP and runs script on it;
// afterwards it keeps the connection open, reading and dropping, until the
// client hangs up, so that a client that fails has found the fault itself.
// It returns the client's end and the fake.
func fakeServer(t *testing.T, script func(f *fake)) (net.Conn, *fake) {
	t.Helper()
	ln := listen(t, "tcp")
	f := &fake{}
	accepted := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		nc, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		f.nc, f.rd = nc, bufio.NewReader(nc)
		close(accepted)
		defer nc.Close()
		script(f)
		io.Copy(io.Discard, f.rd)
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	check(t, "dial", err)
	<-accepted
	t.Cleanup(func() {
		ln.Close()
		nc.Close()
		if f.nc != nil {
			f.nc.Close()
		}
		<-done
	})
	return nc, f
}

// within runs fn and fails the test if it takes longer than d.
func within[T any](t *testing.T, d time.Duration, fn func() T) T {
	t.Helper()
	ch := make(chan T, 1)
	go func() { ch <- fn() }()
	select {
	case v := <-ch:
		return v
	case <-time.After(d):
		t.Fatalf("still waiting after %v", d)
		panic("unreachable")
	}
}

// TestHostileServer: a server that sends garbage after a correct Tversion
// gets a failed call (never a panic or a hang), and the client says why.
func TestHostileServer(t *testing.T) {
	getattr := func(f *File) error { _, _, _, err := f.GetAttr(p9.AttrMaskAll); return err }
	read := func(f *File) error { _, err := f.ReadAt(make([]byte, 100), 0); return err }
	// dead expects the connection to be dead, for the reason why.
	dead := func(why string) func(t *testing.T, err error, c *Conn, f *fake) {
		return func(t *testing.T, err error, c *Conn, _ *fake) {
			if !errors.Is(err, ErrDead) || !errors.Is(err, linux.EHOSTDOWN) {
				t.Errorf("call: %v, want ErrDead", err)
			}
			if c.Err() == nil || !strings.Contains(c.Err().Error(), why) {
				t.Errorf("connection error %v, want one saying %q", c.Err(), why)
			}
		}
	}
	goodAttr := &fcall.Rgetattr{Valid: p9.AttrMask{Mode: true}, QID: p9.QID{Type: p9.TypeRegular, Path: 7}, Attr: p9.Attr{Mode: p9.ModeRegular | 0o644}}
	cases := []struct {
		name   string
		script func(f *fake)
		call   func(f *File) error
		want   func(t *testing.T, err error, c *Conn, f *fake)
	}{
		{"size-3", func(f *fake) {
			tag, _, _ := f.next()
			f.raw(3, fcall.MsgRgetattr, tag)
		}, getattr, dead("reply size 3")},
		{"size-over-msize", func(f *fake) {
			tag, _, _ := f.next()
			f.raw(1<<30, fcall.MsgRgetattr, tag, make([]byte, 100)...)
		}, getattr, dead("reply size")},
		{"unknown-tag-then-valid", func(f *fake) {
			tag, _, _ := f.next()
			f.send(tag+1, goodAttr)
			f.send(tag, goodAttr)
		}, getattr, dead("no call has")},
		{"duplicate-reply", func(f *fake) {
			tag, _, _ := f.next()
			f.send(tag, goodAttr)
			f.send(tag, goodAttr)
		}, getattr, func(t *testing.T, err error, c *Conn, _ *fake) {
			if err != nil {
				t.Errorf("call: %v; the first reply was good", err)
			}
			within(t, 2*time.Second, func() struct{} { <-c.Done(); return struct{}{} })
			if !strings.Contains(c.Err().Error(), "no call has") {
				t.Errorf("connection error %v", c.Err())
			}
		}},
		{"rread-larger-than-asked", func(f *fake) {
			tag, _, _ := f.next()
			f.send(tag, &fcall.Rread{Data: make([]byte, 200)})
		}, read, dead("bad Rread")},
		{"rread-count-not-size", func(f *fake) {
			tag, _, _ := f.next()
			f.raw(fcall.RreadHeaderSize+60, fcall.MsgRread, tag, append([]byte{50, 0, 0, 0}, make([]byte, 60)...)...)
		}, read, dead("bad Rread")},
		{"rread-shorter-than-header", func(f *fake) {
			tag, _, _ := f.next()
			f.raw(fcall.HeaderSize, fcall.MsgRread, tag)
		}, read, dead("Rread of 7 bytes")},
		{"undecodable-reply", func(f *fake) {
			tag, _, _ := f.next()
			f.raw(fcall.HeaderSize+5, fcall.MsgRgetattr, tag, 1, 2, 3, 4, 5)
		}, getattr, dead("bad reply")},
		{"unknown-type", func(f *fake) {
			tag, _, _ := f.next()
			f.raw(fcall.HeaderSize, 200, tag)
		}, getattr, dead("bad reply")},
		{"hang-up", func(f *fake) {
			f.next()
			f.nc.Close()
		}, getattr, dead("EOF")},
		{"type-mismatch", func(f *fake) {
			tag, _, _ := f.next()
			f.send(tag, &fcall.Rclunk{})
			tag, _, _ = f.next()
			f.send(tag, goodAttr)
		}, getattr, func(t *testing.T, err error, c *Conn, _ *fake) {
			if !errors.Is(err, linux.EPROTO) {
				t.Errorf("call: %v, want EPROTO", err)
			}
			// Only that call failed: the connection is fine.
			f := &File{c: c, fid: 1000}
			if err := within(t, 2*time.Second, func() error { return getattr(f) }); err != nil || c.Err() != nil {
				t.Errorf("next call: %v (connection %v)", err, c.Err())
			}
		}},
		{"type-mismatch-read", func(f *fake) {
			tag, _, _ := f.next()
			f.send(tag, goodAttr)
		}, read, func(t *testing.T, err error, c *Conn, _ *fake) {
			if !errors.Is(err, linux.EPROTO) {
				t.Errorf("call: %v, want EPROTO", err)
			}
		}},
		{"rlerror", func(f *fake) {
			tag, _, _ := f.next()
			f.send(tag, &fcall.Rlerror{Errno: linux.ENOENT})
		}, getattr, func(t *testing.T, err error, c *Conn, _ *fake) {
			if !errors.Is(err, linux.ENOENT) || c.Err() != nil {
				t.Errorf("call: %v (connection %v), want ENOENT", err, c.Err())
			}
		}},
		{"partial-rwalk", func(f *fake) {
			tag, _, _ := f.next()
			f.send(tag, &fcall.Rwalk{QIDs: []p9.QID{{Type: p9.TypeDir, Path: 1}}})
		}, func(f *File) error {
			before := fidsInUse(f.c)
			_, _, err := f.Walk([]string{"a", "b"})
			if n := fidsInUse(f.c); n != before {
				return errors.New("fid leaked")
			}
			return err
		}, func(t *testing.T, err error, c *Conn, f *fake) {
			if !errors.Is(err, linux.ENOENT) {
				t.Errorf("walk: %v, want ENOENT", err)
			}
			for _, m := range f.requests() {
				if _, ok := m.(*fcall.Tclunk); ok {
					t.Errorf("the client clunked a fid a partial walk did not make")
				}
			}
		}},
		{"getattr-halfway-through-walk", func(f *fake) {
			// As diod may: the pipelined Tgetattr answered with the
			// attributes of the directory on the way.
			wtag, _, _ := f.next()
			gtag, _, _ := f.next()
			f.send(wtag, &fcall.Rwalk{QIDs: []p9.QID{{Type: p9.TypeDir, Path: 1}, {Type: p9.TypeRegular, Path: 7}}})
			f.send(gtag, &fcall.Rgetattr{Valid: p9.AttrMask{Mode: true}, QID: p9.QID{Type: p9.TypeDir, Path: 1}, Attr: p9.Attr{Mode: p9.ModeDirectory | 0o750}})
			tag, _, _ := f.next()
			f.send(tag, goodAttr)
			tag, _, _ = f.next()
			f.send(tag, &fcall.Rclunk{})
		}, func(f *File) error {
			_, nf, _, attr, err := f.WalkGetAttr([]string{"d", "f"})
			if err != nil {
				return err
			}
			defer nf.Close()
			if attr.Mode != p9.ModeRegular|0o644 {
				return fmt.Errorf("WalkGetAttr gave mode %#o, the directory's on the way", attr.Mode)
			}
			return nil
		}, func(t *testing.T, err error, c *Conn, _ *fake) {
			if err != nil {
				t.Error(err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			nc, fk := fakeServer(t, func(f *fake) {
				if f.version() {
					tc.script(f)
				}
			})
			// InOrder: these servers claim srv9p's order, so the
			// client pipelines and must survive their answers.
			c := connect(t, nc, Options{Timeout: 5 * time.Second, InOrder: true})
			f := &File{c: c, fid: 1000} // the fake knows every fid
			err := within(t, 2*time.Second, func() error { return tc.call(f) })
			tc.want(t, err, c, fk)
		})
	}
}

// TestNewHostile: New fails, promptly and with a reason, against a server
// that does not speak 9P2000.L or answers the Tversion wrongly.
func TestNewHostile(t *testing.T) {
	rversion := func(m fcall.Msg) func(f *fake) {
		return func(f *fake) {
			if tag, _, ok := f.next(); ok {
				f.send(tag, m)
			}
		}
	}
	cases := []struct {
		name   string
		script func(f *fake)
		want   string // in the error
	}{
		{"http", func(f *fake) { f.nc.Write([]byte("HTTP/1.1 400 Bad Request\r\n\r\n")) }, "does not speak 9P"},
		{"http-after-request", func(f *fake) {
			f.rd.Peek(1)
			f.nc.Write([]byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"))
		}, "does not speak 9P"},
		{"ssh", func(f *fake) { f.nc.Write([]byte("SSH-2.0-OpenSSH_9.6\r\n")) }, "does not speak 9P"},
		{"9P2000", rversion(&fcall.Rversion{Msize: 8192, Version: "9P2000"}), `server answered version "9P2000": it does not speak 9P2000.L`},
		{"unknown-version", rversion(&fcall.Rversion{Msize: 8192, Version: "unknown"}), `server answered version "unknown": it does not speak 9P2000.L`},
		{"msize-larger", rversion(&fcall.Rversion{Msize: 2 * defaultMSize, Version: "9P2000.L"}), "unusable msize"},
		{"msize-tiny", rversion(&fcall.Rversion{Msize: 100, Version: "9P2000.L"}), "unusable msize"},
		{"rlerror", rversion(&fcall.Rlerror{Errno: linux.EPROTO}), "version: "},
		{"wrong-reply", rversion(&fcall.Rattach{}), "unexpected reply"},
		{"size-3", func(f *fake) {
			if tag, _, ok := f.next(); ok {
				f.raw(3, fcall.MsgRversion, tag)
			}
		}, "bad reply size 3"},
		{"truncated", func(f *fake) {
			if tag, _, ok := f.next(); ok {
				f.raw(fcall.HeaderSize+2, fcall.MsgRversion, tag, 0, 0)
			}
		}, "version: "},
		{"hang-up", func(f *fake) { f.next(); f.nc.Close() }, "EOF"},
		{"silent", func(f *fake) {}, "timeout"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			nc, _ := fakeServer(t, tc.script)
			err := within(t, 3*time.Second, func() error {
				c, err := New(nc, Options{Timeout: 300 * time.Millisecond})
				if err == nil {
					c.Close()
				}
				return err
			})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New: %v, want an error saying %q", err, tc.want)
			}
		})
	}
}

// TestWalkGetAttrWaitsForWalk: to a server that makes no promise of order
// (diod runs a connection's requests in any order), WalkGetAttr sends the
// request for attributes only after the walk's reply, so a walk that
// fails leaves no request on a fid that was never made; to one that
// promises it (InOrder), both go at once.
func TestWalkGetAttrWaitsForWalk(t *testing.T) {
	for _, tt := range []struct {
		inOrder     bool
		wantGetattr bool
	}{{false, false}, {true, true}} {
		t.Run(fmt.Sprintf("inorder=%v", tt.inOrder), func(t *testing.T) {
			done := make(chan struct{})
			nc, fk := fakeServer(t, func(f *fake) {
				if !f.version() {
					return
				}
				wtag, _, _ := f.next()
				if tt.inOrder {
					// The pipelined Tgetattr is on its way: read it
					// before answering, as a server in order would.
					gtag, _, _ := f.next()
					f.send(wtag, &fcall.Rlerror{Errno: linux.ENOENT})
					f.send(gtag, &fcall.Rlerror{Errno: linux.EBADF})
				} else {
					f.send(wtag, &fcall.Rlerror{Errno: linux.ENOENT})
				}
				<-done
			})
			c := connect(t, nc, Options{Timeout: 5 * time.Second, InOrder: tt.inOrder})
			f := &File{c: c, fid: 1000}
			err := within(t, 2*time.Second, func() error { _, _, _, _, err := f.WalkGetAttr([]string{"missing"}); return err })
			close(done)
			if err != linux.ENOENT {
				t.Errorf("WalkGetAttr: %v, want ENOENT", err)
			}
			got := false
			for _, m := range fk.requests() {
				if _, ok := m.(*fcall.Tgetattr); ok {
					got = true
				}
			}
			if got != tt.wantGetattr {
				t.Errorf("a Tgetattr was sent: %v, want %v", got, tt.wantGetattr)
			}
		})
	}
}
