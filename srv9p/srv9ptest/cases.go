package srv9ptest

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/hugelgupf/p9/p9"
	"golang.org/x/sys/unix"
)

// Build builds a starting tree from lines "f NAME CONTENT", "d NAME",
// "l NAME TARGET" and "p NAME" (a fifo); names may contain slashes.
func Build(spec ...string) func(dir string) error {
	return func(dir string) error {
		for _, line := range spec {
			f := strings.SplitN(line, " ", 3)
			p := filepath.Join(dir, f[1])
			var err error
			switch f[0] {
			case "f":
				content := ""
				if len(f) > 2 {
					content = f[2]
				}
				err = os.WriteFile(p, []byte(content), 0o644)
			case "d":
				err = os.Mkdir(p, 0o755)
			case "l":
				err = os.Symlink(f[2], p)
			case "p":
				err = unix.Mkfifo(p, 0o644)
			default:
				err = fmt.Errorf("bad tree line %q", line)
			}
			if err != nil {
				return err
			}
		}
		return nil
	}
}

// hostStat describes the host file at p like statText describes a p9.Attr.
func hostStat(p string) (string, error) {
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		return "", err
	}
	return fmt.Sprintf("mode=%o uid=%d gid=%d nlink=%d size=%d rdev=%d", st.Mode, st.Uid, st.Gid, st.Nlink, st.Size, st.Rdev), nil
}

func statText(a p9.Attr) string {
	return fmt.Sprintf("mode=%o uid=%d gid=%d nlink=%d size=%d rdev=%d", uint32(a.Mode), a.UID, a.GID, a.NLink, a.Size, a.RDev)
}

// getattr walks to name and returns its attributes.
func getattr(d p9.File, name string) (p9.QID, p9.Attr, error) {
	f, err := Walk(d, name)
	if err != nil {
		return p9.QID{}, p9.Attr{}, err
	}
	defer f.Close()
	q, _, a, err := f.GetAttr(p9.AttrMaskAll)
	return q, a, err
}

// open walks to name and opens it.
func open(d p9.File, name string, fl p9.OpenFlags) (p9.File, error) {
	f, err := Walk(d, name)
	if err != nil {
		return nil, err
	}
	if _, _, err := f.Open(fl); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// 9P2000.L open flags the Linux client sends.
const (
	oTrunc  = 0o1000
	oAppend = 0o2000
	oDirect = 0o40000
)

// setattr walks to name and sets attributes.
func setattr(d p9.File, name string, m p9.SetAttrMask, a p9.SetAttr) error {
	f, err := Walk(d, name)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.SetAttr(m, a)
}

// recent reports whether the host file's mtime and atime are within a
// minute of now.
func recent(p string) (string, error) {
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		return "", err
	}
	now := time.Now().Unix()
	ok := func(t unix.Timespec) bool { return t.Sec > now-60 && t.Sec <= now+1 }
	return fmt.Sprintf("recent atime=%v mtime=%v", ok(st.Atim), ok(st.Mtim)), nil
}

func times(p string) (string, error) {
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		return "", err
	}
	return fmt.Sprintf("atime=%d.%09d mtime=%d.%09d", st.Atim.Sec, st.Atim.Nsec, st.Mtim.Sec, st.Mtim.Nsec), nil
}

// names returns the sorted "name type" list of a directory listing.
func names(ents []p9.Dirent) string {
	var l []string
	for _, e := range ents {
		l = append(l, fmt.Sprintf("%s:%d", e.Name, e.Type))
	}
	sort.Strings(l)
	return strings.Join(l, " ")
}

func hostNames(dir string) (string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	l := []string{fmt.Sprintf(".:%d", unix.DT_DIR), fmt.Sprintf("..:%d", unix.DT_DIR)}
	for _, e := range ents {
		var st unix.Stat_t
		if err := unix.Lstat(filepath.Join(dir, e.Name()), &st); err != nil {
			return "", err
		}
		l = append(l, fmt.Sprintf("%s:%d", e.Name(), (st.Mode&unix.S_IFMT)>>12))
	}
	sort.Strings(l)
	return strings.Join(l, " "), nil
}

// noText wraps an operation that only returns an error.
func noText(err error) (string, error) { return "", err }

