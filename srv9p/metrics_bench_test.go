package srv9p_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/hugelgupf/p9/p9"

	"mfs/internal/dial"
	"mfs/internal/metrics"
	"mfs/srv9p"
	"mfs/srv9p/srv9ptest"
)

// BenchmarkMetrics measures what WithMetrics costs: the stat of
// BenchmarkStat (Twalk, Tgetattr, Tclunk, as the kernel's stat(2) of an
// uncached name) on two servers of one export in this process, one
// reporting to internal/metrics' Prometheus registry and one without
// metrics, taking turns in rounds of 200 stats. "ratio" is the rate with
// metrics over the rate without (1: free); "extra-allocs/stat" is the
// difference in heap allocations per stat (client and server together;
// the same client code runs for both).
func BenchmarkMetrics(b *testing.B) {
	a, dir := newExport(b)
	const files = 200
	for i := range files {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%03d", i)), nil, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	sm := metrics.New().Server(metrics.ServiceExport)
	roots := map[string]p9.File{}
	for name, opts := range map[string][]srv9p.ServerOption{"off": nil, "on": {srv9p.WithMetrics(sm)}} {
		ln, addr := srv9ptest.Listen(b, "unix")
		srv := srv9p.NewServer(a, append(opts, srv9p.TrustClaims())...)
		sm.Watch(srv)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { srv.Serve(ctx, ln); close(done) }()
		b.Cleanup(func() { cancel(); <-done })
		c, err := dial.Dial(context.Background(), addr, dial.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { c.Close() })
		r, err := c.Attach("")
		if err != nil {
			b.Fatal(err)
		}
		roots[name] = r
	}
	var ms runtime.MemStats
	round := func(root p9.File) (time.Duration, uint64) {
		runtime.ReadMemStats(&ms)
		mallocs := ms.Mallocs
		start := time.Now()
		for i := range files {
			_, f, err := root.Walk([]string{fmt.Sprintf("f%03d", i)})
			if err != nil {
				b.Fatal(err)
			}
			if _, _, _, err := f.GetAttr(p9.AttrMaskAll); err != nil {
				b.Fatal(err)
			}
			f.Close()
		}
		d := time.Since(start)
		runtime.ReadMemStats(&ms)
		return d, ms.Mallocs - mallocs
	}
	round(roots["on"]) // make the series
	took := map[string]time.Duration{}
	allocs := map[string]uint64{}
	b.ResetTimer()
	for i := 0; i < b.N*10; i++ {
		order := []string{"off", "on"}
		if i%2 == 1 {
			order[0], order[1] = order[1], order[0]
		}
		for _, name := range order {
			d, n := round(roots[name])
			took[name] += d
			allocs[name] += n
		}
	}
	n := float64(b.N * 10 * files)
	rate := func(name string) float64 { return n / took[name].Seconds() }
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(rate("off"), "off-stat/s")
	b.ReportMetric(rate("on"), "on-stat/s")
	b.ReportMetric(rate("on")/rate("off"), "ratio")
	b.ReportMetric((float64(allocs["on"])-float64(allocs["off"]))/n, "extra-allocs/stat")
}
