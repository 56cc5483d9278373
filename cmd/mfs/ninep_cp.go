package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"
	"github.com/schollz/progressbar/v3"
	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"
	"golang.org/x/term"

	"mfs/internal/dial"
	"mfs/internal/fcall"
)

// How much of a copy is in flight at once, over the one connection.
const (
	cpWorkers = 8  // files
	cpStreams = 4  // chunks of one large file
	cpBuffers = 16 // chunk buffers in use, all files together: memory is at most cpBuffers×msize
)

// A copy shows a progress bar on a terminal when it has more files or bytes
// than these.
const (
	cpBarFiles = 10
	cpBarBytes = 1 << 20
)

// Errors of cp and of mv across nodes.
var (
	errCpOmitDir    = errors.New("omitting directory (copy directories with -r)")
	errCpSpecial    = errors.New("not a regular file, directory or symlink: skipped")
	errCpSameFile   = errors.New("are the same file")
	errCpIntoItself = errors.New("cannot copy a directory into itself")
	errCpNotDirDst  = errors.New("exists and is not a directory")
)

func cpVerb() verb {
	return verb{
		name:  "cp",
		usage: "copy files and trees between this host and 9P, or between nodes",
		args:  "[-r] [-p] SRC… DST",
		examples: `Copies as cp(1) does, with paths written as scp(1) writes them: a path
with a leading ':' is a 9P path (":/2/tmp/x", as scp writes host:path),
anything else is a local path. So a copy goes up (local to 9P), down (9P to
local) or between nodes (":/1/x" to ":/2/x"; the data passes through this
process). At least one path must be a 9P path; a local file whose name
starts with ':' is "./:name".

With one SRC, DST is the copy, or the directory to copy into if it is one;
with several, DST must be a directory. Existing files are overwritten.
Directories need -r, which copies symlinks as symlinks and skips fifos,
sockets and devices (one line each on stderr). Without -r a local symlink
is followed, as cp(1) does; a 9P symlink is always copied as a symlink
(9P never follows links).

Modes are always kept, setuid, setgid and sticky bits too, whatever the
umask. With -p, owner and group are kept where the receiving side allows
it (a refusal is not an error, as with cp -p), and so are the access and
modification times. Up to 8 files are in flight at once over the one
connection, a large file in concurrent chunks. On a terminal, a copy of
more than 10 files or 1 MiB shows a progress bar on stderr.

Each failure is one line on stderr and the copy goes on with the rest; the
exit status is then 1.

Examples:
   mfs 9p cp ./notes.txt :/2/tmp/
   mfs 9p cp -r ./project :/2/tmp/project
   mfs 9p cp -rp :/2/tmp/project ./project.bak
   mfs 9p cp -r :/1/data :/3/data
   mfs 9p cp :/1/etc/hostname ./hostname.1`,
		flags: []cli.Flag{
			&cli.BoolFlag{Name: "r", Aliases: []string{"R"}, Usage: "copy directories and everything in them"},
			&cli.BoolFlag{Name: "p", Usage: "keep owner, group and times too (modes are always kept)"},
		},
		shortOpts: true,
		min:       2, max: -1,
		check: func(c *cli.Context, args []string) error {
			if !slices.ContainsFunc(args, isNinepArg) {
				return usagef("cp: no 9P path: write one with a leading ':', as in :/2/tmp/x")
			}
			return nil
		},
		run: func(s *session, c *cli.Context, args []string) error {
			cp := newCopier(s, "cp", ":", c.Bool("r"), c.Bool("p"), cpErrWriter(c))
			return cp.copyArgs(args[:len(args)-1], args[len(args)-1])
		},
	}
}

// isNinepArg reports whether a cp argument names a 9P path.
func isNinepArg(a string) bool { return strings.HasPrefix(a, ":") }

// cpErrWriter is where a verb's lines beside its result go: stderr.
func cpErrWriter(c *cli.Context) io.Writer {
	if c.App.ErrWriter != nil {
		return c.App.ErrWriter
	}
	return os.Stderr
}

