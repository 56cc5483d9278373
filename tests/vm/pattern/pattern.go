// Package pattern is the deterministic file content the VM tests write in
// the guest and verify on the host, so that neither side has to hash 64 MiB
// under an emulated CPU.
package pattern

import (
	"encoding/binary"
	"fmt"
	"io"
)

// Fill fills b with bytes that depend on off, the offset of b in the file.
// off and len(b) must be multiples of Chunk for two calls to agree; a
// misplaced or repeated block changes the content.
func Fill(b []byte, off int64) {
	for base := 0; base < len(b); base += Chunk {
		end := min(base+Chunk, len(b))
		x := uint64(off+int64(base))*0x9E3779B97F4A7C15 | 1
		for i := base; i+8 <= end; i += 8 {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			binary.LittleEndian.PutUint64(b[i:], x)
		}
	}
}

// Chunk is the granularity of the pattern: each Chunk-aligned block is
// seeded by its own offset.
const Chunk = 4096

// Check reads r to the end and reports whether it holds exactly size bytes
// of Fill.
func Check(r io.Reader, size int64) error {
	buf := make([]byte, 1<<20)
	want := make([]byte, len(buf))
	var off int64
	for {
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			Fill(want[:n], off)
			if i := firstDiff(buf[:n], want[:n]); i >= 0 {
				return fmt.Errorf("content differs at byte %d", off+int64(i))
			}
			off += int64(n)
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return err
		}
	}
	if off != size {
		return fmt.Errorf("size %d, want %d", off, size)
	}
	return nil
}

func firstDiff(a, b []byte) int {
	for i := range a {
		if a[i] != b[i] {
			return i
		}
	}
	return -1
}
