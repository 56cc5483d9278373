package srv9p_test

// Benchmarks: srv9p against diod, the C 9P2000.L server people use today.
//
// Design. A ratio is only worth something when both sides ran on the same
// machine at the same moment, so every benchmark here runs both servers
// inside one iteration and reports the ratio itself:
//
//   - Each top-level benchmark prepares one directory on disk and serves
//     that same directory with srv9p ("mfs export", built from this
//     checkout) and with diod (started by tests/diodtest), both on loopback
//     TCP, both processes of their own. Inside the test process srv9p would
//     share the client's heap, garbage collector and scheduler, which diod
//     does not; as "mfs export" it runs as users run it. Writes go to
//     per-server names so the two never see each other's files.
//   - Sub-benchmarks are msize settings: "best-1MiB" and "best-4MiB" give
//     srv9p 1 MiB and 4 MiB (diod always gets its largest, 64 KiB), and
//     "equal-64KiB" gives both 64 KiB. The client is mfs's own
//     (internal/client through internal/dial) for both servers; diod is
//     attached with a user name, which it needs.
//   - One iteration runs the operation once against each server. Each run
//     is split into parts (4 MiB of a write, 1/16 of a read, 100 of 2,000
//     creates …) and the servers take turns part by part, alternating who
//     goes first: on a shared machine, load from elsewhere then falls on
//     both alike. Only the operation is timed; set-up (making files to
//     unlink, opening the file, checking the result on disk) is not. Rates
//     are total units over total time across iterations.
//   - Metrics: "srv9p-UNIT" and "diod-UNIT" (UNIT is MiB/s, ops/s or
//     entries/s), "srv9p-p50-us" and the like for latencies, and "ratio"
//     ("p50-ratio", "p99-ratio"), always srv9p's advantage: srv9p rate /
//     diod rate, or diod latency / srv9p latency; above 1 means srv9p is
//     faster.
//     "ratio" is the median over parts of the two servers' rates in the
//     same part, which load coming and going disturbs far less than the
//     ratio of the totals (still computable from the two rates). The
//     sequential read also reports "local-MiB/s", reading the same file
//     from the page cache with pread, the ceiling for any server. ns/op is
//     zeroed: it sums both servers and set-up, and means nothing.
//   - "srv9p-cpu-us/UNIT", "diod-cpu-us/UNIT": each server process's CPU
//     time (all threads, from /proc/PID/task/*/schedstat) per unit of
//     work, and "cpu-ratio", diod's over srv9p's (above 1: srv9p spends
//     less). CPU time hardly depends on what else the machine runs, so it
//     is the steadier figure where wall-clock ratios swing with load.
//   - Without diod (not installed, not root) only srv9p's figures are
//     reported, with one log line saying why.
//
// The client speaks the way the kernel's v9fs client does where the two
// differ from the p9 client's shortcuts: stat is Twalk+Tgetattr+Tclunk (not
// the p9-only Twalkgetattr), unlink falls back to walk+Tremove where diod
// answers Tunlinkat with EOPNOTSUPP (as the kernel does, so diod pays two
// round trips there). Nothing asserts on time; wrong results (a short read,
// a missing directory entry) fail the benchmark.
//
// Run: go test ./srv9p -run '^$' -bench . -benchtime 1x   (about a minute)

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hugelgupf/p9/p9"

	"mfs/internal/dial"
	"mfs/tests/diodtest"
)

// Sizes of the work, as the issue asks for them.
const (
	seqSize     = 256 << 20 // sequential write and read
	chunkSize   = 4 << 20   // bytes handed to one ReadAt/WriteAt call
	smallFiles  = 2000      // create, stat, unlink, latency
	smallSize   = 4 << 10   // create+write size
	readdirSize = 10000     // entries in the listed directory
	readers     = 8         // parallel readers of one file
)

// msizes is one sub-benchmark: the msize each server is asked for.
type msizes struct {
	name        string
	srv9p, diod uint32
}

var configs = []msizes{
	{"best-1MiB", 1 << 20, diodtest.MaxMSize},
	{"best-4MiB", 4 << 20, diodtest.MaxMSize},
	{"equal-64KiB", 64 << 10, 64 << 10},
}

// backend is a running server exporting the fixture directory.
type backend struct {
	name  string
	addr  string
	aname string
	named bool // attach with a user name (diod needs one)
	pid   int  // the server process, whose CPU time is read from /proc
}

