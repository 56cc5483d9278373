package srv9p_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hugelgupf/p9/p9"

	"mfs/internal/dial"
	"mfs/srv9p/srv9ptest"
)

// BenchmarkIdentity measures what running every request as the caller
// costs: stats (walk, getattr, clunk) of files in a world-readable
// directory, attached as root (the server's own identity: nothing to
// switch) and as uid 1000 (fsuid, fsgid, groups and capabilities switched
// around each request), taking turns in rounds of 200 on one server.
// "ratio" is uid 1000's rate over root's.
func BenchmarkIdentity(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root to act as another user")
	}
	a, dir := newExport(b)
	const files = 200
	for i := range files {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%03d", i)), nil, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	addr := srv9ptest.Serve(b, "unix", a)
	roots := map[string]p9.File{}
	for name, uid := range map[string]p9.UID{"root": 0, "uid1000": 1000} {
		c, err := dial.Dial(context.Background(), addr, dial.Options{UName: fmt.Sprint(uid), UID: uid})
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
	round := func(root p9.File) time.Duration {
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
		return time.Since(start)
	}
	var took = map[string]time.Duration{}
	for i := 0; i < b.N*10; i++ {
		order := []string{"root", "uid1000"}
		if i%2 == 1 {
			order[0], order[1] = order[1], order[0]
		}
		for _, name := range order {
			took[name] += round(roots[name])
		}
	}
	n := float64(b.N * 10 * files)
	rate := func(name string) float64 { return n / took[name].Seconds() }
	b.ReportMetric(rate("root"), "root-stat/s")
	b.ReportMetric(rate("uid1000"), "uid1000-stat/s")
	b.ReportMetric(rate("uid1000")/rate("root"), "ratio")
}