// copier copies a planned list of items in three steps: the directories,
// parents first; then files and symlinks, cpWorkers at once; then the
// directories' modes and times, children first (filling a directory
// changes its mtime, and a read-only one can be filled only before its mode
// is set).
type copier struct {
	op                  string // "cp" or "mv": the first word of error lines
	recursive, preserve bool
	local, remote       cpFS
	chunk               int // bytes per read and write: msize less the 9P header
	errw                io.Writer
	report              *cpReport

	items []cpItem
	files int   // regular files planned
	bytes int64 // their size

	prog  *cpProgress
	slots chan struct{} // one per chunk buffer in use
	bufs  sync.Pool
}

// cpItem is one file, directory or symlink to copy.
type cpItem struct {
	from, to cpFS
	src, dst string
	attr     cpAttr
	parent   int  // index of the directory item holding it; -1 at the top
	existed  bool // a directory that was there already: copied into
	failed   bool // a directory not made: nothing in it is copied
}

// newCopier returns a copier on session s; prefix is how error lines write
// a 9P path (":/2/x" for cp, "/2/x" for mv).
func newCopier(s *session, op, prefix string, recursive, preserve bool, errw io.Writer) *copier {
	c := &copier{
		op: op, recursive: recursive, preserve: preserve,
		local:  cpLocal{},
		remote: &cpNinep{s: s, prefix: prefix},
		chunk:  int(s.conn.MSize) - fcall.IOHeaderSize,
		errw:   errw,
		report: &cpReport{w: errw},
		slots:  make(chan struct{}, cpBuffers),
	}
	c.bufs.New = func() any {
		b := make([]byte, c.chunk)
		return &b
	}
	return c
}

// side returns the file system and path a cp argument names.
func (c *copier) side(arg string) (cpFS, string) {
	if isNinepArg(arg) {
		return c.remote, cleanPath(arg[1:])
	}
	return c.local, arg
}

// copyArgs copies srcs to dst as cp(1) does and returns the last failure
// (the earlier ones are on stderr already), or nil.
func (c *copier) copyArgs(srcs []string, dst string) error {
	dfs, dpath := c.side(dst)
	da, derr := dfs.stat(dpath)
	intoDir := derr == nil && da.isDir()
	if len(srcs) > 1 && !intoDir {
		if derr == nil {
			derr = unix.ENOTDIR
		}
		return opErr(c.op, derr, dfs.show(dpath))
	}
	for _, a := range srcs {
		sfs, spath := c.side(a)
		c.planArg(sfs, spath, dfs, dpath, intoDir, strings.HasSuffix(dst, "/"))
	}
	c.run()
	return c.report.err()
}

// planArg plans the copy of one command-line source.
func (c *copier) planArg(sfs cpFS, spath string, dfs cpFS, dpath string, intoDir, dstSlash bool) {
	stat := sfs.lstat
	if !c.recursive {
		stat = sfs.stat
	}
	a, err := stat(spath)
	if err != nil {
		c.report.add(opErr(c.op, err, sfs.show(spath)))
		return
	}
	if a.isDir() && !c.recursive {
		c.report.add(opErr(c.op, errCpOmitDir, sfs.show(spath)))
		return
	}
	target := dpath
	if intoDir {
		if b := sfs.base(spath); b != "" {
			target = dfs.join(dpath, b)
		}
	} else if dstSlash && !a.isDir() {
		c.report.add(opErr(c.op, unix.ENOTDIR, dfs.show(dpath)))
		return
	}
	if sfs == dfs {
		from, to := sfs.abs(spath), dfs.abs(target)
		same := from == to
		if !same && !a.isDir() {
			// Another name of the same file (/here/x and /1/x).
			t, err := dfs.lstat(target)
			same = err == nil && t.sameFile(a)
		}
		switch {
		case same:
			c.report.add(opErr(c.op, errCpSameFile, sfs.show(spath), dfs.show(target)))
			return
		case a.isDir() && (from == "/" || strings.HasPrefix(to, from+"/")):
			c.report.add(opErr(c.op, errCpIntoItself, sfs.show(spath), dfs.show(target)))
			return
		}
	}
	c.plan(sfs, spath, dfs, target, a, -1)
}