// client is one connection to one backend, attached to the export root.
type client struct {
	name string
	conn *dial.Conn
	root p9.File
	dir  string // the exported directory on disk
	pid  int    // the server process
}

// sample is what one timed run of an operation yields.
type sample struct {
	units float64         // bytes, operations or entries
	d     time.Duration   // time the operation took
	lat   []time.Duration // per-operation latencies, for percentiles
}

// fixture is a prepared directory served by every available backend.
type fixture struct {
	dir      string
	backends []backend
}

// newFixture prepares a directory with prepare and serves it with srv9p
// and, when it can run here, diod.
func newFixture(b *testing.B, prepare func(dir string) error) *fixture {
	b.Helper()
	dir := b.TempDir()
	if prepare != nil {
		if err := prepare(dir); err != nil {
			b.Fatalf("prepare %s: %v", dir, err)
		}
	}
	f := &fixture{dir: dir}
	addr, pid := serveSrv9p(b, dir)
	f.backends = append(f.backends, backend{name: "srv9p", addr: addr, aname: "", pid: pid})
	if why := diodtest.Missing("diod"); why != "" {
		b.Logf("diod skipped: %s; reporting srv9p only, no ratios", why)
	} else {
		addr, pid := diodtest.StartDiodPID(b, dir)
		f.backends = append(f.backends, backend{name: "diod", addr: addr, aname: dir, named: true, pid: pid})
	}
	return f
}

// serveSrv9p serves dir with "mfs export" and returns its address, once it
// answers a 9P version exchange, and its process id. The command is built from this checkout
// first (a link from the build cache, about a second).
func serveSrv9p(b *testing.B, dir string) (string, int) {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "mfs")
	build := exec.Command("go", "build", "-o", bin, "./cmd/mfs")
	build.Dir = ".." // tests run in the package directory
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("go build ./cmd/mfs: %v: %s", err, out)
	}
	for attempt := 0; ; attempt++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		var out bytes.Buffer
		cmd := exec.Command(bin, "export", "--root", dir, "--listen", addr)
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		stop := func() {
			cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				<-exited
			}
		}
		deadline := time.Now().Add(20 * time.Second)
		for {
			c, err := dial.Dial(context.Background(), addr, dial.Options{MSize: 64 << 10, Timeout: time.Second})
			if err == nil {
				c.Close()
				b.Cleanup(stop)
				return addr, cmd.Process.Pid
			}
			select {
			case werr := <-exited:
				// Output is safe to read: the command is gone.
				if attempt < 3 && strings.Contains(out.String(), "address already in use") {
					break // someone took the port; try another
				}
				b.Fatalf("mfs export exited (%v): %s", werr, strings.TrimSpace(out.String()))
			case <-time.After(20 * time.Millisecond):
				if time.Now().After(deadline) {
					stop()
					b.Fatalf("mfs export on %s: no 9P answer after 20s: %v: %s", addr, err, strings.TrimSpace(out.String()))
				}
				continue
			}
			break
		}
	}
}

// clients connects to every backend with the msize m gives it.
func (f *fixture) clients(b *testing.B, m msizes) []*client {
	b.Helper()
	var cs []*client
	for _, be := range f.backends {
		msize := m.srv9p
		if be.name == "diod" {
			msize = m.diod
		}
		opts := dial.Options{MSize: msize}
		if be.named {
			opts.UName, opts.UID = "root", 0
		}
		conn, err := dial.Dial(context.Background(), be.addr, opts)
		if err != nil {
			b.Fatalf("dial %s: %v", be.name, err)
		}
		root, err := conn.Attach(be.aname)
		if err != nil {
			conn.Close()
			b.Fatalf("attach %s %q: %v", be.name, be.aname, err)
		}
		b.Cleanup(func() {
			root.Close()
			conn.Close()
		})
		if conn.MSize != msize {
			b.Logf("%s: asked for msize %d, got %d", be.name, msize, conn.MSize)
		}
		cs = append(cs, &client{name: be.name, conn: conn, root: root, dir: f.dir, pid: be.pid})
	}
	return cs
}

// run is one operation on one server, split into parts so that compare can
// interleave the servers part by part: load from elsewhere on the machine
// then falls on both alike instead of on whichever ran during it.
type run struct {
	parts int
	// step does part i and returns what it did and how long it took; it
	// times only the operation itself.
	step func(i int) sample
	// done checks the result and cleans up, untimed; may be nil.
	done func()
}

