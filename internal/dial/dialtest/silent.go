// Package dialtest holds 9P peers for tests of clients.
package dialtest

import (
	"encoding/binary"
	"io"
	"net"
)

// 9P message types of the version exchange.
const (
	msgTversion = 100
	msgRversion = 101
)

// AnswerVersionOnly answers every Tversion on c as a 9P2000.L server would
// (granting the msize asked for) and ignores every other request: a server
// that froze right after the handshake. It returns when c fails.
func AnswerVersionOnly(c net.Conn) {
	for {
		var hdr [7]byte
		if _, err := io.ReadFull(c, hdr[:]); err != nil {
			return
		}
		size := binary.LittleEndian.Uint32(hdr[:4])
		if size < 7 { // a Tflush is 7+2 bytes: read it and stay silent
			return
		}
		body := make([]byte, size-7)
		if _, err := io.ReadFull(c, body); err != nil {
			return
		}
		if hdr[4] != msgTversion || len(body) < 4 {
			continue
		}
		const version = "9P2000.L"
		r := binary.LittleEndian.AppendUint32(nil, uint32(7+4+2+len(version)))
		r = append(r, msgRversion, hdr[5], hdr[6])
		r = append(r, body[:4]...) // the msize asked for
		r = binary.LittleEndian.AppendUint16(r, uint16(len(version)))
		r = append(r, version...)
		if _, err := c.Write(r); err != nil {
			return
		}
	}
}
