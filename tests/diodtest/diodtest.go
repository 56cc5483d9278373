// Package diodtest drives Debian's diod package from tests: it starts the
// diod server on a loopback port, and runs its 9P2000.L client tools diodls
// and diodcat against any server, so that mfs's exports and namespaces are
// checked by a client mfs did not write.
//
// Facts about diod 1.0.24 this package relies on (found by trying them):
//   - "diod -f -n -c /dev/null -e DIR -l 127.0.0.1:PORT" serves DIR in the
//     foreground without authentication and without reading /etc/diod.conf;
//     it must run as root, and the attach name must equal DIR.
//   - diodls/diodcat take "-s HOST:PORT -a ANAME -m MSIZE"; diodls prints
//     one name per line and leaves out "." and ".."; diodcat writes the
//     files' contents one after the other. Both speak plain "9P2000.L" and
//     attach with the caller's uid as n_uname.
package diodtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// MaxMSize is the largest msize diod 1.0.24 agrees to.
const MaxMSize = 64 << 10

// findTool returns the tool's path from PATH or /usr/sbin (where Debian
// installs diod's tools, not always in an ordinary user's PATH), or "".
func findTool(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	p := filepath.Join("/usr/sbin", name)
	if fi, err := os.Stat(p); err == nil && fi.Mode()&0o111 != 0 {
		return p
	}
	return ""
}

// Missing returns a one-line reason why the named diod tools cannot run
// here, or "" when they can. Tests call t.Skip with it.
func Missing(tools ...string) string {
	for _, name := range tools {
		if findTool(name) == "" {
			return name + " not installed (Debian package diod)"
		}
		if name == "diod" && os.Geteuid() != 0 {
			return "diod must run as root"
		}
	}
	return ""
}

// StartDiod serves dir with diod on a free loopback port and returns
// "127.0.0.1:PORT" once the port accepts connections. The attach name for
// the export is dir itself. diod is killed when the test ends.
func StartDiod(tb testing.TB, dir string) string {
	tb.Helper()
	addr, _ := StartDiodPID(tb, dir)
	return addr
}

// StartDiodPID is StartDiod that also returns diod's process id, for
// benchmarks that read its CPU time from /proc.
func StartDiodPID(tb testing.TB, dir string) (addr string, pid int) {
	tb.Helper()
	addr, pid, _ = startDiodRetry(tb, dir)
	return addr, pid
}

// StartDiodLog is StartDiod that also returns diod's log so far (its
// standard output and error), at any time.
func StartDiodLog(tb testing.TB, dir string) (addr string, log func() string) {
	tb.Helper()
	addr, _, out := startDiodRetry(tb, dir)
	return addr, out.String
}

// startDiodRetry starts diod, trying another port if one was taken.
func startDiodRetry(tb testing.TB, dir string) (string, int, *lockedBuffer) {
	tb.Helper()
	if why := Missing("diod"); why != "" {
		tb.Skip(why)
	}
	// A port picked by the kernel can be taken by someone else before diod
	// binds it; diod then exits at once, and we try another port.
	var lastErr error
	for range 5 {
		addr, pid, out, err := startDiod(tb, dir)
		if err == nil {
			return addr, pid, out
		}
		lastErr = err
	}
	tb.Fatalf("start diod: %v", lastErr)
	return "", 0, nil
}

// lockedBuffer is a bytes.Buffer that diod's output goroutines write while
// a test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func startDiod(tb testing.TB, dir string) (string, int, *lockedBuffer, error) {
	addr, err := freePort()
	if err != nil {
		return "", 0, nil, err
	}
	out := &lockedBuffer{}
	cmd := exec.Command(findTool("diod"), "-f", "-n", "-c", "/dev/null", "-L", "stderr",
		"-e", dir, "-l", addr)
	cmd.Stdout = out
	cmd.Stderr = out
	if err := cmd.Start(); err != nil {
		return "", 0, nil, fmt.Errorf("start diod: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		cmd.Process.Kill()
		<-exited
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			tb.Cleanup(stop)
			return addr, cmd.Process.Pid, out, nil
		}
		select {
		case err := <-exited:
			return "", 0, nil, fmt.Errorf("diod on %s exited (%v): %s", addr, err, strings.TrimSpace(out.String()))
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			return "", 0, nil, fmt.Errorf("diod on %s: port not accepting after 10s: %s", addr, strings.TrimSpace(out.String()))
		}
	}
}

