package srv9p

import (
	"math/bits"
	"sync"
)

// Frame buffers come from pools by power-of-two size class, from 512 bytes
// to 8 MiB (above the largest msize): a connection holds only what its
// requests in flight need, and a burst of big reads and writes reuses its
// buffers instead of making garbage.
const (
	minBufShift = 9
	maxBufShift = 23
)

var bufPools [maxBufShift - minBufShift + 1]sync.Pool

// getBuf returns a buffer of length n (and a capacity of its class).
func getBuf(n int) []byte {
	c := bufClass(n)
	if c < 0 {
		return make([]byte, n)
	}
	if p, ok := bufPools[c].Get().(*[]byte); ok {
		return (*p)[:n]
	}
	return make([]byte, n, 1<<(c+minBufShift))
}

// putBuf returns a buffer that getBuf gave out; b must not be used after.
func putBuf(b []byte) {
	c := bufClass(cap(b))
	if c < 0 || cap(b) != 1<<(c+minBufShift) {
		return
	}
	b = b[:0]
	bufPools[c].Put(&b)
}

// bufClass returns the pool index for n bytes, -1 if too large.
func bufClass(n int) int {
	if n <= 1<<minBufShift {
		return 0
	}
	c := bits.Len(uint(n-1)) - minBufShift
	if c >= len(bufPools) {
		return -1
	}
	return c
}
