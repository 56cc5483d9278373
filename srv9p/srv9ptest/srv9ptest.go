// Package srv9ptest is a table of 9P2000.L operations checked against what
// the same system calls do on the host: run it against any p9.File tree that
// exports a host directory (srv9p directly, srv9p over a connection, the
// namespace's /here).
//
// Every case works in a pair of twin directories below the exported host
// directory, set up identically: the operation goes through 9P in one twin
// and through the host system call in the other, and then the case compares
// the errno, the operation's result text and the two trees (names, types,
// permissions, owners, sizes, contents, link targets).
package srv9ptest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"
	"golang.org/x/sys/unix"
)

// Env is what a case's 9P side works with.
type Env struct {
	// Dir is the case's twin directory, walked to through 9P.
	Dir p9.File
	// Host is the host path of that same directory (for checks that must
	// look at the result on the host).
	Host string
}

// Case is one operation of the table.
type Case struct {
	Name string
	// Setup builds the starting tree in a twin directory; it runs on both.
	Setup func(dir string) error
	// P9 performs the operation through 9P and returns a text to compare.
	P9 func(e Env) (string, error)
	// Host performs the same operation with system calls in the other twin.
	Host func(dir string) (string, error)
	// NoTree skips comparing the trees afterwards (for cases whose result
	// differs by nature, such as inode numbers).
	NoTree bool
}

// Run runs every case of Cases. attach returns the root of a p9.File tree
// that shows the host directory hostDir (attach is called once per case;
// the files it returns are closed by Run). Cases that need what a
// transport cannot carry (the p9 client has no xattr calls) are skipped when
// the operation answers ENOSYS.
func Run(t *testing.T, attach func(t *testing.T) p9.File, hostDir string) {
	for i, c := range Cases() {
		t.Run(c.Name, func(t *testing.T) {
			base := fmt.Sprintf("case%03d", i)
			a, b := filepath.Join(hostDir, base+".9p"), filepath.Join(hostDir, base+".host")
			for _, d := range []string{a, b} {
				if err := os.Mkdir(d, 0o755); err != nil {
					t.Fatal(err)
				}
				if c.Setup != nil {
					if err := c.Setup(d); err != nil {
						t.Fatalf("setup: %v", err)
					}
				}
			}
			root := attach(t)
			defer root.Close()
			_, dir, err := root.Walk([]string{base + ".9p"})
			if err != nil {
				t.Fatalf("walk to %s: %v", base+".9p", err)
			}
			defer dir.Close()
			got, gerr := c.P9(Env{Dir: dir, Host: a})
			if errors.Is(gerr, linux.ENOSYS) {
				t.Skip("ENOSYS through this transport")
			}
			want, werr := c.Host(b)
			if ge, we := Errno(gerr), Errno(werr); ge != we {
				t.Fatalf("errno: 9P %v (%v), host %v (%v)", ge, gerr, we, werr)
			}
			if got != want {
				t.Errorf("result:\n 9P   %q\n host %q", got, want)
			}
			if c.NoTree {
				return
			}
			ta, err := Tree(a)
			if err != nil {
				t.Fatal(err)
			}
			tb, err := Tree(b)
			if err != nil {
				t.Fatal(err)
			}
			if ta != tb {
				t.Errorf("trees differ:\n 9P:\n%s\n host:\n%s", ta, tb)
			}
		})
	}
}

// Errno returns the Linux errno of err (0 for nil), whichever side made it.
func Errno(err error) unix.Errno {
	if err == nil {
		return 0
	}
	var e unix.Errno
	if errors.As(err, &e) {
		return e
	}
	return unix.Errno(linux.ExtractErrno(err))
}

// Tree describes the tree below dir, one line per entry: path, type,
// permissions, owner, size, and the content of small files or the target of
// links. Times and inode numbers are left out.
func Tree(dir string) (string, error) {
	var lines []string
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		st := new(unix.Stat_t)
		if err := unix.Lstat(p, st); err != nil {
			return err
		}
		l := fmt.Sprintf("%s %o uid=%d gid=%d nlink=%d", rel, st.Mode, st.Uid, st.Gid, st.Nlink)
		switch {
		case fi.Mode().IsRegular():
			l += fmt.Sprintf(" size=%d", st.Size)
			if st.Size <= 256 {
				b, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				l += fmt.Sprintf(" %q", b)
			}
		case fi.Mode()&os.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			l += " -> " + target
		case fi.Mode()&os.ModeDevice != 0:
			l += fmt.Sprintf(" rdev=%d,%d", unix.Major(st.Rdev), unix.Minor(st.Rdev))
		}
		lines = append(lines, l)
		return nil
	})
	sort.Strings(lines)
	return strings.Join(lines, "\n"), err
}

// Walk walks the slash-separated path from f (one Twalk).
func Walk(f p9.File, path string) (p9.File, error) {
	var names []string
	if path != "" {
		names = strings.Split(path, "/")
	}
	_, nf, err := f.Walk(names)
	return nf, err
}

// ReadAll reads an open file from offset 0 to its end.
func ReadAll(f p9.File) ([]byte, error) {
	var out []byte
	buf := make([]byte, 64<<10)
	for off := int64(0); ; {
		n, err := f.ReadAt(buf, off)
		out = append(out, buf[:n]...)
		off += int64(n)
		if n == 0 || err != nil {
			if err != nil && err.Error() != "EOF" {
				return out, err
			}
			return out, nil
		}
	}
}

// ReadDir lists an unopened directory file through Readdir, count bytes at a
// time, checking that offsets move forward and no name comes twice.
func ReadDir(d p9.File, count uint32) ([]p9.Dirent, error) {
	_, c, err := d.Walk(nil)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if _, _, err := c.Open(p9.ReadOnly); err != nil {
		return nil, err
	}
	var all []p9.Dirent
	seen := make(map[string]bool)
	for off := uint64(0); ; {
		ents, err := c.Readdir(off, count)
		if err != nil {
			return all, err
		}
		if len(ents) == 0 {
			return all, nil
		}
		for _, e := range ents {
			if seen[e.Name] {
				return all, fmt.Errorf("readdir: %q twice", e.Name)
			}
			seen[e.Name] = true
			if e.Offset <= off {
				return all, fmt.Errorf("readdir: offset %d after %d", e.Offset, off)
			}
			off = e.Offset
		}
		all = append(all, ents...)
	}
}

// Create creates and opens name in the directory d without giving up d: the
// p9 client turns the directory's own fid into the new file, so Create
// works on a clone.
func Create(d p9.File, name string, fl p9.OpenFlags, perm p9.FileMode) (p9.File, error) {
	_, c, err := d.Walk(nil)
	if err != nil {
		return nil, err
	}
	f, _, _, err := c.Create(name, fl, perm, p9.NoUID, p9.NoGID)
	if err != nil {
		c.Close()
		return nil, err
	}
	if f != c {
		c.Close() // a server-side file: the clone stays a directory
	}
	return f, nil
}
