package ninep

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"

	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"
	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"mfs/internal/clierr"
	"mfs/internal/dial"
	"mfs/internal/fcall"
)

func mkdirVerb() verb {
	return verb{
		name:  "mkdir",
		usage: "make directories",
		args:  "[-p] PATH…",
		examples: `Makes each directory (mode 0777 less the umask). With -p, makes missing
parents too and accepts directories that exist. A failure does not stop
the rest: each is one line on stderr, and the exit status is 1.

Examples:
   mfs 9p mkdir /2/tmp/results
   mfs 9p mkdir -p /home/tmp/a/b/c`,
		flags: []cli.Flag{&cli.BoolFlag{Name: "p", Usage: "make parents as needed; no error if it exists"}},
		min:   1, max: -1,
		run: func(s *session, c *cli.Context, args []string) error {
			var errs []error
			for _, a := range args {
				p := cleanPath(a)
				if err := s.mkdir(p, c.Bool("p")); err != nil {
					errs = append(errs, opErr("mkdir", err, p))
				}
			}
			return errors.Join(errs...)
		},
	}
}

// mkdir makes directory p, and with parents every missing one above it.
func (s *session) mkdir(p string, parents bool) error {
	perm := p9.FileMode(0o777 &^ umask())
	uid, gid := p9.UID(os.Getuid()), p9.GID(os.Getgid())
	if !parents {
		dir, name, err := s.walkParent(p)
		if err != nil {
			if errors.Is(err, linux.EBUSY) {
				return linux.EEXIST
			}
			return err
		}
		defer dir.Close()
		_, err = dir.Mkdir(name, perm, uid, gid)
		return err
	}
	cur, err := walkFrom(s.root, nil)
	if err != nil {
		return err
	}
	for _, name := range splitPath(p) {
		next, err := walkFrom(cur, []string{name})
		if isNotExist(err) {
			if _, err = cur.Mkdir(name, perm, uid, gid); err == nil || isExist(err) {
				next, err = walkFrom(cur, []string{name})
			}
		}
		cur.Close()
		if err != nil {
			return err
		}
		cur = next
		_, _, attr, err := cur.GetAttr(p9.AttrMask{Mode: true})
		if err == nil && !attr.Mode.IsDir() {
			err = linux.ENOTDIR
		}
		if err != nil {
			cur.Close()
			return err
		}
	}
	return cur.Close()
}

// isExist reports whether err is the server's "file exists".
func isExist(err error) bool {
	e, ok := errnoOf(err)
	return ok && e == linux.EEXIST
}

func rmVerb() verb {
	return verb{
		name:  "rm",
		usage: "remove files and directories",
		args:  "[-r] [-f] PATH…",
		examples: `Removes each file, symlink or empty directory. A non-empty directory needs
-r, which removes everything below it first (symlinks are removed, never
followed). With -f, a path that does not exist is no error. A failure
does not stop the rest: each is one line on stderr, and the exit status
is 1.

Examples:
   mfs 9p rm /2/tmp/greeting
   mfs 9p rm -r /home/tmp/a
   mfs 9p rm -rf /2/tmp/results /3/tmp/results`,
		flags: []cli.Flag{
			&cli.BoolFlag{Name: "r", Aliases: []string{"R"}, Usage: "remove directories and their contents"},
			&cli.BoolFlag{Name: "f", Usage: "ignore paths that do not exist"},
		},
		shortOpts: true,
		min:       0, max: -1,
		check: func(c *cli.Context, args []string) error {
			if len(args) == 0 && !c.Bool("f") {
				return clierr.Usagef("rm: want rm [-r] [-f] PATH… (see mfs 9p rm --help)")
			}
			return nil
		},
		run: func(s *session, c *cli.Context, args []string) error {
			var errs []error
			for _, a := range args {
				s.remove(cleanPath(a), c.Bool("r"), c.Bool("f"), &errs)
			}
			return errors.Join(errs...)
		},
	}
}

// rm removes p; a directory only when empty, or with recursive. It goes
// on past a failure below p and returns every one (see remove).
func (s *session) rm(p string, recursive bool) error {
	var errs []error
	s.remove(p, recursive, false, &errs)
	return errors.Join(errs...)
}