// plan adds src, and everything in it if it is a directory, to the items.
func (c *copier) plan(sfs cpFS, src string, dfs cpFS, dst string, a cpAttr, parent int) {
	switch a.kind() {
	case unix.S_IFREG:
		c.files++
		c.bytes += a.size
	case unix.S_IFDIR, unix.S_IFLNK:
	default:
		c.report.add(opErr(c.op, errCpSpecial, sfs.show(src)))
		return
	}
	c.items = append(c.items, cpItem{from: sfs, to: dfs, src: src, dst: dst, attr: a, parent: parent})
	if !a.isDir() {
		return
	}
	self := len(c.items) - 1
	ents, err := sfs.list(src)
	if err != nil {
		c.report.add(opErr(c.op, err, sfs.show(src)))
		return
	}
	for _, e := range ents {
		c.plan(sfs, sfs.join(src, e.name), dfs, dfs.join(dst, e.name), e.attr, self)
	}
}

// run copies the planned items.
func (c *copier) run() {
	c.prog = newCpProgress(c.errw, c.files, c.bytes)
	c.report.setProgress(c.prog)
	defer c.prog.finish()

	for i := range c.items {
		it := &c.items[i]
		if !it.attr.isDir() {
			continue
		}
		if it.parent >= 0 && c.items[it.parent].failed {
			it.failed = true
			continue
		}
		var err error
		it.existed, err = c.mkdir(it)
		if err != nil {
			it.failed = true
			c.report.add(opErr(c.op, err, it.to.show(it.dst)))
		}
	}

	jobs := make(chan *cpItem)
	var wg sync.WaitGroup
	for range cpWorkers {
		wg.Go(func() {
			for it := range jobs {
				if err := c.copyOne(it); err != nil {
					c.report.add(err)
				}
			}
		})
	}
	for i := range c.items {
		it := &c.items[i]
		if !it.attr.isDir() && (it.parent < 0 || !c.items[it.parent].failed) {
			jobs <- it
		}
	}
	close(jobs)
	wg.Wait()

	for i := len(c.items) - 1; i >= 0; i-- {
		it := &c.items[i]
		if !it.attr.isDir() || it.failed || (it.existed && !c.preserve) {
			continue // cp(1) leaves the mode of a directory it copied into
		}
		if err := it.to.setAttr(it.dst, it.attr, c.preserve); err != nil {
			c.report.add(opErr(c.op, err, it.to.show(it.dst)))
		}
	}
}

// mkdir makes the directory of it, or finds it there already.
func (c *copier) mkdir(it *cpItem) (existed bool, err error) {
	err = it.to.mkdir(it.dst, it.attr, c.preserve)
	if !cpIs(err, unix.EEXIST) {
		return false, err
	}
	t, err := it.to.lstat(it.dst)
	if err != nil {
		return false, err
	}
	if !t.isDir() {
		return false, errCpNotDirDst
	}
	return true, nil
}

// copyOne copies the file or symlink it and returns its failure as the
// line to print.
func (c *copier) copyOne(it *cpItem) error {
	defer c.prog.fileDone()
	if it.attr.kind() == unix.S_IFLNK {
		return c.copySymlink(it)
	}
	r, err := it.from.open(it.src)
	if err != nil {
		return opErr(c.op, err, it.from.show(it.src))
	}
	defer r.Close()
	w, err := it.to.create(it.dst, it.attr, c.preserve)
	if err != nil {
		return opErr(c.op, err, it.to.show(it.dst))
	}
	if err := c.copyData(r, w, it.attr.size); err != nil {
		w.Close()
		var re *cpReadError
		if errors.As(err, &re) {
			return opErr(c.op, re.err, it.from.show(it.src))
		}
		return opErr(c.op, err, it.to.show(it.dst))
	}
	err = w.finish(it.attr, c.preserve)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	return opErr(c.op, err, it.to.show(it.dst))
}

