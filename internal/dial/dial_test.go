package dial

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hugelgupf/p9/fsimpl/localfs"
	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"

	"mfs/tests/diodtest"

	"mfs/internal/fcall"
)

func TestParseAddr(t *testing.T) {
	tests := []struct {
		addr, network, address string
		wantErr                string
	}{
		{addr: "127.0.0.1:564", network: "tcp", address: "127.0.0.1:564"},
		{addr: "[::1]:5640", network: "tcp", address: "[::1]:5640"},
		{addr: "localhost:0", network: "tcp", address: "localhost:0"},
		{addr: "unix:/run/mfs.sock", network: "unix", address: "/run/mfs.sock"},
		{addr: "unix:rel.sock", network: "unix", address: "rel.sock"},
		{addr: "", wantErr: "empty address"},
		{addr: "unix:", wantErr: "empty socket path"},
		{addr: "127.0.0.1", wantErr: "want host:port or unix:/path"},
		{addr: "/tmp/sock", wantErr: "want host:port or unix:/path"},
		{addr: "a:b:c", wantErr: "want host:port or unix:/path"},
	}
	for _, tt := range tests {
		network, address, err := ParseAddr(tt.addr)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseAddr(%q) error = %v, want one containing %q", tt.addr, err, tt.wantErr)
			}
			continue
		}
		if err != nil || network != tt.network || address != tt.address {
			t.Errorf("ParseAddr(%q) = %q, %q, %v; want %q, %q", tt.addr, network, address, err, tt.network, tt.address)
		}
	}
}