// freePort returns a loopback TCP address that was free a moment ago.
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// Client runs diodls and diodcat against one 9P2000.L server.
type Client struct {
	// Addr is the server's "host:port" (diod's tools speak TCP only).
	Addr string
	// AName is the attach name; diod's tools default to "ctl", so it is
	// always passed, "/" where the server wants the root.
	AName string
	// MSize is the msize to ask for; 0 leaves the tools' default (64 KiB).
	MSize uint32
	// Timeout bounds each tool run; 0 means 30 s.
	Timeout time.Duration
}

// run runs one of the tools and returns its standard output.
func (c Client) run(ctx context.Context, tool string, args ...string) ([]byte, error) {
	path := findTool(tool)
	if path == "" {
		return nil, fmt.Errorf("%s: not installed", tool)
	}
	timeout := c.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	base := []string{"-s", c.Addr, "-a", c.AName, "-t", strconv.Itoa(int(timeout / time.Second))}
	if c.MSize != 0 {
		base = append(base, "-m", strconv.FormatUint(uint64(c.MSize), 10))
	}
	cmd := exec.CommandContext(ctx, path, append(base, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s %s: %w: %s", tool, strings.Join(cmd.Args[1:], " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

// List returns the names diodls prints for the directory at path (relative
// to the attach point; "" is the attach point itself), sorted.
func (c Client) List(ctx context.Context, path string) ([]string, error) {
	args := []string{}
	if path != "" {
		args = append(args, path)
	}
	out, err := c.run(ctx, "diodls", args...)
	if err != nil {
		return nil, err
	}
	names := strings.Fields(string(out))
	slices.Sort(names)
	return names, nil
}

// Cat returns the contents diodcat prints for the file at path.
func (c Client) Cat(ctx context.Context, path string) ([]byte, error) {
	return c.run(ctx, "diodcat", path)
}

// CheckTree compares what diodls and diodcat see below the attach point
// with the tree at dir on the local disk: every directory's listing (names,
// without "." and "..") and every regular file's contents. Names with white
// space are not supported (diodls prints one name per line).
func (c Client) CheckTree(tb testing.TB, dir string) {
	tb.Helper()
	if why := Missing("diodls", "diodcat"); why != "" {
		tb.Skip(why)
	}
	ctx := context.Background()
	checked := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		if rel == "." {
			rel = ""
		}
		switch {
		case d.IsDir():
			ents, err := os.ReadDir(p)
			if err != nil {
				return err
			}
			want := make([]string, 0, len(ents))
			for _, e := range ents {
				want = append(want, e.Name())
			}
			slices.Sort(want)
			got, err := c.List(ctx, rel)
			if err != nil {
				tb.Errorf("list %q: %v", rel, err)
				return nil
			}
			if !slices.Equal(got, want) {
				tb.Errorf("list %q: diodls says %q, disk has %q", rel, got, want)
			}
			checked++
		case d.Type().IsRegular():
			want, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			got, err := c.Cat(ctx, rel)
			if err != nil {
				tb.Errorf("cat %q: %v", rel, err)
				return nil
			}
			if !bytes.Equal(got, want) {
				tb.Errorf("cat %q: diodcat read %d bytes, disk has %d (contents differ)", rel, len(got), len(want))
			}
			checked++
		}
		return nil
	})
	if err != nil {
		tb.Fatalf("walk %s: %v", dir, err)
	}
	if checked == 0 {
		tb.Fatal(errors.New("check tree: nothing checked"))
	}
}