// copySymlink makes a symlink with the source's target, replacing a file
// or symlink in its way as cp -r does.
func (c *copier) copySymlink(it *cpItem) error {
	target, err := it.from.readlink(it.src)
	if err != nil {
		return opErr(c.op, err, it.from.show(it.src))
	}
	err = it.to.symlink(target, it.dst, it.attr, c.preserve)
	if cpIs(err, unix.EEXIST) {
		if t, lerr := it.to.lstat(it.dst); lerr == nil && t.isDir() {
			err = unix.EISDIR
		} else if err = it.to.remove(it.dst, false); err == nil {
			err = it.to.symlink(target, it.dst, it.attr, c.preserve)
		}
	}
	if err == nil && c.preserve {
		err = it.to.setAttr(it.dst, it.attr, true)
	}
	return opErr(c.op, err, it.to.show(it.dst))
}

// cpReadError is a failure of copyData on the source's side; any other is
// the destination's.
type cpReadError struct{ err error }

func (e *cpReadError) Error() string { return "read: " + errText(e.err) }

// Unwrap returns the cause.
func (e *cpReadError) Unwrap() error { return e.err }

// copyData copies r to w: the size the source had when planned in
// concurrent chunks if that is more than one chunk, then on to where the
// source ends.
func (c *copier) copyData(r cpReader, w cpWriter, size int64) error {
	chunk := int64(c.chunk)
	off := int64(0)
	if streams := min(cpStreams, (size+chunk-1)/chunk); streams > 1 {
		var (
			next  atomic.Int64
			mu    sync.Mutex
			first error
			end   = size // where the source turned out to end, if sooner
		)
		var wg sync.WaitGroup
		for range streams {
			wg.Go(func() {
				for {
					o := next.Add(chunk) - chunk
					mu.Lock()
					stop := o >= end || first != nil
					mu.Unlock()
					if stop {
						return
					}
					want := min(chunk, size-o)
					n, err := c.copyChunk(r, w, o, want)
					if err == nil && n == want {
						continue
					}
					mu.Lock()
					if err != nil && first == nil {
						first = err
					} else if err == nil && o+n < end {
						end = o + n
					}
					mu.Unlock()
					return
				}
			})
		}
		wg.Wait()
		if first != nil {
			return first
		}
		if end < size { // the source shrank under us
			return w.truncate(end)
		}
		off = size
	}
	for {
		n, err := c.copyChunk(r, w, off, chunk)
		if err != nil {
			return err
		}
		off += n
		// A short read past the planned size is the end: one read for
		// a small file. A file of unknown size (0) ends at the first.
		if n == 0 || (n < chunk && off >= size) {
			return nil
		}
	}
}

// copyChunk copies up to n bytes at off, through one of the copier's
// buffers, and returns how many it copied.
func (c *copier) copyChunk(r cpReader, w cpWriter, off, n int64) (int64, error) {
	c.slots <- struct{}{}
	defer func() { <-c.slots }()
	bp := c.bufs.Get().(*[]byte)
	defer c.bufs.Put(bp)
	buf := (*bp)[:n]
	m, err := r.ReadAt(buf, off)
	if err != nil && !errors.Is(err, io.EOF) {
		return 0, &cpReadError{err: cpLocalErr(err)}
	}
	if m > 0 {
		if _, err := w.WriteAt(buf[:m], off); err != nil {
			return 0, cpLocalErr(err)
		}
		c.prog.add(m)
	}
	return int64(m), nil
}

// cpReport reports the failures of a copy as they happen, one line each in
// the form main prints a verb's error. The last is held back for the verb
// to return, so that main prints it and exits 1: every failure once, in
// order.
type cpReport struct {
	mu   sync.Mutex
	w    io.Writer
	prog *cpProgress
	last error
}

