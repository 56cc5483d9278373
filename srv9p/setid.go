package srv9p

import (
	"crypto/rand"
	"encoding/binary"
	"sync"
	"sync/atomic"

	"github.com/hugelgupf/p9/p9"
)

// The p9 codec masks Tsetattr's mode with 01777 before SetAttr sees it, so
// chmod cannot set the setuid and setgid bits (06000). Serve's filter
// carries them in the Tsetattr's size field, which means nothing unless
// the size bit of valid is set: it puts a registered token there whose
// value names the bits, and SetAttrMode puts them back. Tokens have a
// random, process-wide top half, so the garbage a client may leave in an
// unused size field (Linux leaves it uninitialized for chmod) matches a
// registered token only by a 2^-31 chance per request in flight.
var setids = struct {
	mu      sync.Mutex
	pending map[uint64]p9.FileMode // token: the setuid/setgid bits
	base    uint64
	seq     atomic.Uint32
}{pending: make(map[uint64]p9.FileMode), base: newSetidBase()}

func newSetidBase() uint64 {
	var b [4]byte
	rand.Read(b[:])
	return (1<<63 | uint64(binary.LittleEndian.Uint32(b[:]))<<32) &^ (1<<32 - 1)
}

// Tsetattr layout: size[4] Tsetattr tag[2] fid[4] valid[4] mode[4] uid[4]
// gid[4] size[8] atime_sec[8] atime_nsec[8] mtime_sec[8] mtime_nsec[8].
const (
	msgTsetattr     = 26
	setattrLen      = hdrLen + 4 + 4 + 4 + 4 + 4 + 5*8
	setattrValidOff = hdrLen + 4
	setattrModeOff  = hdrLen + 8
	setattrSizeOff  = hdrLen + 20
	setattrMode     = 0x1 // valid: mode
	setattrSize     = 0x8 // valid: size
	setidBits       = 06000
)

// markSetid registers the setuid/setgid bits of a Tsetattr frame that
// sets them (and not the size), writes the token into the frame's size
// field in place, and returns it; 0 if the frame needs nothing.
func markSetid(frame []byte) uint64 {
	if len(frame) != setattrLen {
		return 0
	}
	valid := binary.LittleEndian.Uint32(frame[setattrValidOff:])
	mode := binary.LittleEndian.Uint32(frame[setattrModeOff:])
	if valid&setattrMode == 0 || valid&setattrSize != 0 || mode&setidBits == 0 {
		return 0
	}
	t := setids.base | uint64(setids.seq.Add(1))
	setids.mu.Lock()
	setids.pending[t] = p9.FileMode(mode & setidBits)
	setids.mu.Unlock()
	binary.LittleEndian.PutUint64(frame[setattrSizeOff:], t)
	return t
}

// takeSetid removes a token once its Tsetattr is answered.
func takeSetid(t uint64) {
	setids.mu.Lock()
	delete(setids.pending, t)
	setids.mu.Unlock()
}

// SetAttrMode returns the permissions a SetAttr call is to set: those of
// attr, with the setuid and setgid bits that Serve's filter carried past
// the p9 codec (see above) put back. Only meaningful when
// valid.Permissions is set.
func SetAttrMode(valid p9.SetAttrMask, attr p9.SetAttr) p9.FileMode {
	perm := attr.Permissions
	if valid.Size || attr.Size&^(1<<32-1) != setids.base {
		return perm
	}
	setids.mu.Lock()
	bits := setids.pending[attr.Size]
	setids.mu.Unlock()
	return perm | bits
}
