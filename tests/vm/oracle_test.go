package vm

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
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"mfs/tests/vm/pattern"
)

// oracle lets the guest see files the way the host sees them, behind the
// server: a check writes through the 9P mount and asks the oracle what is on
// the host's disk now (and the other way round). It serves one line per
// request on loopback; QEMU forwards the guest's oraclePort to it.
//
// Requests: OP ROOT PATH [ARG], where ROOT names a host directory (roots)
// and PATH is relative to it. With ROOT "ns", PATH's first element is a
// node number and the rest is relative to that node's export directory.
// Replies: "OK [fields]" or "ERR errno".
type oracle struct {
	ln    net.Listener
	roots map[string]string
}

// startOracle serves until the test ends.
func startOracle(t *testing.T, roots map[string]string) *oracle {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o := &oracle{ln: ln, roots: roots}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go o.serve(t, c)
		}
	}()
	return o
}

func (o *oracle) addr() string { return o.ln.Addr().String() }

func (o *oracle) serve(t *testing.T, c net.Conn) {
	defer c.Close()
	r := bufio.NewReaderSize(c, 1<<20)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		reply := o.handle(t, strings.Fields(line))
		if _, err := io.WriteString(c, reply+"\n"); err != nil {
			return
		}
	}
}

func (o *oracle) resolve(root, rel string) (string, error) {
	if root == "ns" {
		n, rest, _ := strings.Cut(rel, "/")
		root, rel = "node"+n, rest
	}
	dir, ok := o.roots[root]
	if !ok {
		return "", unix.EINVAL
	}
	p := filepath.Join(dir, rel)
	if p != dir && !strings.HasPrefix(p, dir+"/") {
		return "", unix.EINVAL
	}
	return p, nil
}

func (o *oracle) handle(t *testing.T, f []string) string {
	if len(f) < 3 {
		return "ERR 22"
	}
	p, err := o.resolve(f[1], f[2])
	if err != nil {
		return errReply(err)
	}
	arg := ""
	if len(f) > 3 {
		arg = f[3]
	}
	switch f[0] {
	case "READ":
		b, err := os.ReadFile(p)
		if err != nil {
			return errReply(err)
		}
		return "OK " + base64.StdEncoding.EncodeToString(b)
	case "WRITE":
		b, err := base64.StdEncoding.DecodeString(arg)
		if err != nil {
			return "ERR 22"
		}
		// Rewrite in place (not a new inode), the way an editor on the
		// host with O_TRUNC would.
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return errReply(err)
		}
		return "OK"
	case "STAT":
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return errReply(err)
		}
		return fmt.Sprintf("OK %d %d %d %d %d", st.Mode, st.Uid, st.Gid, st.Size, st.Nlink)
	case "GETXATTR":
		buf := make([]byte, 64<<10)
		n, err := unix.Lgetxattr(p, arg, buf)
		if err != nil {
			return errReply(err)
		}
		return "OK " + base64.StdEncoding.EncodeToString(buf[:n])
	case "REMOVE":
		if err := os.Remove(p); err != nil {
			return errReply(err)
		}
		return "OK"
	case "READLINK":
		target, err := os.Readlink(p)
		if err != nil {
			return errReply(err)
		}
		return "OK " + base64.StdEncoding.EncodeToString([]byte(target))
	case "SHA256":
		fh, err := os.Open(p)
		if err != nil {
			return errReply(err)
		}
		defer fh.Close()
		h := sha256.New()
		if _, err := io.Copy(h, fh); err != nil {
			return errReply(err)
		}
		return "OK " + hex.EncodeToString(h.Sum(nil))
	case "STATFS":
		var s unix.Statfs_t
		if err := unix.Statfs(p, &s); err != nil {
			return errReply(err)
		}
		return fmt.Sprintf("OK %d %d %d %d", s.Type, s.Bsize, s.Blocks, s.Files)
	case "MKFILES":
		n, err := strconv.Atoi(arg)
		if err != nil {
			return "ERR 22"
		}
		for i := 0; i < n; i++ {
			if err := os.WriteFile(fmt.Sprintf("%s/file-%05d", p, i), nil, 0o644); err != nil {
				return errReply(err)
			}
		}
		return "OK"
	case "PATTERN":
		size, err := strconv.ParseInt(arg, 10, 64)
		if err != nil {
			return "ERR 22"
		}
		fh, err := os.Open(p)
		if err != nil {
			return errReply(err)
		}
		defer fh.Close()
		if err := pattern.Check(fh, size); err != nil {
			t.Logf("oracle: %s: %v", p, err)
			return "ERR 5"
		}
		return "OK"
	}
	return "ERR 22"
}

func errReply(err error) string {
	var en unix.Errno
	if errors.As(err, &en) {
		return fmt.Sprintf("ERR %d", int(en))
	}
	return "ERR 5"
}
