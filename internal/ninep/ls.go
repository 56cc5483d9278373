package ninep

import (
	"errors"
	"fmt"
	"io"
	"os/user"
	"path"
	"sort"
	"strconv"
	"time"

	"github.com/hugelgupf/p9/p9"
	"github.com/urfave/cli/v2"
)

func lsVerb() verb {
	return verb{
		name:  "ls",
		usage: "list directories (like ls)",
		args:  "[-l] [-d] [-R] [PATH…]",
		examples: `Lists each directory's entries by name, or names a file. Without PATH,
lists the attach root. With -l, one line per entry like ls -l: mode, links,
owner, group (numeric where this host has no such id), size, mtime, name,
and "-> target" after a symlink. With -d, lists a directory itself. With
-R, lists every directory below too, each under a "path:" line, as ls -R
does (symlinks are not followed). A path or directory that cannot be
listed does not stop the rest: each failure is one line on stderr, and
the exit status is 1.

Examples:
   mfs 9p ls /
   mfs 9p ls -l /2/etc
   mfs 9p ls -ld /1 /2 /3
   mfs 9p ls -R /2/tmp`,
		flags: []cli.Flag{
			&cli.BoolFlag{Name: "l", Usage: "long listing"},
			&cli.BoolFlag{Name: "d", Usage: "list directories themselves, not their entries"},
			&cli.BoolFlag{Name: "R", Usage: "list subdirectories recursively"},
		},
		shortOpts: true,
		min:       0, max: -1,
		run: func(s *session, c *cli.Context, args []string) error {
			if len(args) == 0 {
				args = []string{"/"}
			}
			o := lsOptions{long: c.Bool("l"), dirItself: c.Bool("d"), recursive: c.Bool("R") && !c.Bool("d")}
			return s.ls(c.App.Writer, args, o)
		},
	}
}

// lsOptions are ls's flags.
type lsOptions struct {
	long, dirItself, recursive bool
}

// entry is one line of an ls listing.
type entry struct {
	name   string
	attr   p9.Attr
	target string // of a symlink
	dir    bool   // a directory, by its Treaddir qid or its mode
}

// ls lists paths to w like ls(1): files first, then each directory, each
// group sorted by name, a directory headed by its name when there is more
// than one path or the listing is recursive. It goes on past a path or a
// directory it cannot list and returns every failure.
func (s *session) ls(w io.Writer, paths []string, o lsOptions) error {
	var files []entry
	var dirs []string
	var errs []error
	for _, a := range paths {
		p := cleanPath(a)
		f, _, attr, err := s.walkAttr(p)
		if err != nil {
			errs = append(errs, opErr("ls", err, p))
			continue
		}
		if attr.Mode.IsDir() && !o.dirItself {
			dirs = append(dirs, p)
			f.Close()
			continue
		}
		e := entry{name: p, attr: attr}
		if o.long && attr.Mode.IsSymlink() {
			e.target, _ = f.Readlink()
		}
		f.Close()
		files = append(files, e)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].name < files[j].name })
	sort.Strings(dirs)
	l := &lister{s: s, w: w, o: o, names: newIDNames(), errs: &errs}
	if len(files) > 0 {
		printEntries(w, files, o.long, l.names)
		l.printed = true
	}
	for _, d := range dirs {
		l.dir(d, len(paths) > 1 || o.recursive)
	}
	return errors.Join(errs...)
}

// lister prints the directories of one ls.
type lister struct {
	s       *session
	w       io.Writer
	o       lsOptions
	names   *idNames
	errs    *[]error
	printed bool // something is on w: the next header needs a blank line
}

// dir lists directory d, under a "d:" header if header, then with -R each
// directory in it, depth first.
func (l *lister) dir(d string, header bool) {
	if header {
		if l.printed {
			fmt.Fprintln(l.w)
		}
		fmt.Fprintf(l.w, "%s:\n", d)
		l.printed = true
	}
	ents, err := l.s.readDir(d, l.o.long)
	if err != nil {
		*l.errs = append(*l.errs, opErr("ls", err, d))
		return
	}
	printEntries(l.w, ents, l.o.long, l.names)
	l.printed = l.printed || len(ents) > 0
	if !l.o.recursive {
		return
	}
	for _, e := range ents {
		if e.dir {
			l.dir(path.Join(d, e.name), true)
		}
	}
}

// readDir returns the entries of directory p sorted by name, without "."
// and "..". With attrs, each entry carries its attributes (and a symlink its
// target), fetched with one walk per entry.
func (s *session) readDir(p string, attrs bool) ([]entry, error) {
	d, err := s.walk(p)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	if _, _, err := d.Open(p9.ReadOnly); err != nil {
		return nil, err
	}
	dirents, err := s.dirents(d)
	if err != nil {
		return nil, err
	}
	ents := make([]entry, 0, len(dirents))
	for _, de := range dirents {
		ents = append(ents, entry{name: de.Name, dir: de.QID.Type&p9.TypeDir != 0})
	}
	sort.Slice(ents, func(i, j int) bool { return ents[i].name < ents[j].name })
	if !attrs {
		return ents, nil
	}
	// An entry removed since the Treaddir is left out, as ls does.
	kept := ents[:0]
	for _, e := range ents {
		f, err := walkFrom(d, []string{e.name})
		if isNotExist(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", e.name, err)
		}
		_, _, e.attr, err = f.GetAttr(p9.AttrMaskAll)
		e.dir = e.attr.Mode.IsDir()
		if err == nil && e.attr.Mode.IsSymlink() {
			e.target, err = f.Readlink()
		}
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", e.name, err)
		}
		kept = append(kept, e)
	}
	return kept, nil
}

