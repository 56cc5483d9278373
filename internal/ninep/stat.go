package ninep

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/hugelgupf/p9/p9"
	"github.com/urfave/cli/v2"
)

func statVerb() verb {
	return verb{
		name:  "stat",
		usage: "print every attribute of a file (Tgetattr)",
		args:  "PATH",
		examples: `Prints the qid and every field of a Tgetattr reply, one "name value" line
each; a field the server did not fill in shows "-". In 9p2000 and 9p2000.u
it is the Tstat reply as Tgetattr would say it: no nlink, ctime, blocks,
btime or generation, times in whole seconds.

Examples:
   mfs 9p stat /2/etc/hostname
   mfs 9p stat /selected`,
		min: 1, max: 1,
		run: func(s *session, c *cli.Context, args []string) error {
			p := cleanPath(args[0])
			f, err := s.walk(p)
			if err != nil {
				return opErr("stat", err, p)
			}
			defer f.Close()
			qid, valid, attr, err := f.GetAttr(p9.AttrMaskAll)
			if err != nil {
				return opErr("stat", err, p)
			}
			printStat(c.App.Writer, p, qid, valid, attr)
			return nil
		},
	}
}

// printStat writes one "name value" line per attribute.
func printStat(w io.Writer, p string, qid p9.QID, valid p9.AttrMask, a p9.Attr) {
	names := newIDNames()
	num := func(ok bool, v uint64) string {
		if !ok {
			return "-"
		}
		return strconv.FormatUint(v, 10)
	}
	tm := func(ok bool, sec, nsec uint64) string {
		if !ok {
			return "-"
		}
		return time.Unix(int64(sec), int64(nsec)).Format("2006-01-02 15:04:05.000000000 -0700")
	}
	mode, uid, gid := "-", "-", "-"
	if valid.Mode {
		mode = fmt.Sprintf("%s (%07o)", modeString(a.Mode), uint32(a.Mode))
	}
	if valid.UID {
		uid = fmt.Sprintf("%d (%s)", a.UID, names.user(uint32(a.UID)))
	}
	if valid.GID {
		gid = fmt.Sprintf("%d (%s)", a.GID, names.group(uint32(a.GID)))
	}
	lines := [][2]string{
		{"path", p},
		{"qid", fmt.Sprintf("type 0x%02x version %d path %#x", uint8(qid.Type), qid.Version, qid.Path)},
		{"mode", mode},
		{"nlink", num(valid.NLink, uint64(a.NLink))},
		{"uid", uid},
		{"gid", gid},
		{"rdev", num(valid.RDev, uint64(a.RDev))},
		{"size", num(valid.Size, a.Size)},
		{"blksize", num(true, a.BlockSize)},
		{"blocks", num(valid.Blocks, a.Blocks)},
		{"atime", tm(valid.ATime, a.ATimeSeconds, a.ATimeNanoSeconds)},
		{"mtime", tm(valid.MTime, a.MTimeSeconds, a.MTimeNanoSeconds)},
		{"ctime", tm(valid.CTime, a.CTimeSeconds, a.CTimeNanoSeconds)},
		{"btime", tm(valid.BTime, a.BTimeSeconds, a.BTimeNanoSeconds)},
		{"gen", num(valid.Gen, a.Gen)},
		{"data_version", num(valid.DataVersion, a.DataVersion)},
		{"valid", valid.String()},
	}
	for _, l := range lines {
		fmt.Fprintf(w, "%-12s %s\n", l[0], l[1])
	}
}
