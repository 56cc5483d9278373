// Package fcall is mfs's one 9P codec: the wire format of every message
// of 9P2000.L, 9P2000.u and 9P2000, apart from any client or server (as 9fans.net/go keeps
// plan9/fcall.go apart from its client and server). Nothing else in mfs
// parses or builds frames.
//
// A frame is size[4] type[1] tag[2] body; Append builds one, Decode parses
// one. Messages are plain structs over hugelgupf/p9's exported types
// (p9.QID, p9.Attr, p9.AttrMask, p9.SetAttr, p9.SetAttrMask, p9.FSStat,
// p9.OpenFlags, p9.FileMode, linux.Errno), so file systems keep speaking
// p9.File.
//
// Decoding is strict, because every byte from a socket is hostile: a body
// shorter or longer than its message is an error (ErrShort, ErrTrailing),
// strings are length-checked against the frame, a Twalk with more than
// MaxWalk names is ErrTooMany, and nothing is allocated beyond the frame
// (byte payloads such as Twrite's data alias the frame; names are copied
// into strings). Modes and permissions pass unmasked: setuid, setgid and
// sticky bits survive.
//
// The dialect is a property of a connection (ParseVersion picks it from a
// Tversion string as version(5) says), and both Append and Decode take it:
// a message of another dialect is an unknown type (Dialect.Has), and the
// bodies that differ (Tattach and Tauth without n_uname in 9P2000; Rerror,
// Tcreate and the stat of 9P2000.u with their extra fields) are read and
// written as the dialect has them. The messages 9P2000.L replaced are in
// plan9.go, with the Dir of stat(5) and its bits.
//
// One tolerated variant: Tfsync carries fid[4] datasync[4] as the Linux
// client sends it, and a body of fid[4] alone (the form hugelgupf/p9's
// client sends) decodes with Datasync 0.
package fcall
