package srv9p

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TestAuthNotRequired checks that a Tauth is refused the way diod refuses
// it when no authentication is needed (ENOENT), which diod's own client
// tools require, and that the attach then works.
func TestAuthNotRequired(t *testing.T) {
	a, _ := newExport(t)
	r := dialRaw(t, serve(t, "tcp", a))
	var b enc
	b.u32(1).str("").str("/").u32(0)
	if _, err := r.call(102, b); err != errnoError(unix.ENOENT) {
		t.Fatalf("Tauth: %v, want ENOENT", err)
	}
	if err := r.attach(1); err != nil {
		t.Fatalf("attach after Tauth: %v", err)
	}
}
