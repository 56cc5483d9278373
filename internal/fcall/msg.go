package fcall

import (
	"strconv"

	"github.com/hugelgupf/p9/p9"
)

// Msg is one 9P message body. Its concrete types are the T* and R* structs
// of this package.
type Msg interface {
	// Type is the message type on the wire (MsgTwalk, …).
	Type() uint8
	String() string
	encode(e *encoder, d Dialect)
	decode(d *decoder, dl Dialect)
}

func itoa(v int) string { return strconv.Itoa(v) }

func decodeNames(d *decoder) []string { return decodeList(d, 2, (*decoder).str) }

func decodeQIDs(d *decoder) []p9.QID { return decodeList(d, 13, (*decoder).qid) }

// decodeList reads a count[2] and that many elements, at most MaxWalk,
// each at least min bytes long (checked against the frame before the
// list is allocated).
func decodeList[T any](d *decoder, min int, one func(*decoder) T) []T {
	n := int(d.u16())
	if n > MaxWalk {
		if d.err == nil {
			d.err = ErrTooMany
		}
		return nil
	}
	if n == 0 || d.err != nil {
		return nil
	}
	if min*n > len(d.b) {
		d.err = ErrShort
		return nil
	}
	list := make([]T, n)
	for i := range list {
		list[i] = one(d)
	}
	return list
}

func encodeFSStat(e *encoder, s *p9.FSStat) {
	e.u32(s.Type)
	e.u32(s.BlockSize)
	e.u64(s.Blocks)
	e.u64(s.BlocksFree)
	e.u64(s.BlocksAvailable)
	e.u64(s.Files)
	e.u64(s.FilesFree)
	e.u64(s.FSID)
	e.u32(s.NameLength)
}

func decodeFSStat(d *decoder, s *p9.FSStat) {
	s.Type = d.u32()
	s.BlockSize = d.u32()
	s.Blocks = d.u64()
	s.BlocksFree = d.u64()
	s.BlocksAvailable = d.u64()
	s.Files = d.u64()
	s.FilesFree = d.u64()
	s.FSID = d.u64()
	s.NameLength = d.u32()
}

func encodeAttr(e *encoder, a *p9.Attr) {
	e.u32(uint32(a.Mode))
	e.u32(uint32(a.UID))
	e.u32(uint32(a.GID))
	e.u64(uint64(a.NLink))
	e.u64(uint64(a.RDev))
	e.u64(a.Size)
	e.u64(a.BlockSize)
	e.u64(a.Blocks)
	e.u64(a.ATimeSeconds)
	e.u64(a.ATimeNanoSeconds)
	e.u64(a.MTimeSeconds)
	e.u64(a.MTimeNanoSeconds)
	e.u64(a.CTimeSeconds)
	e.u64(a.CTimeNanoSeconds)
	e.u64(a.BTimeSeconds)
	e.u64(a.BTimeNanoSeconds)
	e.u64(a.Gen)
	e.u64(a.DataVersion)
}

func decodeAttr(d *decoder, a *p9.Attr) {
	a.Mode = p9.FileMode(d.u32())
	a.UID = p9.UID(d.u32())
	a.GID = p9.GID(d.u32())
	a.NLink = p9.NLink(d.u64())
	a.RDev = p9.Dev(d.u64())
	a.Size = d.u64()
	a.BlockSize = d.u64()
	a.Blocks = d.u64()
	a.ATimeSeconds = d.u64()
	a.ATimeNanoSeconds = d.u64()
	a.MTimeSeconds = d.u64()
	a.MTimeNanoSeconds = d.u64()
	a.CTimeSeconds = d.u64()
	a.CTimeNanoSeconds = d.u64()
	a.BTimeSeconds = d.u64()
	a.BTimeNanoSeconds = d.u64()
	a.Gen = d.u64()
	a.DataVersion = d.u64()
}

func encodeSetAttr(e *encoder, s *p9.SetAttr) {
	e.u32(uint32(s.Permissions))
	e.u32(uint32(s.UID))
	e.u32(uint32(s.GID))
	e.u64(s.Size)
	e.u64(s.ATimeSeconds)
	e.u64(s.ATimeNanoSeconds)
	e.u64(s.MTimeSeconds)
	e.u64(s.MTimeNanoSeconds)
}

func decodeSetAttr(d *decoder, s *p9.SetAttr) {
	s.Permissions = p9.FileMode(d.u32())
	s.UID = p9.UID(d.u32())
	s.GID = p9.GID(d.u32())
	s.Size = d.u64()
	s.ATimeSeconds = d.u64()
	s.ATimeNanoSeconds = d.u64()
	s.MTimeSeconds = d.u64()
	s.MTimeNanoSeconds = d.u64()
}

// DirentFixedSize is the size of a directory entry in Rreaddir without
// its name: qid[13] offset[8] type[1] name-length[2].
const DirentFixedSize = 13 + 8 + 1 + 2

// DirentSize is the wire size of the entry d.
func DirentSize(d *p9.Dirent) int { return DirentFixedSize + len(d.Name) }

// AppendDirent appends the wire form of one Rreaddir entry.
func AppendDirent(b []byte, d *p9.Dirent) []byte {
	e := encoder{b: b}
	e.qid(d.QID)
	e.u64(d.Offset)
	e.u8(uint8(d.Type))
	e.str(d.Name)
	return e.b
}

// DecodeDirents parses the data of an Rreaddir.
func DecodeDirents(data []byte) (p9.Dirents, error) {
	d := decoder{b: data}
	var out p9.Dirents
	for len(d.b) > 0 && d.err == nil {
		var ent p9.Dirent
		ent.QID = d.qid()
		ent.Offset = d.u64()
		ent.Type = p9.QIDType(d.u8())
		ent.Name = d.str()
		if d.err == nil {
			out = append(out, ent)
		}
	}
	return out, d.err
}