// participant is one side of a comparison: a server's client, or the local
// page-cache baseline.
type participant struct {
	name  string
	pid   int // the server process; 0 for the local baseline
	start func(iter int) *run
}

// compare runs op against every backend once per iteration, in every msize
// configuration, and reports each backend's rate in unit and srv9p's ratio
// to diod. local, if not nil, runs alongside and is reported as
// "local-UNIT".
func compare(b *testing.B, prepare func(dir string) error, unit string,
	op func(b *testing.B, c *client, iter int) *run, local func(b *testing.B, dir string, iter int) *run) {
	f := newFixture(b, prepare)
	for _, m := range configs {
		b.Run(m.name, func(b *testing.B) {
			var ps []participant
			for _, c := range f.clients(b, m) {
				ps = append(ps, participant{c.name, c.pid, func(iter int) *run { return op(b, c, iter) }})
			}
			if local != nil {
				ps = append(ps, participant{"local", 0, func(iter int) *run { return local(b, f.dir, iter) }})
			}
			total := make(map[string]*sample)
			for _, p := range ps {
				total[p.name] = &sample{}
			}
			// ratios holds srv9p's advantage in each part: the two runs
			// of a part are milliseconds apart, so their ratio shrugs
			// off load that comes and goes; the median of them is the
			// "ratio" reported.
			var ratios []float64
			// cpu is each server's CPU time over all parts of all
			// iterations (a server is idle while the other works).
			cpu := map[string]time.Duration{}
			for iter := range b.N {
				runs := make([]*run, len(ps))
				for i, p := range ps {
					runs[i] = p.start(iter)
				}
				for _, p := range ps {
					if p.pid != 0 {
						cpu[p.name] -= cpuTime(b, p.pid)
					}
				}
				for part := 0; part < runs[0].parts; part++ {
					rate := map[string]float64{}
					// Alternate who goes first, so neither always
					// runs on the other's warm (or cold) caches.
					for k := range ps {
						i := k
						if (iter+part)%2 == 1 {
							i = len(ps) - 1 - k
						}
						s := runs[i].step(part)
						t := total[ps[i].name]
						t.units += s.units
						t.d += s.d
						t.lat = append(t.lat, s.lat...)
						if s.d > 0 {
							rate[ps[i].name] = s.units / s.d.Seconds()
						}
					}
					if rate["srv9p"] > 0 && rate["diod"] > 0 {
						ratios = append(ratios, rate["srv9p"]/rate["diod"])
					}
				}
				for _, p := range ps {
					if p.pid != 0 {
						cpu[p.name] += cpuTime(b, p.pid)
					}
				}
				for _, r := range runs {
					if r.done != nil {
						r.done()
					}
				}
			}
			b.ReportMetric(0, "ns/op")
			rates := map[string]float64{}
			for _, p := range ps {
				if t := total[p.name]; t.d > 0 {
					rates[p.name] = t.units / t.d.Seconds()
					b.ReportMetric(rates[p.name], p.name+"-"+unit)
				}
			}
			if len(ratios) > 0 {
				slices.Sort(ratios)
				b.ReportMetric(ratios[len(ratios)/2], "ratio")
			}
			per := map[string]float64{}
			for _, p := range ps {
				if t := total[p.name]; p.pid != 0 && t.units > 0 {
					per[p.name] = float64(cpu[p.name].Microseconds()) / t.units
					b.ReportMetric(per[p.name], p.name+"-cpu-us/"+strings.TrimSuffix(unit, "/s"))
				}
			}
			if per["srv9p"] > 0 && per["diod"] > 0 {
				b.ReportMetric(per["diod"]/per["srv9p"], "cpu-ratio")
			}
			if len(total["srv9p"].lat) > 0 {
				delete(total, "local")
				reportLatency(b, total)
			}
		})
	}
}

// cpuTime returns the CPU time the threads of process pid have used so
// far: the sum of the first field of /proc/PID/task/*/schedstat
// (nanoseconds; /proc/PID/stat counts only in 10 ms ticks). Threads that
// have ended are not counted; both servers keep theirs.
func cpuTime(b *testing.B, pid int) time.Duration {
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	if err != nil || len(tasks) == 0 {
		b.Fatalf("cpu time of process %d: no /proc/%d/task/*/schedstat (%v)", pid, pid, err)
	}
	var sum time.Duration
	for _, t := range tasks {
		data, err := os.ReadFile(t)
		if err != nil {
			continue // the thread ended since the glob
		}
		var ns int64
		if _, err := fmt.Sscan(string(data), &ns); err == nil {
			sum += time.Duration(ns)
		}
	}
	return sum
}

