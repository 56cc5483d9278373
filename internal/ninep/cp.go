package ninep

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"mfs/internal/clierr"
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
				return clierr.Usagef("cp: no 9P path: write one with a leading ':', as in :/2/tmp/x")
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
	files int   // regular files and symlinks planned
	bytes int64 // the regular files' size

	copied atomic.Int64 // files and symlinks copied
	down   atomic.Pointer[cpDown]

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
	if c.down.Load() != nil {
		return // a node is down: no more lines about it
	}
	switch a.kind() {
	case unix.S_IFREG:
		c.files++
		c.bytes += a.size
	case unix.S_IFLNK:
		c.files++ // copied, so counted: the bar's total is what is copied
	case unix.S_IFDIR:
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
		c.fail(opErr(c.op, err, sfs.show(src)))
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
		if c.down.Load() != nil {
			it.failed = true
			continue
		}
		var err error
		it.existed, err = c.mkdir(it)
		if err != nil {
			it.failed = true
			c.fail(opErr(c.op, err, it.to.show(it.dst)))
		}
	}

	jobs := make(chan *cpItem)
	var wg sync.WaitGroup
	for range cpWorkers {
		wg.Go(func() {
			for it := range jobs {
				if c.down.Load() != nil {
					continue
				}
				if err := c.copyOne(it); err != nil {
					c.fail(err)
				} else {
					c.copied.Add(1)
				}
			}
		})
	}
	for i := range c.items {
		it := &c.items[i]
		if c.down.Load() != nil {
			break
		}
		if !it.attr.isDir() && (it.parent < 0 || !c.items[it.parent].failed) {
			jobs <- it
		}
	}
	close(jobs)
	wg.Wait()

	if d := c.down.Load(); d != nil {
		d.copied, d.files = int(c.copied.Load()), c.files
		c.prog.stop()
		c.report.add(d)
		return
	}
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

// fail reports err, one of the copy's failures, unless a node was found
// down before: then err is about that too, and says nothing new. A node
// found down (EHOSTDOWN, EHOSTUNREACH: the namespace reports it so, or the
// connection to the serving node is gone) stops the copy: every file
// still to copy would fail the same way, a line each.
func (c *copier) fail(err error) {
	if c.down.Load() != nil {
		return
	}
	if cpIs(err, unix.EHOSTDOWN) || cpIs(err, unix.EHOSTUNREACH) {
		c.down.CompareAndSwap(nil, &cpDown{err: err})
		return
	}
	c.report.add(err)
}

// cpDown is a copy stopped because a node is down: the failure that said
// so, and how many files (and symlinks) were copied of how many.
type cpDown struct {
	err           error
	copied, files int
}

func (d *cpDown) Error() string {
	return fmt.Sprintf("%s; stopped: %d of %d files copied", d.err.Error(), d.copied, d.files)
}

// Unwrap returns the failure.
func (d *cpDown) Unwrap() error { return d.err }

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
		fmt.Fprintln(r.w, errorLine(r.last))
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

// errorLine is err as main (cmd/mfs) prints an error of `mfs 9p`: "mfs 9p: "
// and err's text on one line.
func errorLine(err error) string {
	return "mfs 9p: " + strings.ReplaceAll(strings.TrimSpace(err.Error()), "\n", "; ")
}
