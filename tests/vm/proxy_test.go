package vm

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// connCounter is a loopback TCP relay in front of a server that counts the
// connections it carries. QEMU's guestfwd and its virtio-port chardev each
// open one host connection at start-up and carry every guest connection to
// that port over it, so successive mounts in one boot are successive 9P
// sessions on one connection (a fresh Tversion each): the remount checks
// rely on that, and the tests assert it with the count.
type connCounter struct {
	ln     net.Listener
	target string
	n      atomic.Int32
	wg     sync.WaitGroup
}

// startCounter relays to target until the test ends.
func startCounter(t *testing.T, target string) *connCounter {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &connCounter{ln: ln, target: target}
	t.Cleanup(func() {
		ln.Close()
		c.wg.Wait()
	})
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			c.n.Add(1)
			c.wg.Add(1)
			go func() {
				defer c.wg.Done()
				c.relay(conn)
			}()
		}
	}()
	return c
}

func (c *connCounter) addr() string { return c.ln.Addr().String() }

func (c *connCounter) count() int { return int(c.n.Load()) }

// relay copies both ways until either side closes, then closes both.
func (c *connCounter) relay(in net.Conn) {
	defer in.Close()
	out, err := net.Dial("tcp", c.target)
	if err != nil {
		return
	}
	defer out.Close()
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) {
		io.Copy(dst, src)
		dst.Close()
		src.Close()
		done <- struct{}{}
	}
	go cp(out, in)
	go cp(in, out)
	<-done
	<-done
}
