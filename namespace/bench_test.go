package namespace

// Benchmark: the cost of the union over the export it wraps.
//
// One 2-node cluster (srv9p exports and namespaces, all served with
// srv9p.Serve on loopback TCP). The same operation runs, in every
// iteration, along three paths:
//
//	direct  a client of node 2's srv9p export        (the baseline)
//	here    a client of node 2's namespace, /here     (in-process access)
//	remote  a client of node 1's namespace, /2        (one proxy hop)
//
// All three read and write one 256 MiB file of node 2 and stat the same
// 2,000 files (Twalk + Tgetattr + Tclunk, as the kernel does), so they
// share page cache and disk. The order of the paths rotates between
// iterations, each iteration dials a fresh connection (see open), only
// the operation is timed, and each path's rate comes from its best
// iteration (the machine is shared; interference only ever slows an
// iteration down). Metrics: each path's rate and
// the ratios here/direct and remote/direct of the rates (1 = as fast as
// the export itself). Nothing asserts on time; a short read or a failed
// stat fails the benchmark.
//
// Reads and writes go in the requests the kernel sends at msize 1 MiB:
// count = msize - 24 (P9_IOHDRSZ). The p9 client cannot send those at
// msize 1 MiB (it splits at msize minus its largest header, rounded down
// to 512), so the bench client dials at the p9 server's 4 MiB cap and
// hands it kernel-sized chunks: one chunk, one Tread or Twrite, as from
// the kernel. What the namespace does with such a request on the proxy
// path (one peer round trip or two) is then what is measured.
//
// Run: go test ./namespace -run '^$' -bench . -benchtime 10x

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hugelgupf/p9/p9"

	"mfs/internal/dial"
	"mfs/internal/fcall"
)

const (
	benchBig   = 256 << 20
	benchChunk = 1<<20 - 24 // the kernel's request at msize 1 MiB
	benchMSize = 4 << 20    // the bench client's msize (see above)
	benchFiles = 2000
)

type benchPath struct {
	name       string
	addr, path string        // server, and path of the bench directory there
	dialect    fcall.Dialect // spoken by the bench client (zero: 9P2000.L)
	best       time.Duration // shortest iteration
}

// open dials the path's server afresh and walks to the bench directory.
// Every iteration uses a new connection: the placement of a connection's
// goroutines on the two CPUs persists for its life and moves its speed by
// tens of percent either way, so one connection per path would compare
// placements, not paths.
func (p *benchPath) open(b *testing.B) (p9.File, func()) {
	cl, err := dial.Dial(b.Context(), p.addr, dial.Options{MSize: benchMSize, Dialect: p.dialect})
	if err != nil {
		b.Fatal(err)
	}
	r, err := cl.Attach("")
	if err != nil {
		b.Fatal(err)
	}
	d, err := walkErr(r, p.path)
	if err != nil {
		b.Fatal(err)
	}
	return d, func() { d.Close(); r.Close(); cl.Close() }
}

// benchSetup builds the cluster and the three paths.
func benchSetup(b *testing.B) (*cluster, []*benchPath) {
	c := newCluster(b, 2)
	dir := filepath.Join(c.dirs[1], "bench")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	for i := range benchFiles {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("s%04d", i)), []byte("x"), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	f, err := os.Create(filepath.Join(dir, "big"))
	if err != nil {
		b.Fatal(err)
	}
	if err := f.Truncate(benchBig); err != nil {
		b.Fatal(err)
	}
	f.Close()

	return c, []*benchPath{
		{name: "direct", addr: c.exports[1].addr, path: "bench"},
		{name: "here", addr: c.nsSrv[1].addr, path: "here/bench"},
		{name: "remote", addr: c.nsSrv[0].addr, path: "2/bench"},
	}
}