// reportLatency reports p50 and p99 per backend in µs and srv9p's
// advantage (diod latency / srv9p latency) at each.
func reportLatency(b *testing.B, total map[string]*sample) {
	pct := map[string][2]float64{}
	for name, t := range total {
		slices.Sort(t.lat)
		at := func(p float64) float64 {
			return float64(t.lat[int(p*float64(len(t.lat)-1))].Nanoseconds()) / 1e3
		}
		pct[name] = [2]float64{at(0.50), at(0.99)}
		b.ReportMetric(pct[name][0], name+"-p50-us")
		b.ReportMetric(pct[name][1], name+"-p99-us")
	}
	if d, ok := pct["diod"]; ok {
		s := pct["srv9p"]
		b.ReportMetric(d[0]/s[0], "p50-ratio")
		b.ReportMetric(d[1]/s[1], "p99-ratio")
	}
}

// pattern is the content of the big file: random, so nothing in the path
// can take a shortcut on zeros.
var pattern = sync.OnceValue(func() []byte {
	r := rand.New(rand.NewPCG(7, 9))
	b := make([]byte, chunkSize)
	for i := range b {
		b[i] = byte(r.UintN(256))
	}
	return b
})

// writeBig writes the seqSize file at path.
func writeBig(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	for off := 0; off < seqSize; off += chunkSize {
		if _, err := f.Write(pattern()); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}

// makeFiles creates n files named f00000… in dir, each holding data.
func makeFiles(dir string, n int, data []byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for i := range n {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%05d", i)), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// walk walks from c's root, failing the benchmark on error.
func (c *client) walk(b *testing.B, names ...string) p9.File {
	b.Helper()
	_, f, err := c.root.Walk(names)
	if err != nil {
		b.Fatalf("%s: walk %q: %v", c.name, names, err)
	}
	return f
}

// readRange reads [off, off+n) of f in chunkSize calls and returns the
// bytes read.
func readRange(f io.ReaderAt, buf []byte, off, n int64) (int64, error) {
	var got int64
	for got < n {
		want := min(int64(len(buf)), n-got)
		k, err := f.ReadAt(buf[:want], off+got)
		got += int64(k)
		if err == io.EOF || (err == nil && k == 0) {
			break
		}
		if err != nil {
			return got, err
		}
	}
	return got, nil
}

// timed runs fn and returns how long it took.
func timed(fn func()) time.Duration {
	start := time.Now()
	fn()
	return time.Since(start)
}

func BenchmarkSeqWrite(b *testing.B) {
	const parts = seqSize / chunkSize
	compare(b, nil, "MiB/s", func(b *testing.B, c *client, iter int) *run {
		name := fmt.Sprintf("%s-seqwrite-%d", c.name, iter)
		dir := c.walk(b)
		f, _, _, err := dir.Create(name, p9.WriteOnly, 0o644, p9.NoUID, p9.NoGID)
		if err != nil {
			dir.Close()
			b.Fatalf("%s: create: %v", c.name, err)
		}
		return &run{parts: parts, step: func(i int) sample {
			off := int64(i) * chunkSize
			var n int
			d := timed(func() { n, err = f.WriteAt(pattern(), off) })
			if err != nil || n != chunkSize {
				b.Fatalf("%s: write at %d: %d, %v", c.name, off, n, err)
			}
			return sample{units: chunkSize / (1 << 20), d: d}
		}, done: func() {
			f.Close()
			path := filepath.Join(c.dir, name)
			if fi, err := os.Stat(path); err != nil || fi.Size() != seqSize {
				b.Fatalf("%s: written file on disk: %v (want %d bytes)", c.name, err, seqSize)
			}
			os.Remove(path)
		}}
	}, nil)
}

// readParts is how many parts a sequential read of the big file is split in.
const readParts = 16

func BenchmarkSeqRead(b *testing.B) {
	const part = seqSize / readParts
	prepare := func(dir string) error { return writeBig(filepath.Join(dir, "big")) }
	// Each part reads the next sixteenth of the file, in chunkSize calls.
	step := func(b *testing.B, name string, f io.ReaderAt, buf []byte) func(int) sample {
		return func(i int) sample {
			var n int64
			var err error
			d := timed(func() { n, err = readRange(f, buf, int64(i)*part, part) })
			if err != nil || n != part {
				b.Fatalf("%s: read %d bytes at %d, want %d: %v", name, n, int64(i)*part, part, err)
			}
			if i == readParts-1 && !bytes.Equal(buf, pattern()) {
				b.Fatalf("%s: the last chunk read differs from the file", name)
			}
			return sample{units: float64(n) / (1 << 20), d: d}
		}
	}
	compare(b, prepare, "MiB/s", func(b *testing.B, c *client, iter int) *run {
		f := c.walk(b, "big")
		if _, _, err := f.Open(p9.ReadOnly); err != nil {
			b.Fatalf("%s: open: %v", c.name, err)
		}
		return &run{parts: readParts, step: step(b, c.name, f, make([]byte, chunkSize)), done: func() { f.Close() }}
	}, func(b *testing.B, dir string, iter int) *run {
		f, err := os.Open(filepath.Join(dir, "big"))
		if err != nil {
			b.Fatal(err)
		}
		return &run{parts: readParts, step: step(b, "local", f, make([]byte, chunkSize)), done: func() { f.Close() }}
	})
}

func BenchmarkParallelRead(b *testing.B) {
	// Each reader has its own fid and reads its own eighth of the file;
	// each part has all readers read the next readParts-th of their eighth.
	const share = seqSize / readers
	const part = share / readParts
	prepare := func(dir string) error { return writeBig(filepath.Join(dir, "big")) }
	compare(b, prepare, "MiB/s", func(b *testing.B, c *client, iter int) *run {
		files := make([]p9.File, readers)
		bufs := make([][]byte, readers)
		for i := range files {
			files[i] = c.walk(b, "big")
			if _, _, err := files[i].Open(p9.ReadOnly); err != nil {
				b.Fatalf("%s: open: %v", c.name, err)
			}
			bufs[i] = make([]byte, chunkSize)
		}
		return &run{parts: readParts, step: func(p int) sample {
			errs := make([]error, readers)
			d := timed(func() {
				var wg sync.WaitGroup
				for i, f := range files {
					wg.Go(func() {
						off := int64(i)*share + int64(p)*part
						n, err := readRange(f, bufs[i], off, part)
						if err == nil && n != part {
							err = fmt.Errorf("read %d bytes at %d, want %d", n, off, part)
						}
						errs[i] = err
					})
				}
				wg.Wait()
			})
			if err := errors.Join(errs...); err != nil {
				b.Fatalf("%s: %v", c.name, err)
			}
			return sample{units: readers * part / (1 << 20), d: d}
		}, done: func() {
			for _, f := range files {
				f.Close()
			}
		}}
	}, nil)
}

// smallParts is how many parts the small-file benchmarks are split in.
const smallParts = 20

func BenchmarkCreate(b *testing.B) {
	data := bytes.Repeat([]byte{'c'}, smallSize)
	compare(b, nil, "ops/s", func(b *testing.B, c *client, iter int) *run {
		sub := fmt.Sprintf("%s-create-%d", c.name, iter)
		path := filepath.Join(c.dir, sub)
		if err := os.Mkdir(path, 0o755); err != nil {
			b.Fatal(err)
		}
		dir := c.walk(b, sub)
		return &run{parts: smallParts, step: func(p int) sample {
			const per = smallFiles / smallParts
			d := timed(func() {
				for i := p * per; i < (p+1)*per; i++ {
					// As the kernel does: clone the directory fid,
					// create on it (which makes it the open file),
					// write, clunk.
					_, nf, err := dir.Walk(nil)
					if err != nil {
						b.Fatalf("%s: clone: %v", c.name, err)
					}
					f, _, _, err := nf.Create(fmt.Sprintf("f%05d", i), p9.WriteOnly, 0o644, p9.NoUID, p9.NoGID)
					if err != nil {
						nf.Close()
						b.Fatalf("%s: create: %v", c.name, err)
					}
					if n, err := f.WriteAt(data, 0); err != nil || n != smallSize {
						b.Fatalf("%s: write: %d, %v", c.name, n, err)
					}
					f.Close()
				}
			})
			return sample{units: per, d: d}
		}, done: func() {
			dir.Close()
			ents, err := os.ReadDir(path)
			if err != nil || len(ents) != smallFiles {
				b.Fatalf("%s: %d files on disk, want %d (%v)", c.name, len(ents), smallFiles, err)
			}
			os.RemoveAll(path)
		}}
	}, nil)
}

// statPrepare makes the directory stat and the latency benchmark walk.
func statPrepare(dir string) error {
	return makeFiles(filepath.Join(dir, "stat"), smallFiles, []byte("stat me"))
}

// statRun walks to and getattrs every file of the stat directory, one part
// at a time; with lat it also keeps each walk+getattr's latency.
func statRun(b *testing.B, c *client, lat bool) *run {
	return &run{parts: smallParts, step: func(p int) sample {
		const per = smallFiles / smallParts
		var s sample
		for i := p * per; i < (p+1)*per; i++ {
			start := time.Now()
			f := c.walk(b, "stat", fmt.Sprintf("f%05d", i))
			_, valid, attr, err := f.GetAttr(p9.AttrMaskAll)
			wg := time.Since(start)
			if err != nil || !valid.Size || attr.Size != 7 {
				b.Fatalf("%s: getattr: size %d (valid %v), %v", c.name, attr.Size, valid.Size, err)
			}
			f.Close()
			if lat {
				s.lat = append(s.lat, wg)
				s.d += wg
			} else {
				s.d += time.Since(start)
			}
			s.units++
		}
		return s
	}}
}

// BenchmarkStat times what the kernel's stat(2) of a name it has not
// cached costs: Twalk, Tgetattr, Tclunk.
func BenchmarkStat(b *testing.B) {
	compare(b, statPrepare, "ops/s", func(b *testing.B, c *client, iter int) *run {
		return statRun(b, c, false)
	}, nil)
}

// BenchmarkWalkGetattrLatency reports the p50 and p99 of Twalk+Tgetattr
// (the clunk after each is not timed).
func BenchmarkWalkGetattrLatency(b *testing.B) {
	compare(b, statPrepare, "ops/s", func(b *testing.B, c *client, iter int) *run {
		return statRun(b, c, true)
	}, nil)
}

func BenchmarkUnlink(b *testing.B) {
	compare(b, nil, "ops/s", func(b *testing.B, c *client, iter int) *run {
		sub := fmt.Sprintf("%s-unlink-%d", c.name, iter)
		path := filepath.Join(c.dir, sub)
		if err := makeFiles(path, smallFiles, nil); err != nil {
			b.Fatal(err)
		}
		dir := c.walk(b, sub)
		return &run{parts: smallParts, step: func(p int) sample {
			const per = smallFiles / smallParts
			d := timed(func() {
				for i := p * per; i < (p+1)*per; i++ {
					if err := dial.UnlinkAt(dir, fmt.Sprintf("f%05d", i), 0); err != nil {
						b.Fatalf("%s: unlink: %v", c.name, err)
					}
				}
			})
			return sample{units: per, d: d}
		}, done: func() {
			dir.Close()
			if ents, err := os.ReadDir(path); err != nil || len(ents) != 0 {
				b.Fatalf("%s: %d files left on disk (%v)", c.name, len(ents), err)
			}
			os.RemoveAll(path)
		}}
	}, nil)
}

// BenchmarkReaddir lists a directory of readdirSize entries from start to
// end (walk, open, Treaddir until empty, clunk), ten times per run, and
// checks that every entry was seen exactly once each time.
func BenchmarkReaddir(b *testing.B) {
	prepare := func(dir string) error { return makeFiles(filepath.Join(dir, "list"), readdirSize, nil) }
	compare(b, prepare, "entries/s", func(b *testing.B, c *client, iter int) *run {
		// The kernel asks for msize minus the Rreaddir header (24 bytes).
		count := c.conn.MSize - 24
		return &run{parts: 10, step: func(int) sample {
			seen := make(map[string]int, readdirSize+2)
			d := timed(func() {
				f := c.walk(b, "list")
				defer f.Close()
				if _, _, err := f.Open(p9.ReadOnly); err != nil {
					b.Fatalf("%s: open dir: %v", c.name, err)
				}
				var off uint64
				for {
					ents, err := f.Readdir(off, count)
					if err != nil {
						b.Fatalf("%s: readdir at %d: %v", c.name, off, err)
					}
					if len(ents) == 0 {
						break
					}
					for _, e := range ents {
						seen[e.Name]++
					}
					off = ents[len(ents)-1].Offset
				}
			})
			delete(seen, ".")
			delete(seen, "..")
			dups := 0
			for _, n := range seen {
				dups += n - 1
			}
			if len(seen) != readdirSize || dups != 0 {
				b.Errorf("%s: readdir saw %d distinct entries (%d repeated), want %d once each", c.name, len(seen), dups, readdirSize)
			}
			return sample{units: float64(len(seen)), d: d}
		}}
	}, nil)
}