// add reports err.
func (r *cpReport) add(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.last != nil {
		r.prog.clear()
		fmt.Fprintln(r.w, errorLine(commandErr("9p", r.last)))
	}
	r.last = err
}

// setProgress makes lines wipe the bar p before they are printed.
func (r *cpReport) setProgress(p *cpProgress) {
	r.mu.Lock()
	r.prog = p
	r.mu.Unlock()
}

// err returns the failure not printed yet, or nil if there was none.
func (r *cpReport) err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last
}

// cpShowProgress decides whether a copy of files regular files holding
// bytes shows a progress bar: only on a terminal, and only for a copy that
// takes long enough to watch.
func cpShowProgress(tty bool, files int, bytes int64) bool {
	return tty && (files > cpBarFiles || bytes > cpBarBytes)
}

// cpIsTerminal reports whether w is a terminal.
func cpIsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// cpProgress is the progress bar of a copy: bytes copied, files done in
// its description. A nil bar draws nothing.
type cpProgress struct {
	bar   *progressbar.ProgressBar
	files int
	done  atomic.Int64
}

// newCpProgress returns the progress of a copy to draw on w, silent
// unless cpShowProgress says otherwise.
func newCpProgress(w io.Writer, files int, bytes int64) *cpProgress {
	p := &cpProgress{files: files}
	if !cpShowProgress(cpIsTerminal(w), files, bytes) {
		return p
	}
	// One more than the bytes: the bar is full when finish says so, not
	// when the last byte is written while files are still being finished.
	p.bar = progressbar.NewOptions64(bytes+1,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(fmt.Sprintf("0/%d files", files)),
		progressbar.OptionShowBytes(true),
		progressbar.OptionShowCount(),
		progressbar.OptionShowTotalBytes(true),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
	)
	return p
}

func (p *cpProgress) add(n int) {
	if p != nil && p.bar != nil {
		p.bar.Add(n)
	}
}

func (p *cpProgress) fileDone() {
	if p != nil && p.bar != nil {
		p.bar.Describe(fmt.Sprintf("%d/%d files", p.done.Add(1), p.files))
	}
}

func (p *cpProgress) clear() {
	if p != nil && p.bar != nil {
		p.bar.Clear()
	}
}

func (p *cpProgress) finish() {
	if p != nil && p.bar != nil {
		p.bar.Finish()
	}
}

// cpAttr is what a copy keeps of a file.
type cpAttr struct {
	mode         uint32 // type and permissions, as Linux spells them (so does p9.FileMode)
	size         int64
	uid, gid     uint32
	atime, mtime unix.Timespec
	dev, ino     uint64 // which file it is (the qid path on 9P)
}

func (a cpAttr) kind() uint32 { return a.mode & unix.S_IFMT }
func (a cpAttr) isDir() bool  { return a.kind() == unix.S_IFDIR }

// sameFile reports whether a and b are one file by two names: the same
// inode (qid path) and, as a qid path alone may not say, size and mtime.
func (a cpAttr) sameFile(b cpAttr) bool {
	return a.ino == b.ino && a.dev == b.dev && a.size == b.size && a.mtime == b.mtime
}

// cpEnt is a directory entry and its attributes.
type cpEnt struct {
	name string
	attr cpAttr
}

// cpFS is one side of a copy: this host, or the session's 9P tree. Paths
// are the side's own; errors carry an errno and no path (the caller's line
// names it).
type cpFS interface {
	lstat(p string) (cpAttr, error)
	stat(p string) (cpAttr, error)    // follows a final symlink where the side can
	list(dir string) ([]cpEnt, error) // without . and ..
	readlink(p string) (string, error)
	open(p string) (cpReader, error)
	create(p string, a cpAttr, preserve bool) (cpWriter, error) // or truncate
	mkdir(p string, a cpAttr, preserve bool) error              // owner-writable until setAttr
	symlink(target, p string, a cpAttr, preserve bool) error
	remove(p string, dir bool) error
	setAttr(p string, a cpAttr, preserve bool) error // mode; owner and times too with preserve
	join(dir, name string) string
	base(p string) string // the last name; "" for a root or "."
	abs(p string) string  // to compare paths of one side
	show(p string) string // for error lines
}

