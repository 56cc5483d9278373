//go:build linux

package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"mfs/tests/vm/pattern"
)

// hostView sees a file the way the server's host sees it, behind the 9P
// mount: the host test's oracle (oracle_test.go) over a forwarded TCP port.
// On the tmpfs baseline it is the local file itself, so that the same checks
// run unchanged. Paths are relative to the mount root.
type hostView interface {
	ReadFile(rel string) ([]byte, error)
	WriteFile(rel string, data []byte) error
	Stat(rel string) (hostStat, error)
	Getxattr(rel, name string) ([]byte, error)
	// Remove removes the file or empty directory rel.
	Remove(rel string) error
	// Readlink is the target of the symlink rel.
	Readlink(rel string) (string, error)
	Sha256(rel string) (string, error)
	// MakeFiles creates file-00000 … in the directory rel.
	MakeFiles(rel string, n int) error
	// CheckPattern verifies that rel holds size bytes of pattern.Fill.
	CheckPattern(rel string, size int64) error
}

// hostStat is the part of stat(2) the checks compare.
type hostStat struct {
	Mode, UID, GID uint32
	Size           int64
	Nlink          uint64
}

// localView is hostView on the guest's own files.
type localView struct{ root string }

func (l localView) path(rel string) string { return l.root + "/" + rel }

func (l localView) ReadFile(rel string) ([]byte, error) { return os.ReadFile(l.path(rel)) }

func (l localView) WriteFile(rel string, data []byte) error {
	return os.WriteFile(l.path(rel), data, 0o644)
}

func (l localView) Stat(rel string) (hostStat, error) {
	var st unix.Stat_t
	if err := unix.Lstat(l.path(rel), &st); err != nil {
		return hostStat{}, err
	}
	return hostStat{st.Mode, st.Uid, st.Gid, st.Size, st.Nlink}, nil
}

func (l localView) Getxattr(rel, name string) ([]byte, error) {
	buf := make([]byte, 4096)
	n, err := unix.Lgetxattr(l.path(rel), name, buf)
	if err != nil {
		return nil, err
	}
	return buf[:n], nil
}

func (l localView) Remove(rel string) error { return os.Remove(l.path(rel)) }

func (l localView) Readlink(rel string) (string, error) { return os.Readlink(l.path(rel)) }

func (l localView) Sha256(rel string) (string, error) {
	f, err := os.Open(l.path(rel))
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func (l localView) MakeFiles(rel string, n int) error {
	for i := 0; i < n; i++ {
		if err := os.WriteFile(fmt.Sprintf("%s/file-%05d", l.path(rel), i), nil, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func (l localView) CheckPattern(rel string, size int64) error {
	f, err := os.Open(l.path(rel))
	if err != nil {
		return err
	}
	defer f.Close()
	return pattern.Check(f, size)
}

// oracle is the hostView of a 9P phase: a line protocol to the host test,
// one request at a time on one connection (QEMU's guestfwd joins all guest
// connections to a port into one host stream anyway).
type oracle struct {
	addr, root string
	mu         sync.Mutex
	conn       net.Conn
	r          *bufio.Reader
}

func newOracle(addr, root string) *oracle {
	if addr == "" {
		addr = "10.0.2.100:5699"
	}
	return &oracle{addr: addr, root: root}
}

// do sends one request and returns the reply's fields after "OK". An "ERR
// errno" reply comes back as that errno, so checks compare it like a local
// one.
func (o *oracle) do(args ...string) ([]string, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.root == "" {
		return nil, errors.New("oracle: no host root for this phase")
	}
	if o.conn == nil {
		c, err := net.DialTimeout("tcp", o.addr, 10*time.Second)
		if err != nil {
			return nil, fmt.Errorf("oracle: %w", err)
		}
		o.conn, o.r = c, bufio.NewReaderSize(c, 1<<20)
	}
	o.conn.SetDeadline(time.Now().Add(60 * time.Second))
	line := strings.Join(append([]string{args[0], o.root}, args[1:]...), " ") + "\n"
	if _, err := io.WriteString(o.conn, line); err != nil {
		o.conn.Close()
		o.conn = nil
		return nil, fmt.Errorf("oracle: %w", err)
	}
	reply, err := o.r.ReadString('\n')
	if err != nil {
		o.conn.Close()
		o.conn = nil
		return nil, fmt.Errorf("oracle: %w", err)
	}
	f := strings.Fields(reply)
	switch {
	case len(f) >= 1 && f[0] == "OK":
		return f[1:], nil
	case len(f) == 2 && f[0] == "ERR":
		if n, err := strconv.Atoi(f[1]); err == nil {
			return nil, fmt.Errorf("host %s: %w", args[0], unix.Errno(n))
		}
	}
	return nil, fmt.Errorf("oracle: bad reply %q", strings.TrimSpace(reply))
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func unb64(f []string) ([]byte, error) {
	if len(f) == 0 {
		return nil, nil
	}
	return base64.StdEncoding.DecodeString(f[0])
}

func (o *oracle) ReadFile(rel string) ([]byte, error) {
	f, err := o.do("READ", rel)
	if err != nil {
		return nil, err
	}
	return unb64(f)
}

func (o *oracle) WriteFile(rel string, data []byte) error {
	_, err := o.do("WRITE", rel, b64(data))
	return err
}

func (o *oracle) Stat(rel string) (hostStat, error) {
	f, err := o.do("STAT", rel)
	if err != nil {
		return hostStat{}, err
	}
	if len(f) != 5 {
		return hostStat{}, fmt.Errorf("oracle: bad STAT reply %q", f)
	}
	var n [5]uint64
	for i := range f {
		if n[i], err = strconv.ParseUint(f[i], 10, 64); err != nil {
			return hostStat{}, fmt.Errorf("oracle: bad STAT reply %q", f)
		}
	}
	return hostStat{uint32(n[0]), uint32(n[1]), uint32(n[2]), int64(n[3]), n[4]}, nil
}

func (o *oracle) Getxattr(rel, name string) ([]byte, error) {
	f, err := o.do("GETXATTR", rel, name)
	if err != nil {
		return nil, err
	}
	return unb64(f)
}

func (o *oracle) Remove(rel string) error {
	_, err := o.do("REMOVE", rel)
	return err
}

func (o *oracle) Readlink(rel string) (string, error) {
	f, err := o.do("READLINK", rel)
	if err != nil {
		return "", err
	}
	b, err := unb64(f)
	return string(b), err
}

func (o *oracle) MakeFiles(rel string, n int) error {
	_, err := o.do("MKFILES", rel, strconv.Itoa(n))
	return err
}

func (o *oracle) CheckPattern(rel string, size int64) error {
	_, err := o.do("PATTERN", rel, strconv.FormatInt(size, 10))
	return err
}

func (o *oracle) Sha256(rel string) (string, error) {
	f, err := o.do("SHA256", rel)
	if err != nil {
		return "", err
	}
	if len(f) != 1 {
		return "", fmt.Errorf("oracle: bad SHA256 reply %q", f)
	}
	return f[0], nil
}
