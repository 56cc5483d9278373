package tests

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"mfs/internal/dial"
	"mfs/tests/diodtest"
)

// TestDiodClients lists and reads an mfs export with diod's 9P2000.L client
// tools (diodls, diodcat), which mfs did not write, and compares what they
// see with the directory on disk. The same check against diod itself is the
// control: if it fails there, the helper or the tree is wrong, not mfs.
func TestDiodClients(t *testing.T) {
	if why := diodtest.Missing("diodls", "diodcat"); why != "" {
		t.Skip(why)
	}
	dir := diodTree(t)
	servers := []struct {
		name  string
		start func(t *testing.T) (addr, aname string)
	}{
		{"diod", func(t *testing.T) (string, string) {
			if why := diodtest.Missing("diod"); why != "" {
				t.Skip(why)
			}
			return diodtest.StartDiod(t, dir), dir
		}},
		{"mfs-export", func(t *testing.T) (string, string) {
			return diodStartExport(t, dir), "/"
		}},
	}
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			addr, aname := srv.start(t)
			// 8 KiB makes every large file and the big directory take
			// many messages; 64 KiB is the tools' default.
			for _, msize := range []uint32{8 << 10, 64 << 10} {
				t.Run(fmt.Sprintf("msize=%d", msize), func(t *testing.T) {
					diodtest.Client{Addr: addr, AName: aname, MSize: msize}.CheckTree(t, dir)
				})
			}
		})
	}
}

// diodTree builds the directory the interop test serves: files whose sizes
// sit around the message boundaries, nested and empty directories, a
// directory of several hundred entries, and a symlink inside the tree.
func diodTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	rnd := rand.New(rand.NewPCG(1, 2))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rnd.UintN(256))
		}
		return b
	}
	files := map[string][]byte{
		"empty":             nil,
		"hello.txt":         []byte("hello, diod\n"),
		"just-under-8k":     random(8<<10 - 100),
		"64k":               random(64 << 10),
		"64k-plus-1":        random(64<<10 + 1),
		"big":               random(3<<20 + 12345),
		"a/b/c/deep.txt":    []byte("deep\n"),
		"a/sibling":         random(5000),
		"dot.file":          []byte("hidden\n"),
		"ünïcödé-名前.txt":    []byte("utf-8 names\n"),
		"emptydir/.keep":    nil,
		"spaces-are-not-ok": []byte("diodls prints one name per line\n"),
	}
	for i := range 300 {
		files[fmt.Sprintf("many/entry-%04d-%s", i, strings.Repeat("x", i%40))] = []byte(fmt.Sprint(i))
	}
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "really-empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("hello.txt", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	return dir
}

var (
	diodMFSOnce sync.Once
	diodMFSPath string
	diodMFSErr  error
)

// diodBuildMFS builds the mfs command once per test binary.
func diodBuildMFS(t *testing.T) string {
	t.Helper()
	diodMFSOnce.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		repo := filepath.Dir(filepath.Dir(file))
		out, err := os.MkdirTemp("", "mfs-diod-test-")
		if err != nil {
			diodMFSErr = err
			return
		}
		diodMFSPath = filepath.Join(out, "mfs")
		cmd := exec.Command("go", "build", "-o", diodMFSPath, "./cmd/mfs")
		cmd.Dir = repo
		if b, err := cmd.CombinedOutput(); err != nil {
			diodMFSErr = fmt.Errorf("go build ./cmd/mfs: %v: %s", err, b)
		}
	})
	if diodMFSErr != nil {
		t.Fatal(diodMFSErr)
	}
	return diodMFSPath
}

// diodStartExport runs "mfs export" for dir on a free loopback port and
// returns the address once it answers a 9P version exchange.
func diodStartExport(t *testing.T, dir string) string {
	t.Helper()
	bin := diodBuildMFS(t)
	for attempt := 0; ; attempt++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()

		var out diodSyncBuffer
		exited := cliStart(t, exec.Command(bin, "export", "--root", dir, "--listen", addr), &out)
		deadline := time.Now().Add(20 * time.Second)
		for {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			c, err := dial.Dial(ctx, addr, dial.Options{MSize: 64 << 10, Timeout: time.Second})
			cancel()
			if err == nil {
				c.Close()
				return addr
			}
			select {
			case err := <-exited:
				exited <- err // for the cleanup
				if attempt < 3 && strings.Contains(out.String(), "address already in use") {
					break // someone took the port; try another
				}
				t.Fatalf("mfs export exited (%v): %s", err, strings.TrimSpace(out.String()))
			case <-time.After(20 * time.Millisecond):
				if time.Now().After(deadline) {
					t.Fatalf("mfs export on %s: no 9P answer after 20s (last: %v): %s", addr, err, strings.TrimSpace(out.String()))
				}
				continue
			}
			break
		}
	}
}

// diodSyncBuffer is a bytes.Buffer a running command writes to while the
// test reads it.
type diodSyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *diodSyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *diodSyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