// remove removes p; a directory only when empty, or with recursive, which
// removes what it can below it and leaves a directory whose entries it
// could not all remove (that failure is reported, not the directory's).
// With force, a missing p is no failure. Each failure is added to errs;
// remove reports whether p is gone.
func (s *session) remove(p string, recursive, force bool, errs *[]error) bool {
	fail := func(err error) bool {
		if force && isNotExist(err) {
			return true
		}
		*errs = append(*errs, opErr("rm", err, p))
		return false
	}
	if p == "/" {
		return fail(linux.EBUSY)
	}
	f, _, attr, err := s.walkAttr(p)
	if err != nil {
		return fail(err)
	}
	f.Close()
	isDir := attr.Mode.IsDir()
	if isDir && recursive {
		ents, err := s.readDir(p, false)
		if err != nil {
			return fail(err)
		}
		all := true
		for _, e := range ents {
			if !s.remove(path.Join(p, e.name), true, force, errs) {
				all = false
			}
		}
		if !all {
			return false
		}
	}
	if err := s.unlink(p, isDir); err != nil {
		return fail(err)
	}
	return true
}

// unlink removes p with Tunlinkat (falling back to Tremove where the
// server lacks it, see dial.UnlinkAt).
func (s *session) unlink(p string, isDir bool) error {
	dir, name, err := s.walkParent(p)
	if err != nil {
		return err
	}
	defer dir.Close()
	var flags uint32
	if isDir {
		flags = unix.AT_REMOVEDIR
	}
	return dial.UnlinkAt(dir, name, flags)
}

// unsupported reports whether err says the server lacks an operation.
func unsupported(err error) bool {
	e, ok := errnoOf(err)
	return ok && (e == linux.ENOSYS || e == linux.EOPNOTSUPP)
}

func mvVerb() verb {
	return verb{
		name:  "mv",
		usage: "rename a file or directory (across nodes: copy, then remove)",
		args:  "OLD NEW",
		examples: `Renames OLD to NEW (Trenameat); if NEW is a directory, OLD moves into it.
On one node that is a rename. Across nodes, where no rename reaches (the
server answers EXDEV), mv copies OLD as "cp -rp" does (modes, owner where
allowed, times; symlinks as symlinks), then removes it, as mv(1) does
across file systems; OLD is removed only if all of it was copied, and each
failure is one line on stderr. As with a rename, NEW may be a file that a
file replaces or an empty directory that a directory replaces.

Examples:
   mfs 9p mv /2/tmp/a /2/tmp/b
   mfs 9p mv /home/tmp/report /home/tmp/old/
   mfs 9p mv /1/tmp/results /2/tmp/results`,
		min: 2, max: 2,
		run: func(s *session, c *cli.Context, args []string) error {
			oldp, newp := cleanPath(args[0]), cleanPath(args[1])
			err := s.mv(oldp, newp, cpErrWriter(c))
			var oe *opError
			if errors.As(err, &oe) {
				return err // a line of the copy across nodes, naming its path
			}
			return opErr("mv", err, oldp, newp)
		},
	}
}

// mv renames oldp to newp, or into newp if that is a directory; across
// nodes it copies, then removes (see moveAcross), with a line on errw for
// each failure but the one it returns.
func (s *session) mv(oldp, newp string, errw io.Writer) error {
	if oldp == "/" || newp == "/" {
		return linux.EBUSY
	}
	if f, _, attr, err := s.walkAttr(newp); err == nil {
		f.Close()
		if attr.Mode.IsDir() {
			newp = path.Join(newp, path.Base(oldp))
		}
	}
	odir, oname, err := s.walkParent(oldp)
	if err != nil {
		return err
	}
	defer odir.Close()
	ndir, nname, err := s.walkParent(newp)
	if err != nil {
		return err
	}
	defer ndir.Close()
	err = odir.RenameAt(oname, ndir, nname)
	if isExist(err) && s.conn.Dialect() != fcall.L {
		err = s.renameOver(odir, oname, ndir, nname, oldp, newp)
	}
	if unsupported(err) {
		var f p9.File
		if f, err = walkFrom(odir, []string{oname}); err == nil {
			err = f.Rename(ndir, nname)
			f.Close()
		}
	}
	if e, ok := errnoOf(err); ok && e == linux.EXDEV {
		return s.moveAcross(oldp, newp, errw)
	}
	return err
}

