package diodtest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// recorder is a testing.TB that collects failures instead of failing, so
// the test can check that CheckTree notices what it should.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(f string, a ...any) {
	r.errs = append(r.errs, fmt.Sprintf(f, a...))
}
func (r *recorder) Fatalf(f string, a ...any) {
	r.errs = append(r.errs, fmt.Sprintf(f, a...))
	panic(r)
}
func (r *recorder) Fatal(a ...any) {
	r.errs = append(r.errs, fmt.Sprint(a...))
	panic(r)
}

// check runs CheckTree with a recorder and returns the failures it reported.
func check(t *testing.T, c Client, dir string) (errs []string) {
	r := &recorder{TB: t}
	defer func() {
		if p := recover(); p != nil && p != r {
			panic(p)
		}
		errs = r.errs
	}()
	c.CheckTree(r, dir)
	return r.errs
}

func TestCheckTree(t *testing.T) {
	if why := Missing("diod", "diodls", "diodcat"); why != "" {
		t.Skip(why)
	}
	served := t.TempDir()
	write := func(root, name, data string) {
		p := filepath.Join(root, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(served, "a", "alpha")
	write(served, "d/b", "beta")
	c := Client{Addr: StartDiod(t, served), AName: served}

	tests := []struct {
		name  string
		setup func(dir string)
		want  string // "" means no failure
	}{
		{"same", func(dir string) {
			write(dir, "a", "alpha")
			write(dir, "d/b", "beta")
		}, ""},
		{"contents differ", func(dir string) {
			write(dir, "a", "ALPHA")
			write(dir, "d/b", "beta")
		}, `cat "a"`},
		{"missing on server", func(dir string) {
			write(dir, "a", "alpha")
			write(dir, "d/b", "beta")
			write(dir, "d/c", "gamma")
		}, `list "d"`},
		{"extra on server", func(dir string) {
			write(dir, "a", "alpha")
			os.Mkdir(filepath.Join(dir, "d"), 0o755)
		}, `list "d"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The expected tree lives elsewhere; the server always serves
			// the same one.
			want := t.TempDir()
			tt.setup(want)
			errs := check(t, c, want)
			switch {
			case tt.want == "" && len(errs) > 0:
				t.Errorf("CheckTree reported %q for equal trees", errs)
			case tt.want != "" && !strings.Contains(strings.Join(errs, "\n"), tt.want):
				t.Errorf("CheckTree reported %q, want a failure mentioning %s", errs, tt.want)
			}
		})
	}

	// A server that does not answer gives an error, not a hang.
	bad := Client{Addr: "127.0.0.1:1", AName: served, Timeout: 5e9}
	if _, err := bad.List(t.Context(), ""); err == nil {
		t.Error("List against a closed port succeeded")
	}
}
