package vm

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
)

// cpioEntry is one member of an initramfs: a directory, a regular file, a
// symlink or a character device. The kernel unpacks the archive in order, so
// parents come before children (writeCPIO sorts by path for that).
type cpioEntry struct {
	name  string // path without a leading slash
	mode  uint32 // file type and permission bits, as in st_mode
	data  []byte // file contents, or the target of a symlink
	major uint32 // device numbers of a character device
	minor uint32
}

const (
	sIFDIR = 0o040000
	sIFREG = 0o100000
	sIFLNK = 0o120000
	sIFCHR = 0o020000
)

// writeCPIO writes entries as a "newc" cpio archive, the format the kernel
// unpacks into its initial rootfs. It is written here rather than with cpio(1)
// so that the test needs no tool beyond QEMU and busybox.
func writeCPIO(w io.Writer, entries []cpioEntry) error {
	sorted := append([]cpioEntry(nil), entries...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].name < sorted[j].name })
	bw := bufio.NewWriter(w)
	var off int64
	pad := func() error {
		if n := (4 - off%4) % 4; n > 0 {
			if _, err := bw.Write(make([]byte, n)); err != nil {
				return err
			}
			off += n
		}
		return nil
	}
	put := func(ino int, e cpioEntry) error {
		nlink := 1
		if e.mode&0o170000 == sIFDIR {
			nlink = 2
		}
		hdr := fmt.Sprintf("070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
			ino, e.mode, 0, 0, nlink, 0, len(e.data), 0, 0, e.major, e.minor, len(e.name)+1, 0)
		n, err := io.WriteString(bw, hdr+e.name+"\x00")
		off += int64(n)
		if err != nil {
			return err
		}
		if err := pad(); err != nil {
			return err
		}
		n, err = bw.Write(e.data)
		off += int64(n)
		if err != nil {
			return err
		}
		return pad()
	}
	for i, e := range sorted {
		if e.name == "" || path.IsAbs(e.name) {
			return fmt.Errorf("cpio: bad name %q", e.name)
		}
		if err := put(i+1, e); err != nil {
			return err
		}
	}
	if err := put(0, cpioEntry{name: "TRAILER!!!"}); err != nil {
		return err
	}
	return bw.Flush()
}

// writeCPIOFile writes the archive to file atomically (a temporary file
// renamed into place), so a killed run never leaves half an initramfs in the
// cache.
func writeCPIOFile(file string, entries []cpioEntry) error {
	tmp, err := os.CreateTemp(path.Dir(file), ".initramfs-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := writeCPIO(tmp, entries); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), file)
}
