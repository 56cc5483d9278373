package export

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hugelgupf/p9/p9"

	"mfs/srv9p/srv9ptest"
)

func TestSmoke(t *testing.T) {
	a, dir := newExport(t)
	os.WriteFile(filepath.Join(dir, "hello"), []byte("hello world"), 0o644)
	for _, network := range []string{"tcp", "unix"} {
		t.Run(network, func(t *testing.T) {
			_, root := attachRemote(t, srv9ptest.Serve(t, network, a))
			_, f, err := root.Walk([]string{"hello"})
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := f.Open(p9.ReadOnly); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 100)
			n, err := f.ReadAt(buf, 0)
			if string(buf[:n]) != "hello world" {
				t.Fatalf("read %q, %v", buf[:n], err)
			}
			_, d, _ := root.Walk(nil)
			d.Open(p9.ReadOnly)
			ents, err := d.Readdir(0, 4096)
			t.Log(ents, err)
		})
	}
}
