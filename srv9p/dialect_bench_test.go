package srv9p_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/hugelgupf/p9/p9"

	"mfs/internal/fcall"
	"mfs/srv9p/srv9ptest"
)

// BenchmarkDialects compares what the old dialects cost against 9P2000.L
// on one export, in the same run: a stat of a file (Twalk, Tgetattr or
// Tstat, Tclunk) and a listing of 1000 entries (Treaddir, or Treads of
// stat entries, which need a walk and a stat per entry on the server).
// Compare ns/op of the sub-benchmarks.
func BenchmarkDialects(b *testing.B) {
	a, dir := newExport(b)
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte("data"), 0o644); err != nil {
		b.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "many"), 0o755); err != nil {
		b.Fatal(err)
	}
	for i := range 1000 {
		if err := os.WriteFile(filepath.Join(dir, "many", fmt.Sprintf("entry-%04d", i)), nil, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	addr := srv9ptest.Serve(b, "tcp", a)
	for _, d := range []fcall.Dialect{fcall.L, fcall.U, fcall.Plan9} {
		r := srv9ptest.DialRawDialect(b, addr, d)
		rpc := func(m fcall.Msg) fcall.Msg {
			rep, err := r.RPC(m)
			if err != nil {
				b.Fatalf("%v %s: %v", d, m, err)
			}
			return rep
		}
		rpc(&fcall.Tattach{Fid: 1, Afid: fcall.NoFid, Uname: "root", NUname: 0})
		b.Run("stat/"+d.String(), func(b *testing.B) {
			for b.Loop() {
				rpc(&fcall.Twalk{Fid: 1, NewFid: 2, Names: []string{"f"}})
				if d == fcall.L {
					rpc(&fcall.Tgetattr{Fid: 2, Mask: p9.AttrMaskAll})
				} else {
					rpc(&fcall.Tstat{Fid: 2})
				}
				rpc(&fcall.Tclunk{Fid: 2})
			}
		})
		b.Run("list1000/"+d.String(), func(b *testing.B) {
			for b.Loop() {
				rpc(&fcall.Twalk{Fid: 1, NewFid: 2, Names: []string{"many"}})
				n := 0
				if d == fcall.L {
					rpc(&fcall.Tlopen{Fid: 2, Flags: p9.ReadOnly})
					var off uint64
					for {
						data := rpc(&fcall.Treaddir{Fid: 2, Offset: off, Count: 60000}).(*fcall.Rreaddir).Data
						ents, _ := fcall.DecodeDirents(data)
						if len(ents) == 0 {
							break
						}
						n += len(ents)
						off = ents[len(ents)-1].Offset
					}
					n -= 2 // . and ..
				} else {
					rpc(&fcall.Topen{Fid: 2, Mode: fcall.OREAD})
					var off uint64
					for {
						data := rpc(&fcall.Tread{Fid: 2, Offset: off, Count: 60000}).(*fcall.Rread).Data
						if len(data) == 0 {
							break
						}
						dirs, _ := fcall.DecodeDirs(d, data)
						n += len(dirs)
						off += uint64(len(data))
					}
				}
				rpc(&fcall.Tclunk{Fid: 2})
				if n != 1000 {
					b.Fatalf("%v listed %d entries", d, n)
				}
			}
		})
	}
}
