package mount

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/hanwen/go-fuse/v2/fs"
)

// benchTargets are the directories each benchmark compares, in the same
// run: the disk itself, go-fuse's own loopback of it (entry and attribute
// timeouts 0, the anchor), the mount's /here (the same disk, through the
// namespace) and /2 (another node's disk, through the peer client).
func benchTargets(b *testing.B) []struct{ name, dir string } {
	b.Helper()
	c := newTestCluster(b)
	loop := b.TempDir()
	lr, err := fs.NewLoopbackRoot(c.disk[0])
	if err != nil {
		b.Fatal(err)
	}
	zero := timeout
	o := &fs.Options{EntryTimeout: &zero, AttrTimeout: &zero, NegativeTimeout: &zero}
	o.DirectMount = true
	srv, err := fs.Mount(loop, lr, o)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Unmount() })
	out := []struct{ name, dir string }{
		{"disk", c.disk[0]},
		{"loopback", loop},
		{"here", filepath.Join(c.dir, "here")},
		{"2", filepath.Join(c.dir, "2")},
	}
	for i := range out {
		// here and loopback show disk[0]: give each its own directory.
		d := filepath.Join(out[i].dir, "bench-"+out[i].name)
		if err := os.MkdirAll(d, 0o755); err != nil {
			b.Fatal(err)
		}
		out[i].dir = d
	}
	return out
}

func BenchmarkMount(b *testing.B) {
	targets := benchTargets(b)
	const big = 256 << 20
	for _, tg := range targets {
		b.Run("write256M/"+tg.name, func(b *testing.B) {
			b.SetBytes(big)
			buf := make([]byte, 1<<20)
			for b.Loop() {
				f, err := os.Create(filepath.Join(tg.dir, "big"))
				if err != nil {
					b.Fatal(err)
				}
				for n := 0; n < big; n += len(buf) {
					if _, err := f.Write(buf); err != nil {
						b.Fatal(err)
					}
				}
				f.Close()
			}
		})
		b.Run("read256M/"+tg.name, func(b *testing.B) {
			b.SetBytes(big)
			buf := make([]byte, 1<<20)
			mkBig(b, filepath.Join(tg.dir, "big"), big)
			for b.Loop() {
				f, err := os.Open(filepath.Join(tg.dir, "big"))
				if err != nil {
					b.Fatal(err)
				}
				// 1 MiB reads, as dd bs=1M (io.Copy to io.Discard would
				// read 8 KiB at a time).
				for {
					_, err := f.Read(buf)
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				f.Close()
			}
		})
		b.Run("create1000/"+tg.name, func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				d := filepath.Join(tg.dir, fmt.Sprintf("c%d", i))
				if err := os.Mkdir(d, 0o755); err != nil {
					b.Fatal(err)
				}
				for j := 0; j < 1000; j++ {
					f, err := os.Create(filepath.Join(d, fmt.Sprint(j)))
					if err != nil {
						b.Fatal(err)
					}
					f.Close()
				}
			}
		})
		tree := filepath.Join(tg.dir, "tree")
		b.Run("stat2000/"+tg.name, func(b *testing.B) {
			mkTree(b, tree, 10000)
			for b.Loop() {
				for j := 0; j < 2000; j++ {
					if _, err := os.Lstat(filepath.Join(tree, fmt.Sprint(j/100), fmt.Sprint(j%100))); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
		b.Run("lsR10000/"+tg.name, func(b *testing.B) {
			mkTree(b, tree, 10000)
			for b.Loop() {
				n := 0
				err := filepath.Walk(tree, func(string, os.FileInfo, error) error { n++; return nil })
				if err != nil || n != 10000+100+1 {
					b.Fatalf("walked %d: %v", n, err)
				}
			}
		})
	}
}

// mkBig makes a file of size bytes at path, once.
func mkBig(b *testing.B, path string, size int) {
	b.Helper()
	if st, err := os.Stat(path); err == nil && st.Size() == int64(size) {
		return
	}
	if err := os.WriteFile(path, make([]byte, size), 0o644); err != nil {
		b.Fatal(err)
	}
}

// mkTree makes n files in n/100 directories under dir, once.
func mkTree(b *testing.B, dir string, n int) {
	b.Helper()
	if _, err := os.Stat(dir); err == nil {
		return
	}
	for i := 0; i < n; i++ {
		d := filepath.Join(dir, fmt.Sprint(i/100))
		if i%100 == 0 {
			if err := os.MkdirAll(d, 0o755); err != nil {
				b.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(d, fmt.Sprint(i%100)), []byte("x"), 0o644); err != nil {
			b.Fatal(err)
		}
	}
}
