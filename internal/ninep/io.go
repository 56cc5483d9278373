package ninep

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"
	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"
)

// ioBufSize bounds the buffer read and write stream through: one buffer,
// reused, so a file of any size costs the same memory.
const ioBufSize = 1 << 20

func readVerb() verb {
	return verb{
		name:  "read",
		usage: "copy a file to stdout",
		args:  "PATH",
		examples: `Streams the file to stdout in msize-sized reads, in constant memory,
whatever its size.

Examples:
   mfs 9p read /2/etc/hostname
   mfs 9p read /here/var/log/syslog | grep error
   mfs 9p read /1/data/big.img > big.img`,
		min: 1, max: 1,
		run: func(s *session, c *cli.Context, args []string) error {
			p := cleanPath(args[0])
			return opErr("read", s.read(p, c.App.Writer), p)
		},
	}
}

// read copies the file p to w through one buffer.
func (s *session) read(p string, w io.Writer) error {
	f, _, attr, err := s.walkAttr(p)
	if err != nil {
		return err
	}
	defer f.Close()
	if attr.Mode.IsDir() {
		return linux.EISDIR
	}
	if attr.Mode.IsSymlink() {
		return symlinkError(f)
	}
	if _, _, err := f.Open(p9.ReadOnly); err != nil {
		return err
	}
	buf := make([]byte, min(ioBufSize, int(s.conn.MSize)))
	var off int64
	for {
		n, err := f.ReadAt(buf, off)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return werr
			}
			off += int64(n)
		}
		if errors.Is(err, io.EOF) || (err == nil && n == 0) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func writeVerb() verb {
	return verb{
		name:  "write",
		usage: "copy stdin to a file, creating it if missing",
		args:  "[--append] PATH",
		examples: `Streams stdin into the file in constant memory. A missing file is created
(mode 0666 less the umask); an existing one is truncated first, unless
--append is given.

Examples:
   echo hello | mfs 9p write /2/tmp/greeting
   date | mfs 9p write --append /home/tmp/log
   mfs 9p write /3/data/big.img < big.img`,
		flags: []cli.Flag{&cli.BoolFlag{Name: "append", Aliases: []string{"A"}, Usage: "append instead of truncating"}},
		min:   1, max: 1,
		run: func(s *session, c *cli.Context, args []string) error {
			p := cleanPath(args[0])
			if p == "/"+ctlFile {
				return opErr("write", s.writeCtl(c.App.ErrWriter, p, c.Bool("append"), c.App.Reader), p)
			}
			return opErr("write", s.write(p, c.Bool("append"), c.App.Reader), p)
		},
	}
}

// write copies r into the file p, created if missing, truncated unless
// appending.
func (s *session) write(p string, appending bool, r io.Reader) error {
	f, off, err := s.openForWrite(p, appending)
	if err != nil {
		return err
	}
	defer f.Close()
	buf := make([]byte, min(ioBufSize, int(s.conn.MSize)))
	for {
		n, rerr := r.Read(buf)
		for done := 0; done < n; {
			m, err := f.WriteAt(buf[done:n], off)
			if err != nil {
				return err
			}
			if m == 0 {
				return io.ErrShortWrite
			}
			done += m
			off += int64(m)
		}
		if errors.Is(rerr, io.EOF) {
			return nil
		}
		if rerr != nil {
			return rerr
		}
	}
}

// openForWrite opens p for writing, creating it if it does not exist, and
// returns the offset to write at.
func (s *session) openForWrite(p string, appending bool) (p9.File, int64, error) {
	dir, name, err := s.walkParent(p)
	if errors.Is(err, linux.EBUSY) {
		return nil, 0, linux.EISDIR
	}
	if err != nil {
		return nil, 0, err
	}
	defer dir.Close()
	f, err := walkFrom(dir, []string{name})
	switch {
	case isNotExist(err):
		nf, _, _, err := dir.Create(name, p9.WriteOnly, p9.FileMode(0o666&^umask()), p9.UID(os.Getuid()), p9.GID(os.Getgid()))
		if err != nil {
			return nil, 0, err
		}
		return nf, 0, nil
	case err != nil:
		return nil, 0, err
	}
	_, _, attr, err := f.GetAttr(p9.AttrMask{Mode: true, Size: true})
	if err == nil && attr.Mode.IsDir() {
		err = linux.EISDIR
	}
	if err == nil && attr.Mode.IsSymlink() {
		err = symlinkError(f)
	}
	if err == nil {
		_, _, err = f.Open(p9.WriteOnly)
	}
	if err == nil && !appending && attr.Size > 0 {
		err = f.SetAttr(p9.SetAttrMask{Size: true}, p9.SetAttr{Size: 0})
	}
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	if appending {
		return f, int64(attr.Size), nil
	}
	return f, 0, nil
}

// umask returns the process' file mode creation mask, which new files
// honour as they would locally.
func umask() uint32 {
	m := unix.Umask(0)
	unix.Umask(m)
	return uint32(m)
}

// errSymlink is reading or writing through a symlink: 9P walks do not
// follow links, and a link's absolute target means a path on the node that
// holds it, not in the attach, so the client does not follow it either.
type errSymlink struct{ target string }

func (e *errSymlink) Error() string {
	return fmt.Sprintf("is a symbolic link to %q (not followed; use its target)", e.target)
}

// symlinkError describes the symlink f for read and write.
func symlinkError(f p9.File) error {
	t, err := f.Readlink()
	if err != nil {
		return err
	}
	return &errSymlink{target: t}
}