// Cases returns the operation table.
func Cases() []Case {
	long := strings.Repeat("n", 300)
	return []Case{
		// walk
		{Name: "walk/file", Setup: Build("f a hello"),
			P9: func(e Env) (string, error) {
				q, _, err := getattr(e.Dir, "a")
				return fmt.Sprintf("type=%d", uint8(q.Type)), err
			},
			Host: func(dir string) (string, error) {
				return "type=0", unix.Lstat(filepath.Join(dir, "a"), new(unix.Stat_t))
			}},
		{Name: "walk/missing",
			P9: func(e Env) (string, error) { _, _, err := getattr(e.Dir, "nope"); return "", err },
			Host: func(dir string) (string, error) {
				return noText(unix.Lstat(filepath.Join(dir, "nope"), new(unix.Stat_t)))
			}},
		{Name: "walk/through-file", Setup: Build("f a hello"),
			P9: func(e Env) (string, error) { _, _, err := getattr(e.Dir, "a/x"); return "", err },
			Host: func(dir string) (string, error) {
				return noText(unix.Lstat(filepath.Join(dir, "a/x"), new(unix.Stat_t)))
			}},
		{Name: "walk/symlink-not-followed", Setup: Build("d sub", "l s sub"),
			P9: func(e Env) (string, error) {
				q, a, err := getattr(e.Dir, "s")
				return fmt.Sprintf("type=%d %s", uint8(q.Type), statText(a)), err
			},
			Host: func(dir string) (string, error) {
				s, err := hostStat(filepath.Join(dir, "s"))
				return fmt.Sprintf("type=%d %s", uint8(p9.TypeSymlink), s), err
			}},
		{Name: "walk/through-symlink", Setup: Build("d sub", "f sub/x 1", "l s sub"),
			P9: func(e Env) (string, error) { _, _, err := getattr(e.Dir, "s/x"); return "", err },
			// Walk never follows a symlink (the kernel client resolves
			// links itself), so the link is not a directory to walk on.
			Host: func(dir string) (string, error) { return "", unix.ENOTDIR }},
		{Name: "walk/name-too-long",
			P9: func(e Env) (string, error) { _, _, err := getattr(e.Dir, long); return "", err },
			Host: func(dir string) (string, error) {
				return noText(unix.Lstat(filepath.Join(dir, long), new(unix.Stat_t)))
			}},

		// getattr
		{Name: "getattr/file", Setup: Build("f a hello"),
			P9: func(e Env) (string, error) {
				_, a, err := getattr(e.Dir, "a")
				return statText(a), err
			},
			Host: func(dir string) (string, error) { return hostStat(filepath.Join(dir, "a")) }},
		{Name: "getattr/dir", Setup: Build("d a", "d a/b"),
			P9: func(e Env) (string, error) {
				_, a, err := getattr(e.Dir, "a")
				return statText(a), err
			},
			Host: func(dir string) (string, error) { return hostStat(filepath.Join(dir, "a")) }},
		{Name: "getattr/symlink", Setup: Build("l a /etc/passwd"),
			P9: func(e Env) (string, error) {
				_, a, err := getattr(e.Dir, "a")
				return statText(a), err
			},
			Host: func(dir string) (string, error) { return hostStat(filepath.Join(dir, "a")) }},
		{Name: "getattr/times-ns", Setup: Build("f a x"), NoTree: true,
			P9: func(e Env) (string, error) {
				ts := []unix.Timespec{{Sec: 1000, Nsec: 123456789}, {Sec: 2000, Nsec: 987654321}}
				if err := unix.UtimesNano(filepath.Join(e.Host, "a"), ts); err != nil {
					return "", err
				}
				_, a, err := getattr(e.Dir, "a")
				return fmt.Sprintf("atime=%d.%09d mtime=%d.%09d", a.ATimeSeconds, a.ATimeNanoSeconds, a.MTimeSeconds, a.MTimeNanoSeconds), err
			},
			Host: func(dir string) (string, error) { return "atime=1000.123456789 mtime=2000.987654321", nil }},

		// setattr
		// 0o1751, not 0o4751: the p9 library's codec drops the setuid and
		// setgid bits of Tsetattr, Tlcreate and Tmkdir (permissionsMask
		// 01777), so no server behind it can set them.
		{Name: "setattr/chmod", Setup: Build("f a x"),
			P9: func(e Env) (string, error) {
				return noText(setattr(e.Dir, "a", p9.SetAttrMask{Permissions: true}, p9.SetAttr{Permissions: 0o1751}))
			},
			Host: func(dir string) (string, error) { return noText(unix.Chmod(filepath.Join(dir, "a"), 0o1751)) }},
		{Name: "setattr/chown", Setup: Build("f a x"),
			P9: func(e Env) (string, error) {
				return noText(setattr(e.Dir, "a", p9.SetAttrMask{UID: true, GID: true}, p9.SetAttr{UID: 1234, GID: 5678}))
			},
			Host: func(dir string) (string, error) { return noText(unix.Lchown(filepath.Join(dir, "a"), 1234, 5678)) }},
		{Name: "setattr/truncate-shrink", Setup: Build("f a abcdef"),
			P9: func(e Env) (string, error) {
				return noText(setattr(e.Dir, "a", p9.SetAttrMask{Size: true}, p9.SetAttr{Size: 2}))
			},
			Host: func(dir string) (string, error) { return noText(unix.Truncate(filepath.Join(dir, "a"), 2)) }},
		{Name: "setattr/truncate-grow", Setup: Build("f a abc"),
			P9: func(e Env) (string, error) {
				return noText(setattr(e.Dir, "a", p9.SetAttrMask{Size: true}, p9.SetAttr{Size: 10}))
			},
			Host: func(dir string) (string, error) { return noText(unix.Truncate(filepath.Join(dir, "a"), 10)) }},
		{Name: "setattr/truncate-dir", Setup: Build("d a"),
			P9: func(e Env) (string, error) {
				return noText(setattr(e.Dir, "a", p9.SetAttrMask{Size: true}, p9.SetAttr{Size: 0}))
			},
			Host: func(dir string) (string, error) { return noText(unix.Truncate(filepath.Join(dir, "a"), 0)) }},
		{Name: "setattr/utimes", Setup: Build("f a x"),
			P9: func(e Env) (string, error) {
				err := setattr(e.Dir, "a", p9.SetAttrMask{ATime: true, MTime: true, ATimeNotSystemTime: true, MTimeNotSystemTime: true},
					p9.SetAttr{ATimeSeconds: 1500, ATimeNanoSeconds: 5, MTimeSeconds: 1600, MTimeNanoSeconds: 999999999})
				if err != nil {
					return "", err
				}
				return times(filepath.Join(e.Host, "a"))
			},
			Host: func(dir string) (string, error) {
				p := filepath.Join(dir, "a")
				if err := unix.UtimesNano(p, []unix.Timespec{{Sec: 1500, Nsec: 5}, {Sec: 1600, Nsec: 999999999}}); err != nil {
					return "", err
				}
				return times(p)
			}},
		{Name: "setattr/utimes-now", Setup: func(dir string) error {
			p := filepath.Join(dir, "a")
			if err := os.WriteFile(p, nil, 0o644); err != nil {
				return err
			}
			return unix.UtimesNano(p, []unix.Timespec{{Sec: 100}, {Sec: 100}})
		},
			P9: func(e Env) (string, error) {
				if err := setattr(e.Dir, "a", p9.SetAttrMask{ATime: true, MTime: true}, p9.SetAttr{}); err != nil {
					return "", err
				}
				return recent(filepath.Join(e.Host, "a"))
			},
			Host: func(dir string) (string, error) {
				p := filepath.Join(dir, "a")
				if err := unix.UtimesNano(p, []unix.Timespec{{Nsec: unix.UTIME_NOW}, {Nsec: unix.UTIME_NOW}}); err != nil {
					return "", err
				}
				return recent(p)
			}},
		{Name: "setattr/mtime-only", Setup: Build("f a x"), NoTree: true,
			P9: func(e Env) (string, error) {
				p := filepath.Join(e.Host, "a")
				if err := unix.UtimesNano(p, []unix.Timespec{{Sec: 7}, {Sec: 8}}); err != nil {
					return "", err
				}
				if err := setattr(e.Dir, "a", p9.SetAttrMask{MTime: true, MTimeNotSystemTime: true}, p9.SetAttr{MTimeSeconds: 9}); err != nil {
					return "", err
				}
				return times(p)
			},
			Host: func(dir string) (string, error) { return "atime=7.000000000 mtime=9.000000000", nil }},

		// open, read, write
		{Name: "open/read", Setup: Build("f a hello world"),
			P9: func(e Env) (string, error) {
				f, err := open(e.Dir, "a", p9.ReadOnly)
				if err != nil {
					return "", err
				}
				defer f.Close()
				b, err := ReadAll(f)
				return string(b), err
			},
			Host: func(dir string) (string, error) {
				b, err := os.ReadFile(filepath.Join(dir, "a"))
				return string(b), err
			}},
		{Name: "open/read-offset", Setup: Build("f a hello world"),
			P9: func(e Env) (string, error) {
				f, err := open(e.Dir, "a", p9.ReadOnly)
				if err != nil {
					return "", err
				}
				defer f.Close()
				b := make([]byte, 5)
				n, err := f.ReadAt(b, 6)
				return string(b[:n]), err
			},
			Host: func(dir string) (string, error) {
				fd, err := unix.Open(filepath.Join(dir, "a"), unix.O_RDONLY, 0)
				if err != nil {
					return "", err
				}
				defer unix.Close(fd)
				b := make([]byte, 5)
				n, err := unix.Pread(fd, b, 6)
				return string(b[:n]), err
			}},
		{Name: "open/write-offset", Setup: Build("f a abcdef"),
			P9: func(e Env) (string, error) {
				f, err := open(e.Dir, "a", p9.WriteOnly)
				if err != nil {
					return "", err
				}
				defer f.Close()
				n, err := f.WriteAt([]byte("XY"), 3)
				return fmt.Sprint(n), err
			},
			Host: func(dir string) (string, error) { return pwrite(filepath.Join(dir, "a"), unix.O_WRONLY, "XY", 3) }},
		{Name: "open/write-hole", Setup: Build("f a "),
			P9: func(e Env) (string, error) {
				f, err := open(e.Dir, "a", p9.ReadWrite)
				if err != nil {
					return "", err
				}
				defer f.Close()
				n, err := f.WriteAt([]byte("Z"), 10)
				return fmt.Sprint(n), err
			},
			Host: func(dir string) (string, error) { return pwrite(filepath.Join(dir, "a"), unix.O_RDWR, "Z", 10) }},
		{Name: "open/trunc", Setup: Build("f a abcdef"),
			P9: func(e Env) (string, error) {
				f, err := open(e.Dir, "a", p9.WriteOnly|oTrunc)
				if err == nil {
					f.Close()
				}
				return "", err
			},
			Host: func(dir string) (string, error) {
				fd, err := unix.Open(filepath.Join(dir, "a"), unix.O_WRONLY|unix.O_TRUNC, 0)
				if err == nil {
					unix.Close(fd)
				}
				return "", err
			}},
		{Name: "open/append", Setup: Build("f a abc"),
			P9: func(e Env) (string, error) {
				f, err := open(e.Dir, "a", p9.WriteOnly|oAppend)
				if err != nil {
					return "", err
				}
				defer f.Close()
				n, err := f.WriteAt([]byte("de"), 0)
				return fmt.Sprint(n), err
			},
			Host: func(dir string) (string, error) {
				return pwrite(filepath.Join(dir, "a"), unix.O_WRONLY|unix.O_APPEND, "de", 0)
			}},
		{Name: "open/direct-dropped", Setup: Build("f a direct"),
			P9: func(e Env) (string, error) {
				f, err := open(e.Dir, "a", p9.ReadOnly|oDirect)
				if err != nil {
					return "", err
				}
				defer f.Close()
				b, err := ReadAll(f)
				return string(b), err
			},
			Host: func(dir string) (string, error) {
				b, err := os.ReadFile(filepath.Join(dir, "a"))
				return string(b), err
			}},
		{Name: "open/dir-for-write", Setup: Build("d a"),
			P9: func(e Env) (string, error) {
				f, err := open(e.Dir, "a", p9.WriteOnly)
				if err == nil {
					f.Close()
				}
				return "", err
			},
			Host: func(dir string) (string, error) {
				fd, err := unix.Open(filepath.Join(dir, "a"), unix.O_WRONLY, 0)
				if err == nil {
					unix.Close(fd)
				}
				return "", err
			}},
		{Name: "fsync", Setup: Build("f a abc"),
			P9: func(e Env) (string, error) {
				f, err := open(e.Dir, "a", p9.ReadWrite)
				if err != nil {
					return "", err
				}
				defer f.Close()
				if _, err := f.WriteAt([]byte("xyz"), 3); err != nil {
					return "", err
				}
				return "", f.FSync()
			},
			Host: func(dir string) (string, error) {
				if _, err := pwrite(filepath.Join(dir, "a"), unix.O_RDWR, "xyz", 3); err != nil {
					return "", err
				}
				return "", nil
			}},

		// create, mkdir, symlink, link, mknod
		{Name: "create/new",
			P9: func(e Env) (string, error) {
				f, err := Create(e.Dir, "n", p9.ReadWrite, 0o640)
				if err != nil {
					return "", err
				}
				defer f.Close()
				n, err := f.WriteAt([]byte("new"), 0)
				return fmt.Sprint(n), err
			},
			Host: func(dir string) (string, error) {
				return pwrite(filepath.Join(dir, "n"), unix.O_RDWR|unix.O_CREAT|unix.O_EXCL, "new", 0, 0o640)
			}},
		{Name: "create/exists", Setup: Build("f n old"),
			P9: func(e Env) (string, error) {
				f, err := Create(e.Dir, "n", p9.ReadWrite, 0o640)
				if err == nil {
					f.Close()
				}
				return "", err
			},
			Host: func(dir string) (string, error) {
				return pwrite(filepath.Join(dir, "n"), unix.O_RDWR|unix.O_CREAT|unix.O_EXCL, "", 0, 0o640)
			}},
		{Name: "create/over-dangling-symlink", Setup: Build("l n target"),
			P9: func(e Env) (string, error) {
				f, err := Create(e.Dir, "n", p9.ReadWrite, 0o640)
				if err == nil {
					f.Close()
				}
				return "", err
			},
			Host: func(dir string) (string, error) {
				return pwrite(filepath.Join(dir, "n"), unix.O_RDWR|unix.O_CREAT|unix.O_EXCL, "", 0, 0o640)
			}},
		{Name: "mkdir/new",
			P9:   func(e Env) (string, error) { _, err := e.Dir.Mkdir("d", 0o750, p9.NoUID, p9.NoGID); return "", err },
			Host: func(dir string) (string, error) { return "", mkdir(filepath.Join(dir, "d"), 0o750) }},
		{Name: "mkdir/exists", Setup: Build("f d"),
			P9:   func(e Env) (string, error) { _, err := e.Dir.Mkdir("d", 0o750, p9.NoUID, p9.NoGID); return "", err },
			Host: func(dir string) (string, error) { return "", mkdir(filepath.Join(dir, "d"), 0o750) }},
		{Name: "symlink/new",
			P9: func(e Env) (string, error) {
				if _, err := e.Dir.Symlink("../../outside", "s", p9.NoUID, p9.NoGID); err != nil {
					return "", err
				}
				f, err := Walk(e.Dir, "s")
				if err != nil {
					return "", err
				}
				defer f.Close()
				return f.Readlink()
			},
			Host: func(dir string) (string, error) {
				if err := os.Symlink("../../outside", filepath.Join(dir, "s")); err != nil {
					return "", err
				}
				return os.Readlink(filepath.Join(dir, "s"))
			}},
		{Name: "symlink/exists", Setup: Build("f s"),
			P9:   func(e Env) (string, error) { _, err := e.Dir.Symlink("t", "s", p9.NoUID, p9.NoGID); return "", err },
			Host: func(dir string) (string, error) { return "", unix.Symlink("t", filepath.Join(dir, "s")) }},
		{Name: "readlink/file", Setup: Build("f a"),
			P9: func(e Env) (string, error) {
				f, err := Walk(e.Dir, "a")
				if err != nil {
					return "", err
				}
				defer f.Close()
				return f.Readlink()
			},
			Host: func(dir string) (string, error) { return os.Readlink(filepath.Join(dir, "a")) }},
		{Name: "link/file", Setup: Build("f a data"),
			P9: func(e Env) (string, error) {
				f, err := Walk(e.Dir, "a")
				if err != nil {
					return "", err
				}
				defer f.Close()
				return "", e.Dir.Link(f, "b")
			},
			Host: func(dir string) (string, error) {
				return "", unix.Link(filepath.Join(dir, "a"), filepath.Join(dir, "b"))
			}},
		{Name: "link/symlink", Setup: Build("l a target"),
			P9: func(e Env) (string, error) {
				f, err := Walk(e.Dir, "a")
				if err != nil {
					return "", err
				}
				defer f.Close()
				return "", e.Dir.Link(f, "b")
			},
			Host: func(dir string) (string, error) {
				return "", unix.Linkat(unix.AT_FDCWD, filepath.Join(dir, "a"), unix.AT_FDCWD, filepath.Join(dir, "b"), 0)
			}},
		{Name: "link/dir", Setup: Build("d a"),
			P9: func(e Env) (string, error) {
				f, err := Walk(e.Dir, "a")
				if err != nil {
					return "", err
				}
				defer f.Close()
				return "", e.Dir.Link(f, "b")
			},
			Host: func(dir string) (string, error) {
				return "", unix.Link(filepath.Join(dir, "a"), filepath.Join(dir, "b"))
			}},
		{Name: "link/exists", Setup: Build("f a", "f b"),
			P9: func(e Env) (string, error) {
				f, err := Walk(e.Dir, "a")
				if err != nil {
					return "", err
				}
				defer f.Close()
				return "", e.Dir.Link(f, "b")
			},
			Host: func(dir string) (string, error) {
				return "", unix.Link(filepath.Join(dir, "a"), filepath.Join(dir, "b"))
			}},
		{Name: "mknod/fifo",
			P9: func(e Env) (string, error) {
				_, err := e.Dir.Mknod("p", p9.ModeNamedPipe|0o620, 0, 0, p9.NoUID, p9.NoGID)
				return "", err
			},
			Host: func(dir string) (string, error) { return "", mknod(filepath.Join(dir, "p"), unix.S_IFIFO|0o620, 0) }},
		{Name: "mknod/socket",
			P9: func(e Env) (string, error) {
				_, err := e.Dir.Mknod("s", p9.ModeSocket|0o600, 0, 0, p9.NoUID, p9.NoGID)
				return "", err
			},
			Host: func(dir string) (string, error) { return "", mknod(filepath.Join(dir, "s"), unix.S_IFSOCK|0o600, 0) }},
		{Name: "mknod/chardev",
			P9: func(e Env) (string, error) {
				_, err := e.Dir.Mknod("c", p9.ModeCharacterDevice|0o600, 1, 3, p9.NoUID, p9.NoGID)
				return "", err
			},
			Host: func(dir string) (string, error) {
				return "", mknod(filepath.Join(dir, "c"), unix.S_IFCHR|0o600, int(unix.Mkdev(1, 3)))
			}},
		{Name: "mknod/exists", Setup: Build("f p"),
			P9: func(e Env) (string, error) {
				_, err := e.Dir.Mknod("p", p9.ModeNamedPipe|0o600, 0, 0, p9.NoUID, p9.NoGID)
				return "", err
			},
			Host: func(dir string) (string, error) { return "", mknod(filepath.Join(dir, "p"), unix.S_IFIFO|0o600, 0) }},

		// rename
		renameCase("rename/over-file", Build("f a A", "f b B"), "", "a", "", "b"),
		renameCase("rename/across-dirs", Build("d x", "d y", "f x/a A"), "x", "a", "y", "b"),
		renameCase("rename/dir-onto-empty-dir", Build("d a", "f a/f 1", "d b"), "", "a", "", "b"),
		renameCase("rename/dir-onto-nonempty-dir", Build("d a", "d b", "f b/f 1"), "", "a", "", "b"),
		renameCase("rename/file-onto-dir", Build("f a", "d b"), "", "a", "", "b"),
		renameCase("rename/dir-onto-file", Build("d a", "f b"), "", "a", "", "b"),
		renameCase("rename/missing", nil, "", "a", "", "b"),
		renameCase("rename/dir-into-itself", Build("d a", "d a/b"), "", "a", "a/b", "c"),
		renameCase("rename/symlink", Build("l a /etc"), "", "a", "", "b"),

		// unlink
		unlinkCase("unlink/file", Build("f a"), "a", 0),
		unlinkCase("unlink/symlink", Build("d d", "l a d"), "a", 0),
		unlinkCase("unlink/dir-without-flag", Build("d a"), "a", 0),
		unlinkCase("unlink/empty-dir", Build("d a"), "a", unix.AT_REMOVEDIR),
		unlinkCase("unlink/nonempty-dir", Build("d a", "f a/f"), "a", unix.AT_REMOVEDIR),
		unlinkCase("unlink/file-as-dir", Build("f a"), "a", unix.AT_REMOVEDIR),
		unlinkCase("unlink/missing", nil, "a", 0),

		// readdir
		{Name: "readdir/types", Setup: Build("f a", "d b", "l c a", "p d", "f "+strings.Repeat("e", 200)),
			P9: func(e Env) (string, error) {
				ents, err := ReadDir(e.Dir, 4096)
				return names(ents), err
			},
			Host: hostNames},
		{Name: "readdir/small-budget", Setup: Build("f a1", "f a2", "f a3", "f a4", "f a5", "f a6", "f a7", "d a8"),
			P9: func(e Env) (string, error) {
				// Room for one entry at a time: every entry must still
				// come, once.
				ents, err := ReadDir(e.Dir, 24+3)
				return names(ents), err
			},
			Host: hostNames},
		{Name: "readdir/dots", Setup: Build("d a"), NoTree: true,
			P9: func(e Env) (string, error) {
				sub, err := Walk(e.Dir, "a")
				if err != nil {
					return "", err
				}
				defer sub.Close()
				ents, err := ReadDir(sub, 4096)
				if err != nil {
					return "", err
				}
				self, _, _, err := sub.GetAttr(p9.AttrMaskAll)
				if err != nil {
					return "", err
				}
				parent, _, _, err := e.Dir.GetAttr(p9.AttrMaskAll)
				if err != nil {
					return "", err
				}
				var out []string
				for _, d := range ents {
					switch d.Name {
					case ".":
						out = append(out, fmt.Sprintf(".=self:%v", d.QID.Path == self.Path))
					case "..":
						out = append(out, fmt.Sprintf("..=parent:%v", d.QID.Path == parent.Path))
					}
				}
				sort.Strings(out)
				return strings.Join(out, " "), nil
			},
			Host: func(string) (string, error) { return "..=parent:true .=self:true", nil }},
		{Name: "readdir/qid-matches-walk", Setup: Build("f a", "d b", "l c a"), NoTree: true,
			P9: func(e Env) (string, error) {
				ents, err := ReadDir(e.Dir, 4096)
				if err != nil {
					return "", err
				}
				var bad []string
				for _, d := range ents {
					if d.Name == "." || d.Name == ".." {
						continue
					}
					q, _, err := getattr(e.Dir, d.Name)
					if err != nil {
						return "", err
					}
					if q.Path != d.QID.Path || q.Type != d.QID.Type {
						bad = append(bad, d.Name)
					}
				}
				return strings.Join(bad, " "), nil
			},
			Host: func(string) (string, error) { return "", nil }},

		// statfs
		{Name: "statfs", NoTree: true,
			P9: func(e Env) (string, error) {
				s, err := e.Dir.StatFS()
				return fmt.Sprintf("type=%x bsize=%d blocks=%d namelen=%d", s.Type, s.BlockSize, s.Blocks, s.NameLength), err
			},
			Host: func(dir string) (string, error) {
				var s unix.Statfs_t
				err := unix.Statfs(dir, &s)
				return fmt.Sprintf("type=%x bsize=%d blocks=%d namelen=%d", uint32(s.Type), s.Bsize, s.Blocks, s.Namelen), err
			}},

		// xattrs (skipped where the transport has none)
		xattrCase("xattr/set-get", nil, func(f p9.File) (string, error) {
			if err := f.SetXattr("user.k", []byte("v1"), 0); err != nil {
				return "", err
			}
			b, err := f.GetXattr("user.k")
			return string(b), err
		}, func(p string) (string, error) {
			if err := unix.Setxattr(p, "user.k", []byte("v1"), 0); err != nil {
				return "", err
			}
			return getxattr(p, "user.k")
		}),
		xattrCase("xattr/create-exists", map[string]string{"user.k": "old"}, func(f p9.File) (string, error) {
			return "", f.SetXattr("user.k", []byte("new"), p9.XattrCreate)
		}, func(p string) (string, error) {
			return "", unix.Setxattr(p, "user.k", []byte("new"), unix.XATTR_CREATE)
		}),
		xattrCase("xattr/replace-missing", nil, func(f p9.File) (string, error) {
			return "", f.SetXattr("user.k", []byte("new"), p9.XattrReplace)
		}, func(p string) (string, error) {
			return "", unix.Setxattr(p, "user.k", []byte("new"), unix.XATTR_REPLACE)
		}),
		xattrCase("xattr/replace", map[string]string{"user.k": "old"}, func(f p9.File) (string, error) {
			if err := f.SetXattr("user.k", []byte("new"), p9.XattrReplace); err != nil {
				return "", err
			}
			b, err := f.GetXattr("user.k")
			return string(b), err
		}, func(p string) (string, error) {
			if err := unix.Setxattr(p, "user.k", []byte("new"), unix.XATTR_REPLACE); err != nil {
				return "", err
			}
			return getxattr(p, "user.k")
		}),
		xattrCase("xattr/get-missing", nil, func(f p9.File) (string, error) {
			_, err := f.GetXattr("user.nope")
			return "", err
		}, func(p string) (string, error) { return getxattr(p, "user.nope") }),
		xattrCase("xattr/list", map[string]string{"user.a": "1", "user.b": "2"}, func(f p9.File) (string, error) {
			l, err := f.ListXattrs()
			sort.Strings(l)
			return strings.Join(l, ","), err
		}, func(p string) (string, error) {
			buf := make([]byte, 4096)
			n, err := unix.Listxattr(p, buf)
			if err != nil {
				return "", err
			}
			l := strings.Split(strings.TrimSuffix(string(buf[:n]), "\x00"), "\x00")
			sort.Strings(l)
			return strings.Join(l, ","), nil
		}),
		xattrCase("xattr/remove", map[string]string{"user.a": "1"}, func(f p9.File) (string, error) {
			if err := f.RemoveXattr("user.a"); err != nil {
				return "", err
			}
			_, err := f.GetXattr("user.a")
			return "", err
		}, func(p string) (string, error) {
			if err := unix.Removexattr(p, "user.a"); err != nil {
				return "", err
			}
			return getxattr(p, "user.a")
		}),
	}
}

