package export

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hugelgupf/p9/p9"
	"golang.org/x/sys/unix"
)

func TestQIDMap(t *testing.T) {
	var m qidMap
	m.init(10)
	cases := []struct {
		name      string
		dev, ino  uint64
		wantTable bool
	}{
		{"root device", 10, 5, false},
		{"other device, same inode", 11, 5, false},
		{"third device", 12, 5, false},
		{"huge inode", 10, 1 << 50, true},
		{"another huge inode", 11, 1 << 50, true},
	}
	seen := make(map[uint64]string)
	for _, tc := range cases {
		p := m.path(tc.dev, tc.ino)
		if again := m.path(tc.dev, tc.ino); again != p {
			t.Errorf("%s: path %#x then %#x", tc.name, p, again)
		}
		if (p&tableBit != 0) != tc.wantTable {
			t.Errorf("%s: path %#x, table bit want %v", tc.name, p, tc.wantTable)
		}
		if other, dup := seen[p]; dup {
			t.Errorf("%s and %s share path %#x", tc.name, other, p)
		}
		seen[p] = tc.name
	}
	if p := m.path(10, 5); p != 5 {
		t.Errorf("root device inode 5 has path %#x, want 5 (index 0)", p)
	}
}

// TestQIDs checks QIDs through the export: distinct per file, stable, with
// a version that moves when the file is written, and distinct across a file
// system mounted inside the root.
func TestQIDs(t *testing.T) {
	a, dir := newExport(t)
	os.WriteFile(filepath.Join(dir, "a"), []byte("1"), 0o644)
	os.WriteFile(filepath.Join(dir, "b"), []byte("1"), 0o644)
	os.Mkdir(filepath.Join(dir, "mnt"), 0o755)
	root, err := a.Attach()
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	qid := func(name string) p9.QID {
		t.Helper()
		q, f, err := root.Walk([]string{name})
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		return q[0]
	}
	qa, qb := qid("a"), qid("b")
	if qa.Path == qb.Path {
		t.Fatal("two files share a QID path")
	}
	if qid("a") != qa {
		t.Fatal("QID of an unchanged file changed")
	}
	_, f, _ := root.Walk([]string{"a"})
	f.Open(p9.WriteOnly)
	f.WriteAt([]byte("2"), 5)
	f.Close()
	if q := qid("a"); q.Path != qa.Path || q.Version == qa.Version {
		t.Fatalf("after a write: %v, before %v", q, qa)
	}
	if q := qid("mnt"); q.Type != p9.TypeDir {
		t.Fatalf("directory QID type %v", q.Type)
	}

	// A tmpfs under the root: its inodes are small numbers that may equal
	// inodes of the root's file system; their QIDs must still differ.
	if err := unix.Mount("tmpfs", filepath.Join(dir, "mnt"), "tmpfs", 0, "size=1m"); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v", err)
	}
	defer unix.Unmount(filepath.Join(dir, "mnt"), unix.MNT_DETACH)
	var rootSt, mntSt unix.Stat_t
	unix.Stat(dir, &rootSt)
	unix.Stat(filepath.Join(dir, "mnt"), &mntSt)
	if rootSt.Dev == mntSt.Dev {
		t.Skip("the mount did not make a new device")
	}
	qm := qid("mnt")
	if qm.Path>>inoBits == 0 {
		t.Errorf("QID of the tmpfs root %#x carries the root device's index", qm.Path)
	}
	if qm.Path&(1<<inoBits-1) != mntSt.Ino {
		t.Errorf("QID %#x does not hold the tmpfs inode %d", qm.Path, mntSt.Ino)
	}
	_, m, err := root.Walk([]string{"mnt"})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	s, err := m.StatFS()
	if err != nil || s.Type != unix.TMPFS_MAGIC {
		t.Errorf("statfs of the mount: type %#x, %v", s.Type, err)
	}
}

// TestGetAttrFull checks that every attribute comes back, nanoseconds and
// birth time included.
func TestGetAttrFull(t *testing.T) {
	a, dir := newExport(t)
	p := filepath.Join(dir, "a")
	os.WriteFile(p, []byte("hello"), 0o640)
	unix.UtimesNano(p, []unix.Timespec{{Sec: 11, Nsec: 12}, {Sec: 13, Nsec: 14}})
	root, _ := a.Attach()
	defer root.Close()
	_, f, err := root.Walk([]string{"a"})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, valid, attr, err := f.GetAttr(p9.AttrMaskAll)
	if err != nil {
		t.Fatal(err)
	}
	var stx unix.Statx_t
	unix.Statx(unix.AT_FDCWD, p, unix.AT_SYMLINK_NOFOLLOW, unix.STATX_ALL, &stx)
	want := p9.Attr{
		Mode: p9.FileMode(stx.Mode), UID: p9.UID(stx.Uid), GID: p9.GID(stx.Gid), NLink: p9.NLink(stx.Nlink),
		Size: 5, BlockSize: uint64(stx.Blksize), Blocks: stx.Blocks,
		ATimeSeconds: 11, ATimeNanoSeconds: 12, MTimeSeconds: 13, MTimeNanoSeconds: 14,
		CTimeSeconds: uint64(stx.Ctime.Sec), CTimeNanoSeconds: uint64(stx.Ctime.Nsec),
	}
	if stx.Mask&unix.STATX_BTIME != 0 {
		if !valid.BTime {
			t.Error("host knows btime, GetAttr does not say so")
		}
		want.BTimeSeconds, want.BTimeNanoSeconds = uint64(stx.Btime.Sec), uint64(stx.Btime.Nsec)
	}
	if attr != want {
		t.Errorf("GetAttr\n got %v\nwant %v", attr, want)
	}
	if !valid.Mode || !valid.Size || !valid.ATime || !valid.MTime || !valid.CTime || !valid.Blocks || !valid.NLink {
		t.Errorf("valid mask %v", valid)
	}
}
