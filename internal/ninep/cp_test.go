package ninep

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hugelgupf/p9/linux"
)

func TestCpShowProgress(t *testing.T) {
	tests := []struct {
		tty   bool
		files int
		bytes int64
		want  bool
	}{
		{false, 500, 1 << 30, false}, // never when not a terminal
		{true, 1, 100, false},
		{true, cpBarFiles, cpBarBytes, false}, // the limits themselves are small
		{true, cpBarFiles + 1, 0, true},       // many files
		{true, 1, cpBarBytes + 1, true},       // one large file
		{true, 0, 0, false},
	}
	for _, tt := range tests {
		if got := cpShowProgress(tt.tty, tt.files, tt.bytes); got != tt.want {
			t.Errorf("cpShowProgress(tty %v, %d files, %d bytes) = %v, want %v", tt.tty, tt.files, tt.bytes, got, tt.want)
		}
	}
}

// TestCpProgressSilent checks that a large copy draws nothing where
// stderr is not a terminal: a buffer, a file, a pipe.
func TestCpProgressSilent(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	var buf bytes.Buffer
	for name, w := range map[string]interface {
		Write([]byte) (int, error)
	}{"buffer": &buf, "file": f, "pipe": pw} {
		if cpIsTerminal(w) {
			t.Errorf("%s: taken for a terminal", name)
		}
		p := newCpProgress(w, 500, 1<<30)
		if p.bar != nil {
			t.Errorf("%s: a bar for a copy that is not on a terminal", name)
		}
		p.add(1 << 20)
		p.fileDone()
		p.clear()
		p.finish()
	}
	if buf.Len() != 0 {
		t.Errorf("buffer got %q", buf.String())
	}
	if fi, err := f.Stat(); err != nil || fi.Size() != 0 {
		t.Errorf("file got %d bytes (%v)", fi.Size(), err)
	}
}

// TestCpReport checks that every failure is printed once, in order, as
// main prints a verb's error, but the last, which is held for the verb to
// return.
func TestCpReport(t *testing.T) {
	var b strings.Builder
	r := &cpReport{w: &b}
	if r.err() != nil {
		t.Fatal("error before any failure")
	}
	r.add(opErr("cp", linux.ENOENT, ":/a"))
	r.add(opErr("cp", errCpOmitDir, ":/d"))
	r.add(opErr("cp", linux.EACCES, "./x"))
	want := "mfs 9p: cp :/a: no such file or directory\n" +
		"mfs 9p: cp :/d: omitting directory (copy directories with -r)\n"
	if b.String() != want {
		t.Errorf("printed %q, want %q", b.String(), want)
	}
	if got := errorLine(r.err()); got != "mfs 9p: cp ./x: permission denied" {
		t.Errorf("held back: %q", got)
	}
}

// TestCpCopyData copies local files through copyData with a small chunk:
// sizes around the chunk, concurrent chunks, and a source that grew or
// shrank since it was planned.
func TestCpCopyData(t *testing.T) {
	const chunk = 1000
	c := &copier{chunk: chunk, slots: make(chan struct{}, cpBuffers)}
	c.bufs.New = func() any {
		b := make([]byte, chunk)
		return &b
	}
	dir := t.TempDir()
	for _, tt := range []struct {
		size, planned int
	}{
		{0, 0}, {1, 1}, {chunk - 1, chunk - 1}, {chunk, chunk}, {chunk + 1, chunk + 1},
		{2 * chunk, 2 * chunk}, {17*chunk + 3, 17*chunk + 3},
		{5 * chunk, 0},             // a file that says it is empty (a synthetic file)
		{9*chunk + 5, 3*chunk + 1}, // grew
		{3*chunk + 7, 9 * chunk},   // shrank
		{3*chunk + 7, 3*chunk + 9}, // shrank within the last chunk
	} {
		t.Run(fmt.Sprintf("%d_planned_%d", tt.size, tt.planned), func(t *testing.T) {
			data := make([]byte, tt.size)
			for i := range data {
				data[i] = byte(i*7 + i/chunk)
			}
			src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
			if err := os.WriteFile(src, data, 0o644); err != nil {
				t.Fatal(err)
			}
			r, err := cpLocal{}.open(src)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			// The destination had more in it before: it is truncated.
			if err := os.WriteFile(dst, bytes.Repeat([]byte("x"), 20*chunk), 0o644); err != nil {
				t.Fatal(err)
			}
			w, err := cpLocal{}.create(dst, cpAttr{mode: 0o644}, false)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.copyData(r, w, int64(tt.planned)); err != nil {
				t.Fatalf("copyData: %v", err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(dst)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, data) {
				t.Errorf("copy has %d bytes, source %d; equal %v", len(got), len(data), bytes.Equal(got, data))
			}
		})
	}
}

// TestCpCopyDataErrors checks that a failure names its side.
func TestCpCopyDataErrors(t *testing.T) {
	c := &copier{chunk: 100, slots: make(chan struct{}, cpBuffers)}
	c.bufs.New = func() any {
		b := make([]byte, 100)
		return &b
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	if err := os.WriteFile(src, make([]byte, 1000), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := cpLocal{}.open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	w, err := cpLocal{}.create(filepath.Join(dir, "dst"), cpAttr{mode: 0o644}, false)
	if err != nil {
		t.Fatal(err)
	}
	w.Close() // writes now fail
	var re *cpReadError
	for _, planned := range []int64{1000, 0} {
		err := c.copyData(r, w, planned)
		if !errors.Is(err, os.ErrClosed) || errors.As(err, &re) {
			t.Errorf("planned %d: writing to a closed file: %v (%T)", planned, err, err)
		}
	}
	r.Close()
	w2, err := cpLocal{}.create(filepath.Join(dir, "dst2"), cpAttr{mode: 0o644}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Close()
	if err := c.copyData(r, w2, 1000); !errors.As(err, &re) || !errors.Is(err, os.ErrClosed) {
		t.Errorf("reading a closed file: %v (%T)", err, err)
	}
}

func TestCpLocalBase(t *testing.T) {
	for in, want := range map[string]string{"a/b": "b", "b/": "b", "/": "", ".": "", "..": "", "x/..": ""} {
		if got := (cpLocal{}).base(in); got != want {
			t.Errorf("local base(%q) = %q, want %q", in, got, want)
		}
	}
	n := &cpNinep{prefix: ":"}
	for in, want := range map[string]string{"/a/b": "b", "/": "", "/2": "2"} {
		if got := n.base(in); got != want {
			t.Errorf("9P base(%q) = %q, want %q", in, got, want)
		}
	}
	if got := n.show("/2/x"); got != ":/2/x" {
		t.Errorf("show: %q", got)
	}
}