func TestListenUnix(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "s")
	addr := "unix:" + sock

	// A stale socket file (nobody listening) is replaced.
	stale, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	stale.(*net.UnixListener).SetUnlinkOnClose(false)
	stale.Close()
	if _, err := os.Lstat(sock); err != nil {
		t.Fatalf("stale socket not left behind: %v", err)
	}
	ln, err := Listen(addr)
	if err != nil {
		t.Fatalf("Listen over a stale socket: %v", err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()

	// A live one is an error, and stays in place.
	if ln2, err := Listen(addr); err == nil {
		ln2.Close()
		t.Fatal("Listen over a live socket succeeded")
	} else if !strings.Contains(err.Error(), "address already in use") {
		t.Errorf("Listen over a live socket: %v, want 'address already in use'", err)
	}

	// A regular file is not a socket and is not removed.
	file := filepath.Join(t.TempDir(), "f")
	os.WriteFile(file, []byte("x"), 0o644)
	if ln3, err := Listen("unix:" + file); err == nil {
		ln3.Close()
		t.Fatal("Listen over a regular file succeeded")
	}
	if b, err := os.ReadFile(file); err != nil || string(b) != "x" {
		t.Errorf("regular file damaged: %q, %v", b, err)
	}
}

// serve serves dir with the p9 module's localfs (a stand-in for a real
// server that speaks the p9 module's dialect) on addr, and returns the
// address to dial.
func serve(t *testing.T, addr, dir string) string {
	t.Helper()
	ln, err := Listen(addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		p9.NewServer(localfs.Attacher(dir)).ServeContext(ctx, ln)
	}()
	t.Cleanup(func() {
		cancel()
		ln.Close()
		<-done
	})
	if ln.Addr().Network() == "unix" {
		return "unix:" + ln.Addr().String()
	}
	return ln.Addr().String()
}

// readAll attaches to aname and reads the file name through c.
func readAll(t *testing.T, c *Conn, aname, name string) []byte {
	t.Helper()
	b, err := readFile(c, aname, name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// readFile attaches to aname and reads the file name through c; it is
// safe to call from any goroutine.
func readFile(c *Conn, aname, name string) ([]byte, error) {
	root, err := c.Attach(aname)
	if err != nil {
		return nil, fmt.Errorf("attach %q: %w", aname, err)
	}
	defer root.Close()
	_, f, err := root.Walk([]string{name})
	if err != nil {
		return nil, fmt.Errorf("walk %q: %w", name, err)
	}
	defer f.Close()
	if _, _, err := f.Open(p9.ReadOnly); err != nil {
		return nil, fmt.Errorf("open %q: %w", name, err)
	}
	var out []byte
	buf := make([]byte, 3*c.MSize)
	for {
		n, err := f.ReadAt(buf, int64(len(out)))
		out = append(out, buf[:n]...)
		if err == io.EOF || (err == nil && n == 0) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read %q: %w", name, err)
		}
	}
}

func TestDialNegotiatesMSize(t *testing.T) {
	dir := t.TempDir()
	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<17) // 2 MiB
	if err := os.WriteFile(filepath.Join(dir, "f"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	addrs := map[string]string{
		"tcp":  serve(t, "127.0.0.1:0", dir),
		"unix": serve(t, "unix:"+filepath.Join(t.TempDir(), "9p.sock"), dir),
	}
	tests := []struct {
		ask, want uint32
	}{
		{ask: 0, want: DefaultMSize},
		{ask: 8 << 10, want: 8 << 10},
		{ask: 64 << 10, want: 64 << 10},
		{ask: 4 << 20, want: 4 << 20},
		{ask: 16 << 20, want: 4 << 20}, // the server's cap
	}
	for network, addr := range addrs {
		for _, tt := range tests {
			c, err := Dial(context.Background(), addr, Options{MSize: tt.ask})
			if err != nil {
				t.Fatalf("%s ask %d: %v", network, tt.ask, err)
			}
			if c.MSize != tt.want {
				t.Errorf("%s ask %d: msize %d, want %d", network, tt.ask, c.MSize, tt.want)
			}
			if got := readAll(t, c, "", "f"); !bytes.Equal(got, data) {
				t.Errorf("%s msize %d: read %d bytes, want %d equal ones", network, c.MSize, len(got), len(data))
			}
			c.Close()
		}
	}
}

func TestDialErrors(t *testing.T) {
	// A port nobody listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := ln.Addr().String()
	ln.Close()

	// A peer that accepts and never answers.
	silent := listenFunc(t, func(c net.Conn) { io.Copy(io.Discard, c) })
	// A peer that answers with something that is not 9P.
	garbage := listenFunc(t, func(c net.Conn) {
		c.Write([]byte("SSH-2.0-OpenSSH_9.6\r\n"))
		io.Copy(io.Discard, c)
	})
	// A peer that answers Rlerror(EIO) to Tversion, as diod does to the
	// p9 client's version string.
	rlerror := listenFunc(t, func(c net.Conn) {
		var hdr [7]byte
		io.ReadFull(c, hdr[:])
		io.CopyN(io.Discard, c, int64(binary.LittleEndian.Uint32(hdr[:4]))-7)
		c.Write([]byte{11, 0, 0, 0, fcall.MsgRlerror, 0xff, 0xff, 5, 0, 0, 0})
		io.Copy(io.Discard, c)
	})
	// A 9P server that only speaks 9P2000.u.
	unknown := listenFunc(t, func(c net.Conn) {
		var hdr [7]byte
		io.ReadFull(c, hdr[:])
		io.CopyN(io.Discard, c, int64(binary.LittleEndian.Uint32(hdr[:4]))-7)
		c.Write(fcall.Append(nil, fcall.L, fcall.NoTag, &fcall.Rversion{Msize: 8192, Version: "9P2000.u"}))
		io.Copy(io.Discard, c)
	})

	tests := []struct {
		name, addr string
		wantErr    string
	}{
		{"refused", refused, "connection refused"},
		{"bad address", "nohost", "want host:port or unix:/path"},
		{"empty socket path", "unix:", "empty socket path"},
		{"missing socket", "unix:" + filepath.Join(t.TempDir(), "none"), "no such file"},
		{"silent peer", silent, "i/o timeout"},
		{"not 9P", garbage, "version: the server does not speak 9P"},
		{"Rlerror", rlerror, "version: input/output error"},
		{"9P2000.u only", unknown, `server answered version "9P2000.u": it does not speak 9P2000.L`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			c, err := Dial(context.Background(), tt.addr, Options{Timeout: 300 * time.Millisecond})
			if err == nil {
				c.Close()
				t.Fatalf("Dial(%q) succeeded", tt.addr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Dial(%q) = %v, want an error containing %q", tt.addr, err, tt.wantErr)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("Dial(%q) took %v with a 300ms timeout", tt.addr, d)
			}
		})
	}
}

func TestDialCancel(t *testing.T) {
	silent := listenFunc(t, func(c net.Conn) { io.Copy(io.Discard, c) })
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := Dial(ctx, silent, Options{Timeout: time.Hour})
		errc <- err
	}()
	cancel()
	select {
	case err := <-errc:
		if err == nil {
			t.Fatal("Dial succeeded against a silent peer")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Dial ignored the cancelled context")
	}
}

// listenFunc runs handle for every connection to a fresh loopback port.
func listenFunc(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				handle(c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// frame builds a 9P message of type typ with tag 1 and body.
func frame(typ byte, body []byte) []byte {
	m := binary.LittleEndian.AppendUint32(nil, uint32(7+len(body)))
	m = append(m, typ, 1, 0)
	return append(m, body...)
}

// TestDiod checks Dial, a named attach and the unlink fallback against
// Debian's diod, a foreign server.
func TestDiod(t *testing.T) {
	if why := diodtest.Missing("diod"); why != "" {
		t.Skip(why)
	}
	dir := t.TempDir()
	data := bytes.Repeat([]byte("diod"), 50000)
	if err := os.WriteFile(filepath.Join(dir, "f"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	addr := diodtest.StartDiod(t, dir)

	c, err := Dial(context.Background(), addr, Options{MSize: 1 << 20, UName: "root", UID: 0})
	if err != nil {
		t.Fatalf("Dial to diod: %v", err)
	}
	defer c.Close()
	if c.MSize != diodtest.MaxMSize {
		t.Errorf("diod msize %d, want %d", c.MSize, diodtest.MaxMSize)
	}
	if got := readAll(t, c, dir, "f"); !bytes.Equal(got, data) {
		t.Errorf("read %d bytes from diod, want %d equal ones", len(got), len(data))
	}

	root, err := c.Attach(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	tests := []struct {
		name   string
		mk     func(string) error
		flags  uint32
		errnum error
	}{
		{"file", func(p string) error { return os.WriteFile(p, nil, 0o644) }, 0, nil},
		{"dir", func(p string) error { return os.Mkdir(p, 0o755) }, 0x200, nil},
		{"missing", func(string) error { return nil }, 0, linux.ENOENT},
	}
	for _, tt := range tests {
		p := filepath.Join(dir, tt.name)
		if err := tt.mk(p); err != nil {
			t.Fatal(err)
		}
		err := UnlinkAt(root, tt.name, tt.flags)
		if tt.errnum != nil {
			if !errors.Is(err, tt.errnum) {
				t.Errorf("UnlinkAt(%q) = %v, want %v", tt.name, err, tt.errnum)
			}
			continue
		}
		if err != nil {
			t.Errorf("UnlinkAt(%q): %v", tt.name, err)
		}
		if _, err := os.Lstat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("UnlinkAt(%q): still there (%v)", tt.name, err)
		}
	}
}

// TestConcurrent has several goroutines share one connection, as the
// benchmark's parallel readers do: frames must not interleave.
func TestConcurrent(t *testing.T) {
	dir := t.TempDir()
	data := bytes.Repeat([]byte("concurrent"), 30000)
	for i := range 8 {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprint(i)), data[i:], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	addr := serve(t, "127.0.0.1:0", dir)
	c, err := Dial(context.Background(), addr, Options{MSize: 8 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 5 {
				got, err := readFile(c, "", fmt.Sprint(i))
				if err != nil || !bytes.Equal(got, data[i:]) {
					t.Errorf("file %d: read %d bytes (%v), want %d equal ones", i, len(got), err, len(data)-i)
					return
				}
			}
		})
	}
	wg.Wait()
}