// run times op on every path once per iteration, rotating the order, and
// reports rates (units/s) and ratios.
func runPaths(b *testing.B, paths []*benchPath, units float64, unit string, op func(dir p9.File) error) {
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for k := range paths {
			p := paths[(i+k)%len(paths)]
			b.StopTimer()
			dir, done := p.open(b)
			b.StartTimer()
			start := time.Now()
			err := op(dir)
			d := time.Since(start)
			b.StopTimer()
			done()
			b.StartTimer()
			if err != nil {
				b.Fatalf("%s: %v", p.name, err)
			}
			if p.best == 0 || d < p.best {
				p.best = d
			}
		}
	}
	b.StopTimer()
	rate := map[string]float64{}
	for _, p := range paths {
		rate[p.name] = units / p.best.Seconds()
		b.ReportMetric(rate[p.name], p.name+"-"+unit)
	}
	b.ReportMetric(rate["here"]/rate["direct"], "here/direct")
	b.ReportMetric(rate["remote"]/rate["direct"], "remote/direct")
	b.ReportMetric(0, "ns/op")
}

func openBig(dir p9.File, mode p9.OpenFlags) (p9.File, error) {
	_, f, err := dir.Walk([]string{"big"})
	if err != nil {
		return nil, err
	}
	if _, _, err := f.Open(mode); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

func BenchmarkRead256M(b *testing.B) {
	_, paths := benchSetup(b)
	buf := make([]byte, benchChunk)
	runPaths(b, paths, benchBig/(1<<20), "MiB/s", func(dir p9.File) error {
		f, err := openBig(dir, p9.ReadOnly)
		if err != nil {
			return err
		}
		defer f.Close()
		for off := int64(0); off < benchBig; off += benchChunk {
			p := buf[:min(benchChunk, benchBig-off)]
			n, err := f.ReadAt(p, off)
			if err != nil || n != len(p) {
				return fmt.Errorf("read at %d: %d, %v", off, n, err)
			}
		}
		return nil
	})
}

func BenchmarkWrite256M(b *testing.B) {
	_, paths := benchSetup(b)
	buf := make([]byte, benchChunk)
	runPaths(b, paths, benchBig/(1<<20), "MiB/s", func(dir p9.File) error {
		f, err := openBig(dir, p9.WriteOnly)
		if err != nil {
			return err
		}
		defer f.Close()
		for off := int64(0); off < benchBig; off += benchChunk {
			p := buf[:min(benchChunk, benchBig-off)]
			n, err := f.WriteAt(p, off)
			if err != nil || n != len(p) {
				return fmt.Errorf("write at %d: %d, %v", off, n, err)
			}
		}
		return nil
	})
}

func BenchmarkStat2000(b *testing.B) {
	_, paths := benchSetup(b)
	runPaths(b, paths, benchFiles, "stat/s", func(dir p9.File) error {
		for i := range benchFiles {
			_, f, err := dir.Walk([]string{fmt.Sprintf("s%04d", i)})
			if err != nil {
				return err
			}
			_, _, attr, err := f.GetAttr(p9.AttrMaskAll)
			f.Close()
			if err != nil {
				return err
			}
			if attr.Size != 1 {
				return fmt.Errorf("s%04d: size %d", i, attr.Size)
			}
		}
		return nil
	})
}

// BenchmarkListU lists the bench directory (benchFiles + 1 entries) in
// 9P2000.u, whose directory reads carry every entry's stat: what the
// kernel's 9p2000.u mount and 9P2000 clients pay for ls.
func BenchmarkListU(b *testing.B) {
	_, paths := benchSetup(b)
	for _, p := range paths {
		p.dialect = fcall.U
	}
	runPaths(b, paths, benchFiles+1, "entries/s", func(dir p9.File) error {
		_, d, err := dir.Walk(nil)
		if err != nil {
			return err
		}
		defer d.Close()
		if _, _, err := d.Open(p9.ReadOnly); err != nil {
			return err
		}
		n := 0
		for off := uint64(0); ; {
			ents, err := d.Readdir(off, 1<<20)
			if err != nil {
				return err
			}
			if len(ents) == 0 {
				break
			}
			n += len(ents)
			off = ents[len(ents)-1].Offset
		}
		if n != benchFiles+1 {
			return fmt.Errorf("listed %d entries, want %d", n, benchFiles+1)
		}
		return nil
	})
}
