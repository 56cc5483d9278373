package ninep

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// cpLocal is this host's file system as a side of a copy.
type cpLocal struct{}

// cpLocalErr drops the path from an os error (the line names it already);
// others it returns as they are.
func cpLocalErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func cpAttrSys(st *unix.Stat_t) cpAttr {
	return cpAttr{
		mode: st.Mode, size: st.Size, uid: st.Uid, gid: st.Gid,
		atime: st.Atim, mtime: st.Mtim, dev: st.Dev, ino: st.Ino,
	}
}

func (cpLocal) lstat(p string) (cpAttr, error) {
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		return cpAttr{}, err
	}
	return cpAttrSys(&st), nil
}

func (cpLocal) stat(p string) (cpAttr, error) {
	var st unix.Stat_t
	if err := unix.Stat(p, &st); err != nil {
		return cpAttr{}, err
	}
	return cpAttrSys(&st), nil
}

func (l cpLocal) list(dir string) ([]cpEnt, error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, cpLocalErr(err)
	}
	ents := make([]cpEnt, 0, len(des))
	for _, de := range des {
		a, err := l.lstat(filepath.Join(dir, de.Name()))
		if errors.Is(err, unix.ENOENT) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", de.Name(), err)
		}
		ents = append(ents, cpEnt{name: de.Name(), attr: a})
	}
	return ents, nil
}

func (cpLocal) readlink(p string) (string, error) {
	t, err := os.Readlink(p)
	return t, cpLocalErr(err)
}

func (cpLocal) open(p string) (cpReader, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, cpLocalErr(err)
	}
	return f, nil
}

func (cpLocal) create(p string, a cpAttr, _ bool) (cpWriter, error) {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, os.FileMode(a.mode&0o777))
	if err != nil {
		return nil, cpLocalErr(err)
	}
	return cpLocalWriter{File: f, path: p}, nil
}

func (cpLocal) mkdir(p string, a cpAttr, _ bool) error {
	return unix.Mkdir(p, 0o700|a.mode&0o777)
}

func (cpLocal) symlink(target, p string, a cpAttr, preserve bool) error {
	return unix.Symlink(target, p)
}

func (cpLocal) remove(p string, dir bool) error {
	if dir {
		return unix.Rmdir(p)
	}
	return unix.Unlink(p)
}

func (cpLocal) setAttr(p string, a cpAttr, preserve bool) error {
	link := a.kind() == unix.S_IFLNK
	if preserve {
		err := unix.Lchown(p, int(a.uid), int(a.gid))
		if cpChownRefused(err) {
			err = unix.Lchown(p, -1, int(a.gid))
		}
		if err != nil && !cpChownRefused(err) {
			return err
		}
	}
	if !link {
		if err := unix.Chmod(p, a.mode&0o7777); err != nil {
			return err
		}
	}
	if preserve {
		return unix.UtimesNanoAt(unix.AT_FDCWD, p, []unix.Timespec{a.atime, a.mtime}, unix.AT_SYMLINK_NOFOLLOW)
	}
	return nil
}

func (cpLocal) join(dir, name string) string { return filepath.Join(dir, name) }
func (cpLocal) show(p string) string         { return p }

func (cpLocal) abs(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return filepath.Clean(p)
}

func (cpLocal) base(p string) string {
	switch b := filepath.Base(p); b {
	case "/", ".", "..":
		return ""
	default:
		return b
	}
}

// cpLocalWriter is a destination file on this host.
type cpLocalWriter struct {
	*os.File
	path string
}

func (w cpLocalWriter) truncate(size int64) error { return cpLocalErr(w.Truncate(size)) }

func (w cpLocalWriter) finish(a cpAttr, preserve bool) error {
	fd := int(w.Fd())
	if preserve {
		err := unix.Fchown(fd, int(a.uid), int(a.gid))
		if cpChownRefused(err) {
			err = unix.Fchown(fd, -1, int(a.gid))
		}
		if err != nil && !cpChownRefused(err) {
			return err
		}
	}
	if err := unix.Fchmod(fd, a.mode&0o7777); err != nil {
		return err
	}
	if preserve {
		return unix.UtimesNanoAt(unix.AT_FDCWD, w.path, []unix.Timespec{a.atime, a.mtime}, 0)
	}
	return nil
}
