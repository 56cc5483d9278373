package srv9p_test

import (
	"strings"
	"testing"

	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"

	"mfs/internal/fcall"
	"mfs/srv9p/srv9ptest"
)

// panicFile is a file whose GetAttr panics when asked for the size and
// whose SetAttr always panics; Inline says whether it runs on the reader.
type panicFile struct {
	p9.File
	inline bool
}

func (f *panicFile) Walk(names []string) ([]p9.QID, p9.File, error) {
	qids, nf, err := f.File.Walk(names)
	if err != nil {
		return qids, nil, err
	}
	return qids, &panicFile{nf, f.inline}, nil
}

func (f *panicFile) GetAttr(m p9.AttrMask) (p9.QID, p9.AttrMask, p9.Attr, error) {
	if m.Size {
		panic("getattr")
	}
	return f.File.GetAttr(m)
}

func (f *panicFile) SetAttr(p9.SetAttrMask, p9.SetAttr) error { panic("setattr") }

func (f *panicFile) Inline() bool { return f.inline }

type panicAttacher struct {
	p9.Attacher
	inline bool
}

func (a panicAttacher) Attach() (p9.File, error) {
	f, err := a.Attacher.Attach()
	if err != nil {
		return nil, err
	}
	return &panicFile{f, a.inline}, nil
}

// TestPanic: a request whose file method panics is answered EIO, the
// stack is logged once, and the connection goes on, on the reader and on
// a handler goroutine, also while another user's credentials are in force.
func TestPanic(t *testing.T) {
	for _, inline := range []bool{false, true} {
		name := "goroutine"
		if inline {
			name = "inline"
		}
		t.Run(name, func(t *testing.T) {
			a, _ := attackExport(t)
			s := startServer(t, panicAttacher{a, inline}, nil)
			r := srv9ptest.DialRaw(t, s.addr)
			if err := r.Attach(1); err != nil {
				t.Fatal(err)
			}
			if _, err := r.RPC(&fcall.Tgetattr{Fid: 1, Mask: p9.AttrMaskAll}); !srv9ptest.IsErrno(err, linux.EIO) {
				t.Fatalf("panicking Tgetattr answered %v, want EIO", err)
			}
			if _, err := r.RPC(&fcall.Tgetattr{Fid: 1, Mask: p9.AttrMask{Mode: true}}); err != nil {
				t.Fatalf("Tgetattr after the panic: %v", err)
			}
			// As another user: Tsetattr switches to the fid's credentials.
			if err := r.AttachAs(2, "", 1000); err != nil {
				t.Fatal(err)
			}
			if _, err := r.RPC(&fcall.Tsetattr{Fid: 2, Valid: p9.SetAttrMask{Permissions: true}, Attr: p9.SetAttr{Permissions: 0o755}}); !srv9ptest.IsErrno(err, linux.EIO) {
				t.Fatalf("panicking Tsetattr answered %v, want EIO", err)
			}
			if err := r.Walk(2, 3, "f"); err != nil {
				t.Fatalf("Twalk after the panic: %v", err)
			}
			if n := strings.Count(s.log.String(), "9p: request panicked"); n != 2 {
				t.Errorf("%d panics logged, want 2:\n%s", n, s.log)
			}
		})
	}
}
