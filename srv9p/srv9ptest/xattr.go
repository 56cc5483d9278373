package srv9ptest

import "github.com/hugelgupf/p9/linux"

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