// cpReader reads an open source file.
type cpReader interface {
	io.ReaderAt
	io.Closer
}

// cpWriter writes an open, new or truncated, destination file.
type cpWriter interface {
	io.WriterAt
	truncate(size int64) error
	finish(a cpAttr, preserve bool) error // as setAttr, on the open file
	Close() error
}

// cpErrno returns the errno err carries, from the server or this host.
func cpErrno(err error) (unix.Errno, bool) {
	if e, ok := errnoOf(err); ok {
		return unix.Errno(e), true
	}
	var e unix.Errno
	ok := errors.As(err, &e)
	return e, ok
}

// cpIs reports whether err carries the errno e.
func cpIs(err error, e unix.Errno) bool {
	got, ok := cpErrno(err)
	return ok && got == e
}

// cpChownRefused reports whether a chown failed as cp -p lets it fail:
// not permitted, or an id the receiving side cannot represent.
func cpChownRefused(err error) bool {
	return cpIs(err, unix.EPERM) || cpIs(err, unix.EINVAL)
}

// cpNinep is the session's 9P tree as a side of a copy.
type cpNinep struct {
	s      *session
	prefix string
}

// cpWalkGetAttr walks names from dir and returns the new fid, its qid and its
// attributes, in one round trip where it can (client.File.WalkGetAttr).
func cpWalkGetAttr(dir p9.File, names []string) (p9.File, p9.QID, p9.Attr, error) {
	if len(names) == 0 || len(names) > maxWalk {
		f, err := walkFrom(dir, names)
		if err != nil {
			return nil, p9.QID{}, p9.Attr{}, err
		}
		q, _, a, err := f.GetAttr(p9.AttrMaskAll)
		if err != nil {
			f.Close()
			return nil, p9.QID{}, p9.Attr{}, err
		}
		return f, q, a, nil
	}
	qids, f, _, a, err := dir.WalkGetAttr(names)
	if err != nil {
		return nil, p9.QID{}, p9.Attr{}, err
	}
	if len(qids) < len(names) {
		f.Close()
		return nil, p9.QID{}, p9.Attr{}, linux.ENOENT
	}
	return f, qids[len(qids)-1], a, nil
}

// cpAttr9 converts 9P attributes.
func cpAttr9(q p9.QID, a p9.Attr) cpAttr {
	return cpAttr{
		mode:  uint32(a.Mode),
		size:  int64(a.Size),
		uid:   uint32(a.UID),
		gid:   uint32(a.GID),
		atime: unix.Timespec{Sec: int64(a.ATimeSeconds), Nsec: int64(a.ATimeNanoSeconds)},
		mtime: unix.Timespec{Sec: int64(a.MTimeSeconds), Nsec: int64(a.MTimeNanoSeconds)},
		ino:   q.Path,
	}
}

func (n *cpNinep) lstat(p string) (cpAttr, error) {
	f, q, a, err := cpWalkGetAttr(n.s.root, splitPath(p))
	if err != nil {
		return cpAttr{}, err
	}
	f.Close()
	return cpAttr9(q, a), nil
}

func (n *cpNinep) stat(p string) (cpAttr, error) { return n.lstat(p) }

