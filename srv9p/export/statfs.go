package export

import (
	"github.com/hugelgupf/p9/p9"
	"golang.org/x/sys/unix"
)

// StatFS implements p9.File.StatFS: fstatfs(2) of the file system that
// holds this file (which may be one mounted below the export root).
func (n *node) StatFS() (p9.FSStat, error) {
	var s unix.Statfs_t
	if err := ignoringEINTR(func() error { return unix.Fstatfs(n.fd, &s) }); err != nil {
		return p9.FSStat{}, errno(err)
	}
	return p9.FSStat{
		Type:            uint32(s.Type),
		BlockSize:       uint32(s.Bsize),
		Blocks:          s.Blocks,
		BlocksFree:      s.Bfree,
		BlocksAvailable: s.Bavail,
		Files:           s.Files,
		FilesFree:       s.Ffree,
		FSID:            uint64(uint32(s.Fsid.Val[0])) | uint64(uint32(s.Fsid.Val[1]))<<32,
		NameLength:      uint32(s.Namelen),
	}, nil
}
