package srv9ptest

import (
	"bytes"
	"testing"

	"github.com/hugelgupf/p9/linux"
	"golang.org/x/sys/unix"

	"mfs/internal/fcall"
)

// XattrSizeCase is one attack on Txattrcreate's attr_size: a Txattrcreate
// of Size, then Write bytes written, then the clunk, with the errors each
// step must answer and whether the attribute is set in the end.
type XattrSizeCase struct {
	Name      string
	Size      uint64
	CreateErr error
	Write     int
	WriteErr  error
	ClunkErr  error
	Set       bool
}

// XattrSizeCases: attr_size is capped at XATTR_SIZE_MAX, Twrite cannot
// pass it, and a short value is refused at the clunk; only the exact
// value (the control) sets the attribute.
var XattrSizeCases = []XattrSizeCase{
	{"2^40", 1 << 40, linux.E2BIG, 0, nil, nil, false},
	{"65537", 65537, linux.E2BIG, 0, nil, nil, false},
	{"write beyond", 100, nil, 200, linux.E2BIG, linux.EINVAL, false},
	{"short write", 100, nil, 50, nil, linux.EINVAL, false},
	{"exact (control)", 100, nil, 100, nil, nil, true},
}

// Check runs the case for the attribute name on fid 2 of r, a walked but
// unopened fid of the file whose host path is host (without the
// attribute), and fails the test where a step answers otherwise or the
// attribute's presence on host differs.
func (tc XattrSizeCase) Check(t testing.TB, r *Raw, host, name string) {
	t.Helper()
	_, err := r.RPC(&fcall.Txattrcreate{Fid: 2, Name: name, Size: tc.Size})
	if err != tc.CreateErr {
		t.Fatalf("Txattrcreate size %d: %v, want %v", tc.Size, err, tc.CreateErr)
	}
	if err == nil {
		if err := r.Write(2, 0, bytes.Repeat([]byte("v"), tc.Write)); err != tc.WriteErr {
			t.Fatalf("Twrite of %d bytes: %v, want %v", tc.Write, err, tc.WriteErr)
		}
		if err := r.Clunk(2); err != tc.ClunkErr {
			t.Fatalf("Tclunk: %v, want %v", err, tc.ClunkErr)
		}
	}
	_, err = unix.Getxattr(host, name, nil)
	if set := err == nil; set != tc.Set {
		t.Fatalf("attribute set: %v (%v), want %v", set, err, tc.Set)
	}
}