func (n *cpNinep) list(dir string) ([]cpEnt, error) {
	d, err := n.s.walk(dir)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	if _, _, err := d.Open(p9.ReadOnly); err != nil {
		return nil, err
	}
	var ents []cpEnt
	for off := uint64(0); ; {
		dirents, err := d.Readdir(off, n.s.conn.MSize-64)
		if err != nil {
			return nil, err
		}
		if len(dirents) == 0 {
			break
		}
		for _, de := range dirents {
			if de.Name != "." && de.Name != ".." {
				ents = append(ents, cpEnt{name: de.Name})
			}
			off = de.Offset
		}
	}
	// One walk and getattr per entry, cpWorkers at once; an entry gone
	// since the Treaddir is left out.
	errs := make([]error, len(ents))
	sem := make(chan struct{}, cpWorkers)
	var wg sync.WaitGroup
	for i := range ents {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			f, q, a, err := cpWalkGetAttr(d, []string{ents[i].name})
			if err != nil {
				errs[i] = err
				return
			}
			f.Close()
			ents[i].attr = cpAttr9(q, a)
		})
	}
	wg.Wait()
	kept := ents[:0]
	for i, e := range ents {
		switch {
		case errs[i] == nil:
			kept = append(kept, e)
		case !isNotExist(errs[i]):
			return nil, fmt.Errorf("%s: %w", e.name, errs[i])
		}
	}
	slices.SortFunc(kept, func(a, b cpEnt) int { return strings.Compare(a.name, b.name) })
	return kept, nil
}