// dirents reads every entry of the opened directory d but "." and "..",
// as many to a Treaddir as its msize allows.
func (s *session) dirents(d p9.File) ([]p9.Dirent, error) {
	var out []p9.Dirent
	for off := uint64(0); ; {
		ents, err := d.Readdir(off, s.conn.MSize)
		if err != nil {
			return nil, err
		}
		if len(ents) == 0 {
			return out, nil
		}
		for _, de := range ents {
			if de.Name != "." && de.Name != ".." {
				out = append(out, de)
			}
			off = de.Offset
		}
	}
}

// printEntries writes ents one per line: names only, or long like ls -l
// with numbers right-aligned and owner and group left-aligned.
func printEntries(w io.Writer, ents []entry, long bool, names *idNames) {
	if !long {
		for _, e := range ents {
			fmt.Fprintln(w, e.name)
		}
		return
	}
	rows := make([][5]string, len(ents))
	var width [5]int
	for i, e := range ents {
		rows[i] = [5]string{
			modeString(e.attr.Mode),
			strconv.FormatUint(uint64(e.attr.NLink), 10),
			names.user(uint32(e.attr.UID)),
			names.group(uint32(e.attr.GID)),
			strconv.FormatUint(e.attr.Size, 10),
		}
		for k, col := range rows[i] {
			width[k] = max(width[k], len(col))
		}
	}
	now := time.Now()
	for i, e := range ents {
		r := rows[i]
		name := e.name
		if e.attr.Mode.IsSymlink() {
			name += " -> " + e.target
		}
		mtime := time.Unix(int64(e.attr.MTimeSeconds), int64(e.attr.MTimeNanoSeconds))
		fmt.Fprintf(w, "%s %*s %-*s %-*s %*s %s %s\n",
			r[0], width[1], r[1], width[2], r[2], width[3], r[3], width[4], r[4],
			lsTime(mtime, now), name)
	}
}

// modeString renders a mode as ls does: type letter, then rwx triples with
// setuid, setgid and sticky folded in (s/S, t/T).
func modeString(m p9.FileMode) string {
	var b [10]byte
	switch m.FileType() {
	case p9.ModeDirectory:
		b[0] = 'd'
	case p9.ModeSymlink:
		b[0] = 'l'
	case p9.ModeNamedPipe:
		b[0] = 'p'
	case p9.ModeSocket:
		b[0] = 's'
	case p9.ModeCharacterDevice:
		b[0] = 'c'
	case p9.ModeBlockDevice:
		b[0] = 'b'
	default:
		b[0] = '-'
	}
	const rwx = "rwxrwxrwx"
	for i := 0; i < 9; i++ {
		if m&(1<<(8-i)) != 0 {
			b[1+i] = rwx[i]
		} else {
			b[1+i] = '-'
		}
	}
	special := func(i int, bit p9.FileMode, set, unset byte) {
		if m&bit == 0 {
			return
		}
		if b[i] == 'x' {
			b[i] = set
		} else {
			b[i] = unset
		}
	}
	special(3, 0o4000, 's', 'S')
	special(6, 0o2000, 's', 'S')
	special(9, 0o1000, 't', 'T')
	return string(b[:])
}

// lsTime formats t as ls does: month, day and time within half a year of
// now, else month, day and year.
func lsTime(t, now time.Time) string {
	const halfYear = 182 * 24 * time.Hour
	if t.After(now.Add(-halfYear)) && !t.After(now.Add(time.Hour)) {
		return t.Format("Jan _2 15:04")
	}
	return t.Format("Jan _2  2006")
}

// idNames caches uid and gid names of this host; ids it has no name for
// print as numbers.
type idNames struct {
	users, groups map[uint32]string
}

func newIDNames() *idNames {
	return &idNames{users: map[uint32]string{}, groups: map[uint32]string{}}
}

func (n *idNames) user(id uint32) string {
	if s, ok := n.users[id]; ok {
		return s
	}
	s := strconv.FormatUint(uint64(id), 10)
	if u, err := user.LookupId(s); err == nil {
		s = u.Username
	}
	n.users[id] = s
	return s
}

func (n *idNames) group(id uint32) string {
	if s, ok := n.groups[id]; ok {
		return s
	}
	s := strconv.FormatUint(uint64(id), 10)
	if g, err := user.LookupGroupId(s); err == nil {
		s = g.Name
	}
	n.groups[id] = s
	return s
}
