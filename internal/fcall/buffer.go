package fcall

import (
	"encoding/binary"

	"github.com/hugelgupf/p9/p9"
)

// encoder appends little-endian fields to a frame.
type encoder struct{ b []byte }

func (e *encoder) u8(v uint8)   { e.b = append(e.b, v) }
func (e *encoder) u16(v uint16) { e.b = binary.LittleEndian.AppendUint16(e.b, v) }
func (e *encoder) u32(v uint32) { e.b = binary.LittleEndian.AppendUint32(e.b, v) }
func (e *encoder) u64(v uint64) { e.b = binary.LittleEndian.AppendUint64(e.b, v) }

// str appends a string; longer strings than 9P can carry are cut at
// 65535 bytes (callers check names before they get here).
func (e *encoder) str(s string) {
	if len(s) > 0xffff {
		s = s[:0xffff]
	}
	e.u16(uint16(len(s)))
	e.b = append(e.b, s...)
}

func (e *encoder) qid(q p9.QID) {
	e.u8(uint8(q.Type))
	e.u32(q.Version)
	e.u64(q.Path)
}

// decoder reads little-endian fields from a frame body. The first field
// that does not fit sets err; later reads return zero values.
type decoder struct {
	b   []byte
	err error
}

// take returns the next n bytes. A count read from the wire can be
// negative as an int where int has 32 bits (a u32 count of 1<<31 or more),
// so n < 0 is short too.
func (d *decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.b) {
		d.err = ErrShort
		d.b = nil
		return nil
	}
	p := d.b[:n:n]
	d.b = d.b[n:]
	return p
}

func (d *decoder) u8() uint8 {
	if p := d.take(1); p != nil {
		return p[0]
	}
	return 0
}

func (d *decoder) u16() uint16 {
	if p := d.take(2); p != nil {
		return binary.LittleEndian.Uint16(p)
	}
	return 0
}

func (d *decoder) u32() uint32 {
	if p := d.take(4); p != nil {
		return binary.LittleEndian.Uint32(p)
	}
	return 0
}

func (d *decoder) u64() uint64 {
	if p := d.take(8); p != nil {
		return binary.LittleEndian.Uint64(p)
	}
	return 0
}

func (d *decoder) str() string {
	n := d.u16()
	return string(d.take(int(n)))
}

func (d *decoder) qid() p9.QID {
	return p9.QID{Type: p9.QIDType(d.u8()), Version: d.u32(), Path: d.u64()}
}

// Bits of getattr's request and valid masks (9P2000.L, P9_GETATTR_*).
var attrBits = [...]struct {
	bit uint64
	get func(*p9.AttrMask) *bool
}{
	{0x1, func(m *p9.AttrMask) *bool { return &m.Mode }},
	{0x2, func(m *p9.AttrMask) *bool { return &m.NLink }},
	{0x4, func(m *p9.AttrMask) *bool { return &m.UID }},
	{0x8, func(m *p9.AttrMask) *bool { return &m.GID }},
	{0x10, func(m *p9.AttrMask) *bool { return &m.RDev }},
	{0x20, func(m *p9.AttrMask) *bool { return &m.ATime }},
	{0x40, func(m *p9.AttrMask) *bool { return &m.MTime }},
	{0x80, func(m *p9.AttrMask) *bool { return &m.CTime }},
	{0x100, func(m *p9.AttrMask) *bool { return &m.INo }},
	{0x200, func(m *p9.AttrMask) *bool { return &m.Size }},
	{0x400, func(m *p9.AttrMask) *bool { return &m.Blocks }},
	{0x800, func(m *p9.AttrMask) *bool { return &m.BTime }},
	{0x1000, func(m *p9.AttrMask) *bool { return &m.Gen }},
	{0x2000, func(m *p9.AttrMask) *bool { return &m.DataVersion }},
}

// AttrMaskBits returns the wire form of a getattr mask.
func AttrMaskBits(m p9.AttrMask) uint64 {
	var v uint64
	for _, a := range attrBits {
		if *a.get(&m) {
			v |= a.bit
		}
	}
	return v
}

// AttrMaskOf returns the getattr mask of its wire form; unknown bits are
// ignored (a client may ask for more than the protocol defines).
func AttrMaskOf(v uint64) p9.AttrMask {
	var m p9.AttrMask
	for _, a := range attrBits {
		*a.get(&m) = v&a.bit != 0
	}
	return m
}

// Bits of setattr's valid mask (9P2000.L, P9_ATTR_*).
var setAttrBits = [...]struct {
	bit uint32
	get func(*p9.SetAttrMask) *bool
}{
	{0x1, func(m *p9.SetAttrMask) *bool { return &m.Permissions }},
	{0x2, func(m *p9.SetAttrMask) *bool { return &m.UID }},
	{0x4, func(m *p9.SetAttrMask) *bool { return &m.GID }},
	{0x8, func(m *p9.SetAttrMask) *bool { return &m.Size }},
	{0x10, func(m *p9.SetAttrMask) *bool { return &m.ATime }},
	{0x20, func(m *p9.SetAttrMask) *bool { return &m.MTime }},
	{0x40, func(m *p9.SetAttrMask) *bool { return &m.CTime }},
	{0x80, func(m *p9.SetAttrMask) *bool { return &m.ATimeNotSystemTime }},
	{0x100, func(m *p9.SetAttrMask) *bool { return &m.MTimeNotSystemTime }},
}

// SetAttrMaskBits returns the wire form of a setattr mask.
func SetAttrMaskBits(m p9.SetAttrMask) uint32 {
	var v uint32
	for _, a := range setAttrBits {
		if *a.get(&m) {
			v |= a.bit
		}
	}
	return v
}

// SetAttrMaskOf returns the setattr mask of its wire form; unknown bits
// are ignored.
func SetAttrMaskOf(v uint32) p9.SetAttrMask {
	var m p9.SetAttrMask
	for _, a := range setAttrBits {
		*a.get(&m) = v&a.bit != 0
	}
	return m
}