func (n *cpNinep) readlink(p string) (string, error) {
	f, err := n.s.walk(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	return f.Readlink()
}

func (n *cpNinep) open(p string) (cpReader, error) {
	f, err := n.s.walk(p)
	if err != nil {
		return nil, err
	}
	if _, _, err := f.Open(p9.ReadOnly); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// owner is the owner a new file is made with: the source's with
// preserve, else ours.
func (n *cpNinep) owner(a cpAttr, preserve bool) (p9.UID, p9.GID) {
	if preserve {
		return p9.UID(a.uid), p9.GID(a.gid)
	}
	return p9.UID(os.Getuid()), p9.GID(os.Getgid())
}

// parent walks to the directory p is to be made in; the attach root is
// there already.
func (n *cpNinep) parent(p string) (p9.File, string, error) {
	dir, name, err := n.s.walkParent(p)
	if errors.Is(err, linux.EBUSY) {
		return nil, "", linux.EEXIST
	}
	return dir, name, err
}

func (n *cpNinep) create(p string, a cpAttr, preserve bool) (cpWriter, error) {
	dir, name, err := n.parent(p)
	if isExist(err) {
		return nil, linux.EISDIR
	}
	if err != nil {
		return nil, err
	}
	defer dir.Close()
	uid, gid := n.owner(a, preserve)
	f, _, _, err := dir.Create(name, p9.WriteOnly, p9.FileMode(a.mode&0o777), uid, gid)
	if err == nil {
		return cpNinepWriter{f}, nil
	}
	if !isExist(err) {
		return nil, err
	}
	if f, err = walkFrom(dir, []string{name}); err != nil {
		return nil, err
	}
	_, _, old, err := f.GetAttr(p9.AttrMask{Mode: true, Size: true})
	switch {
	case err != nil:
	case old.Mode.IsDir():
		err = linux.EISDIR
	case old.Mode.IsSymlink():
		err = symlinkError(f)
	default:
		if _, _, err = f.Open(p9.WriteOnly); err == nil && old.Size > 0 {
			err = f.SetAttr(p9.SetAttrMask{Size: true}, p9.SetAttr{})
		}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return cpNinepWriter{f}, nil
}

func (n *cpNinep) mkdir(p string, a cpAttr, preserve bool) error {
	dir, name, err := n.parent(p)
	if err != nil {
		return err
	}
	defer dir.Close()
	uid, gid := n.owner(a, preserve)
	_, err = dir.Mkdir(name, p9.FileMode(0o700|a.mode&0o777), uid, gid)
	return err
}

func (n *cpNinep) symlink(target, p string, a cpAttr, preserve bool) error {
	dir, name, err := n.parent(p)
	if err != nil {
		return err
	}
	defer dir.Close()
	uid, gid := n.owner(a, preserve)
	_, err = dir.Symlink(target, name, uid, gid)
	return err
}

func (n *cpNinep) remove(p string, isDir bool) error {
	dir, name, err := n.s.walkParent(p)
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

func (n *cpNinep) setAttr(p string, a cpAttr, preserve bool) error {
	f, err := n.s.walk(p)
	if err != nil {
		return err
	}
	defer f.Close()
	return cpSetAttr9(f, a, preserve)
}

func (n *cpNinep) join(dir, name string) string { return path.Join(dir, name) }
func (n *cpNinep) abs(p string) string          { return cleanPath(p) }
func (n *cpNinep) show(p string) string         { return n.prefix + p }

func (n *cpNinep) base(p string) string {
	if b := path.Base(cleanPath(p)); b != "/" {
		return b
	}
	return ""
}

// cpSetAttr9 gives the file f the owner (with preserve), then the mode
// (a chown clears setuid bits), then the times (with preserve) of a. A
// symlink has no mode of its own.
func cpSetAttr9(f p9.File, a cpAttr, preserve bool) error {
	link := a.kind() == unix.S_IFLNK
	if preserve {
		err := f.SetAttr(p9.SetAttrMask{UID: true, GID: true}, p9.SetAttr{UID: p9.UID(a.uid), GID: p9.GID(a.gid)})
		if cpChownRefused(err) {
			err = f.SetAttr(p9.SetAttrMask{GID: true}, p9.SetAttr{GID: p9.GID(a.gid)})
		}
		if err != nil && !cpChownRefused(err) && !(link && unsupported(err)) {
			return err
		}
	}
	var mask p9.SetAttrMask
	var sa p9.SetAttr
	if !link {
		mask.Permissions, sa.Permissions = true, p9.FileMode(a.mode&0o7777)
	}
	if preserve {
		mask.ATime, mask.ATimeNotSystemTime, mask.MTime, mask.MTimeNotSystemTime = true, true, true, true
		sa.ATimeSeconds, sa.ATimeNanoSeconds = uint64(a.atime.Sec), uint64(a.atime.Nsec)
		sa.MTimeSeconds, sa.MTimeNanoSeconds = uint64(a.mtime.Sec), uint64(a.mtime.Nsec)
	}
	if mask == (p9.SetAttrMask{}) {
		return nil
	}
	err := f.SetAttr(mask, sa)
	if link && unsupported(err) {
		return nil // a server that cannot set a symlink's times
	}
	return err
}

// cpNinepWriter is a destination file on 9P.
type cpNinepWriter struct{ p9.File }

func (w cpNinepWriter) truncate(size int64) error {
	return w.SetAttr(p9.SetAttrMask{Size: true}, p9.SetAttr{Size: uint64(size)})
}

func (w cpNinepWriter) finish(a cpAttr, preserve bool) error {
	return cpSetAttr9(w.File, a, preserve)
}

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

// moveAcross moves oldp to newp on another node as mv(1) moves across file
// systems: it copies the tree keeping everything cp -rp keeps, then removes
// the source, and only if every part was copied. As with a rename, newp may
// be a file a file replaces or an empty directory a directory replaces.
func (s *session) moveAcross(oldp, newp string, errw io.Writer) error {
	c := newCopier(s, "mv", "", true, true, errw)
	n := c.remote
	a, err := n.lstat(oldp)
	if err != nil {
		return err
	}
	if t, err := n.lstat(newp); err == nil {
		switch {
		case t.sameFile(a):
			return errCpSameFile // copying would truncate it, removing would lose it
		case t.isDir() && !a.isDir():
			return linux.EISDIR
		case !t.isDir() && a.isDir():
			return linux.ENOTDIR
		case t.isDir():
			ents, err := n.list(newp)
			if err != nil {
				return err
			}
			if len(ents) > 0 {
				return linux.ENOTEMPTY
			}
		}
	}
	c.plan(n, oldp, n, newp, a, -1)
	c.run()
	if err := c.report.err(); err != nil {
		return err
	}
	for i := len(c.items) - 1; i >= 0; i-- {
		it := &c.items[i]
		if err := n.remove(it.src, it.attr.isDir()); err != nil {
			c.report.add(opErr("mv", err, it.src))
		}
	}
	return c.report.err()
}