func renameCase(name string, setup func(string) error, fromDir, from, toDir, to string) Case {
	return Case{Name: name, Setup: setup,
		P9: func(e Env) (string, error) {
			a, err := Walk(e.Dir, fromDir)
			if err != nil {
				return "", err
			}
			defer a.Close()
			b, err := Walk(e.Dir, toDir)
			if err != nil {
				return "", err
			}
			defer b.Close()
			return "", a.RenameAt(from, b, to)
		},
		Host: func(dir string) (string, error) {
			return "", unix.Rename(filepath.Join(dir, fromDir, from), filepath.Join(dir, toDir, to))
		}}
}

func unlinkCase(name string, setup func(string) error, target string, flags int) Case {
	return Case{Name: name, Setup: setup,
		P9: func(e Env) (string, error) { return "", e.Dir.UnlinkAt(target, uint32(flags)) },
		Host: func(dir string) (string, error) {
			return "", unix.Unlinkat(unix.AT_FDCWD, filepath.Join(dir, target), flags)
		}}
}

// xattrCase runs an xattr operation on the file "a" whose attributes start
// as given.
func xattrCase(name string, attrs map[string]string, p9op func(p9.File) (string, error), host func(string) (string, error)) Case {
	return Case{Name: name,
		Setup: func(dir string) error {
			p := filepath.Join(dir, "a")
			if err := os.WriteFile(p, nil, 0o644); err != nil {
				return err
			}
			for k, v := range attrs {
				if err := unix.Setxattr(p, k, []byte(v), 0); err != nil {
					return err
				}
			}
			return nil
		},
		P9: func(e Env) (string, error) {
			f, err := Walk(e.Dir, "a")
			if err != nil {
				return "", err
			}
			defer f.Close()
			return p9op(f)
		},
		Host: func(dir string) (string, error) { return host(filepath.Join(dir, "a")) },
	}
}

func getxattr(p, name string) (string, error) {
	buf := make([]byte, 4096)
	n, err := unix.Getxattr(p, name, buf)
	if err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}

// pwrite opens p with fl (and perm, when creating), writes s at off and
// returns the count written.
func pwrite(p string, fl int, s string, off int64, perm ...uint32) (string, error) {
	mode := uint32(0)
	if len(perm) > 0 {
		mode = perm[0]
		old := unix.Umask(0)
		defer unix.Umask(old)
	}
	fd, err := unix.Open(p, fl|unix.O_CLOEXEC, mode)
	if err != nil {
		return "", err
	}
	defer unix.Close(fd)
	if s == "" {
		return "0", nil
	}
	n, err := unix.Pwrite(fd, []byte(s), off)
	return fmt.Sprint(n), err
}

func mkdir(p string, mode uint32) error {
	old := unix.Umask(0)
	defer unix.Umask(old)
	return unix.Mkdir(p, mode)
}

func mknod(p string, mode uint32, dev int) error {
	old := unix.Umask(0)
	defer unix.Umask(old)
	return unix.Mknod(p, mode, dev)
}
