package srv9p

import (
	"encoding/binary"
	"strconv"
	"strings"

	"github.com/hugelgupf/p9/p9"
)

// The p9 server gives Attach no arguments and Create, Mkdir, Symlink and
// Mknod p9.NoUID, so the attaching user (Tattach's n_uname, one attach per
// local uid under the Linux client's access=user or access=client) is lost.
// Serve's filter carries it in the attach name instead: it puts a uid
// element before the name the client gave, and the root's Walk of that
// element returns a root carrying the uid, inherited by every file walked
// from it. Elements start with reservedPrefix, which no client may send
// (the filter turns such names into ones the server refuses), and carry
// the process secret, so they cannot be forged even where the filter is
// not in front (p9.NewServer alone).
const (
	reservedPrefix = "\x00mfs"
	uidMagic       = reservedPrefix + "-uid\x00"
)

// UIDElement returns the walk element that gives the files walked through
// it the owner uid (see AttachUID). Only this process's exports and
// AttachUID accept it.
func UIDElement(uid p9.UID) string {
	return uidMagic + getLocks.secret + "." + strconv.FormatUint(uint64(uid), 10)
}

// AttachUID reports whether name is a uid element that Serve's filter put
// before the attach name of a Tattach carrying n_uname uid. A p9.Attacher
// served by Serve sees it as the first name walked from the root of such
// an attach; it should return a root whose new files belong to uid. An
// export made by New does so itself.
func AttachUID(name string) (p9.UID, bool) {
	rest, ok := strings.CutPrefix(name, uidMagic)
	if !ok {
		return p9.NoUID, false
	}
	rest, ok = strings.CutPrefix(rest, getLocks.secret+".")
	if !ok {
		return p9.NoUID, false
	}
	v, err := strconv.ParseUint(rest, 10, 32)
	if err != nil || p9.UID(v) == p9.NoUID || strconv.FormatUint(v, 10) != rest {
		return p9.NoUID, false
	}
	return p9.UID(v), true
}

// rewriteAttach rewrites a Tattach frame
//
//	size[4] Tattach tag[2] fid[4] afid[4] uname[s] aname[s] n_uname[4]
//
// so that its attach name starts with the uid element of n_uname, and
// refuses (with the attach name ".", which the server rejects) an attach
// name that starts with reservedPrefix. It returns nil when the frame
// passes as it is: no n_uname, or malformed.
func rewriteAttach(frame []byte) []byte {
	b := frame[hdrLen:]
	if len(b) < 10 {
		return nil
	}
	un := int(binary.LittleEndian.Uint16(b[8:]))
	if len(b) < 10+un+2 {
		return nil
	}
	an := int(binary.LittleEndian.Uint16(b[10+un:]))
	if len(b) != 10+un+2+an+4 {
		return nil
	}
	aname := string(b[12+un : 12+un+an])
	uid := p9.UID(binary.LittleEndian.Uint32(b[12+un+an:]))
	trimmed := strings.TrimPrefix(aname, "/")
	switch {
	case strings.HasPrefix(trimmed, reservedPrefix):
		aname = "."
	case !uid.Ok():
		return nil
	case trimmed == "":
		aname = UIDElement(uid)
	default:
		aname = UIDElement(uid) + "/" + trimmed
	}
	if len(aname) > 0xffff {
		aname = "."
	}
	out := make([]byte, 0, len(frame)-an+len(aname))
	out = append(out, frame[:hdrLen+10+un]...)
	out = binary.LittleEndian.AppendUint16(out, uint16(len(aname)))
	out = append(out, aname...)
	out = binary.LittleEndian.AppendUint32(out, uint32(uid))
	binary.LittleEndian.PutUint32(out, uint32(len(out)))
	return out
}