func lnVerb() verb {
	return verb{
		name:  "ln",
		usage: "make a symbolic link (or, without -s, a hard link)",
		args:  "[-s] TARGET PATH",
		examples: `With -s, makes PATH a symlink to TARGET; TARGET is stored as given, not
cleaned or checked. Without -s, makes PATH a hard link to the file TARGET
(both on one node).

Examples:
   mfs 9p ln -s ../etc/hostname /2/tmp/hn
   mfs 9p ln /2/tmp/a /2/tmp/a.bak`,
		flags: []cli.Flag{&cli.BoolFlag{Name: "s", Usage: "make a symbolic link"}},
		min:   2, max: 2,
		run: func(s *session, c *cli.Context, args []string) error {
			target, p := args[0], cleanPath(args[1])
			if !c.Bool("s") {
				target = cleanPath(target)
			}
			return opErr("ln", s.ln(target, p, c.Bool("s")), target, p)
		},
	}
}

// ln makes p a symlink to target, or a hard link to the file target.
func (s *session) ln(target, p string, symbolic bool) error {
	dir, name, err := s.walkParent(p)
	if err != nil {
		return err
	}
	defer dir.Close()
	if symbolic {
		_, err = dir.Symlink(target, name, p9.UID(os.Getuid()), p9.GID(os.Getgid()))
		return err
	}
	f, err := s.walk(target)
	if err != nil {
		return err
	}
	defer f.Close()
	return dir.Link(f, name)
}

func readlinkVerb() verb {
	return verb{
		name:  "readlink",
		usage: "print a symlink's target",
		args:  "PATH",
		examples: `Prints the target of the symlink PATH as stored.

Examples:
   mfs 9p readlink /2/tmp/hn`,
		min: 1, max: 1,
		run: func(s *session, c *cli.Context, args []string) error {
			p := cleanPath(args[0])
			f, err := s.walk(p)
			if err != nil {
				return opErr("readlink", err, p)
			}
			defer f.Close()
			t, err := f.Readlink()
			if err != nil {
				return opErr("readlink", err, p)
			}
			fmt.Fprintln(c.App.Writer, t)
			return nil
		},
	}
}

func dfVerb() verb {
	return verb{
		name:  "df",
		usage: "report file system space (Tstatfs)",
		args:  "[PATH…]",
		examples: `Prints, for the file system holding each PATH (default /), its size, used
and available space in 1K blocks, use%, and files and free files.

Examples:
   mfs 9p df /1 /2 /3
   mfs 9p df /here`,
		min: 0, max: -1,
		run: func(s *session, c *cli.Context, args []string) error {
			if len(args) == 0 {
				args = []string{"/"}
			}
			rows := [][]string{{"Path", "1K-blocks", "Used", "Available", "Use%", "Files", "FFree"}}
			for _, a := range args {
				p := cleanPath(a)
				st, err := s.statfs(p)
				if err != nil {
					return opErr("df", err, p)
				}
				rows = append(rows, dfRow(p, st))
			}
			printTable(c.App.Writer, rows, 1)
			return nil
		},
	}
}

// statfs returns the Tstatfs answer for p.
func (s *session) statfs(p string) (p9.FSStat, error) {
	f, err := s.walk(p)
	if err != nil {
		return p9.FSStat{}, err
	}
	defer f.Close()
	return f.StatFS()
}

// dfRow is one line of df: sizes in 1K blocks as df(1) prints them.
func dfRow(p string, st p9.FSStat) []string {
	bs := uint64(st.BlockSize)
	k := func(blocks uint64) string { return fmt.Sprint(blocks * bs / 1024) }
	used := st.Blocks - st.BlocksFree
	pct := "-"
	if d := used + st.BlocksAvailable; d > 0 {
		pct = fmt.Sprintf("%d%%", (used*100+d-1)/d)
	}
	return []string{p, k(st.Blocks), k(used), k(st.BlocksAvailable), pct,
		fmt.Sprint(st.Files), fmt.Sprint(st.FilesFree)}
}
