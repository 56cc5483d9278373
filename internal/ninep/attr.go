package ninep

import (
	"errors"
	"os"
	"os/user"
	"strconv"
	"strings"

	"github.com/hugelgupf/p9/p9"
	"github.com/urfave/cli/v2"

	"mfs/internal/clierr"
)

// The verbs that change attributes: chmod, chown, touch. Each goes on past
// a path it cannot change and returns every failure (exit status 1); a bad
// MODE or OWNER is a usage error found before connecting (exit status 2).

func chmodVerb() verb {
	return verb{
		name:  "chmod",
		usage: "change file modes (Tsetattr)",
		args:  "MODE PATH…",
		examples: `Sets the mode of each PATH as chmod(1) does. MODE is octal (755, 0644,
4755: the whole mode, setuid, setgid and sticky included, except that a
directory keeps its setuid and setgid bits unless five digits are given)
or symbolic: comma-separated clauses [ugoa…][+-=][rwxXst…|u|g|o…], e.g.
u+x, go-w, a=rX, g=u. Without u, g, o or a the umask's bits are left
alone. A MODE that begins with "-" follows "--" (mfs 9p chmod -- -w f).
Symlinks have no mode of their own here: the server answers "operation
not supported".

Examples:
   mfs 9p chmod 755 /2/tmp/run.sh
   mfs 9p chmod u+x,go-w /2/tmp/run.sh /3/tmp/run.sh
   mfs 9p chmod a=rX /home/tmp/shared`,
		min: 2, max: -1,
		check: func(c *cli.Context, args []string) error {
			_, err := parseMode(args[0])
			return err
		},
		run: func(s *session, c *cli.Context, args []string) error {
			m, _ := parseMode(args[0])
			mask := umask()
			var errs []error
			for _, a := range args[1:] {
				p := cleanPath(a)
				if err := s.chmod(p, m, mask); err != nil {
					errs = append(errs, opErr("chmod", err, p))
				}
			}
			return errors.Join(errs...)
		},
	}
}

// chmod applies m to p's mode.
func (s *session) chmod(p string, m *modeChange, mask uint32) error {
	f, _, attr, err := s.walkAttr(p)
	if err != nil {
		return err
	}
	defer f.Close()
	perm := m.apply(uint32(attr.Mode)&0o7777, attr.Mode.IsDir(), mask)
	return f.SetAttr(p9.SetAttrMask{Permissions: true}, p9.SetAttr{Permissions: p9.FileMode(perm)})
}

// Mode bits.
const (
	modeSetuid = 0o4000
	modeSetgid = 0o2000
	modeSticky = 0o1000
	modeAll    = 0o7777
)

// modeChange is a parsed MODE: a list of operations applied in order.
type modeChange struct {
	ops []modeOp
}

// modeOp is one operator of a clause ("u+x" is one, "u+x-w" two), after
// the rules of gnulib's modechange.c, which chmod(1) uses.
type modeOp struct {
	op       byte   // '+', '-' or '='
	who      uint32 // bits the clause's who letters select; 0: none given (a, less the umask)
	bits     uint32 // r, w, x, s, t bits, spread over u, g and o
	x        bool   // X: x if a directory or any x is set
	copyFrom byte   // 'u', 'g' or 'o' to copy that class's current bits; 0 if none
	// mentioned are the bits the MODE names: a directory keeps its setuid
	// and setgid bits unless they are mentioned.
	mentioned uint32
}

// parseMode parses chmod's MODE: octal or symbolic.
func parseMode(spec string) (*modeChange, error) {
	bad := clierr.Usagef("chmod: invalid mode %q (want octal such as 755, or symbolic such as u+x,go-w)", spec)
	if spec == "" {
		return nil, bad
	}
	if spec[0] >= '0' && spec[0] <= '7' {
		n, err := strconv.ParseUint(spec, 8, 32)
		if err != nil || n > modeAll {
			return nil, bad
		}
		mentioned := uint32(modeAll)
		if len(spec) < 5 {
			mentioned = uint32(n)&(modeSetuid|modeSetgid) | modeSticky | 0o777
		}
		return &modeChange{ops: []modeOp{{op: '=', who: modeAll, bits: uint32(n), mentioned: mentioned}}}, nil
	}
	var m modeChange
	for _, clause := range strings.Split(spec, ",") {
		i := 0
		var who uint32
		for ; i < len(clause) && strings.IndexByte("ugoa", clause[i]) >= 0; i++ {
			who |= whoBits(clause[i])
		}
		if i == len(clause) {
			return nil, bad
		}
		for i < len(clause) {
			op := clause[i]
			if op != '+' && op != '-' && op != '=' {
				return nil, bad
			}
			i++
			o := modeOp{op: op, who: who}
			if i < len(clause) && strings.IndexByte("ugo", clause[i]) >= 0 {
				o.copyFrom = clause[i]
				i++
			} else {
				for ; i < len(clause) && strings.IndexByte("rwxXst", clause[i]) >= 0; i++ {
					switch clause[i] {
					case 'r':
						o.bits |= 0o444
					case 'w':
						o.bits |= 0o222
					case 'x':
						o.bits |= 0o111
					case 'X':
						o.x = true
					case 's':
						o.bits |= modeSetuid | modeSetgid
					case 't':
						o.bits |= modeSticky
					}
				}
			}
			o.mentioned = o.bits
			m.ops = append(m.ops, o)
		}
	}
	return &m, nil
}

// whoBits are the bits a who letter selects, its class's special bit
// included (setuid for u, setgid for g, sticky for o).
func whoBits(c byte) uint32 {
	switch c {
	case 'u':
		return modeSetuid | 0o700
	case 'g':
		return modeSetgid | 0o070
	case 'o':
		return modeSticky | 0o007
	}
	return modeAll
}

// apply returns the mode bits (0o7777) m makes of old, for a directory or
// not, with the umask mask for clauses without who letters.
func (m *modeChange) apply(old uint32, isDir bool, mask uint32) uint32 {
	mode := old & modeAll
	for _, o := range m.ops {
		var omit uint32
		if isDir {
			omit = (modeSetuid | modeSetgid) &^ o.mentioned
		}
		value := o.bits
		switch {
		case o.copyFrom != 0:
			var shift uint
			switch o.copyFrom {
			case 'u':
				shift = 6
			case 'g':
				shift = 3
			}
			rwx := (mode >> shift) & 7
			value = rwx<<6 | rwx<<3 | rwx
		case o.x && (isDir || mode&0o111 != 0):
			value |= 0o111
		}
		affected := o.who
		if affected == 0 {
			value &^= mask
		} else {
			value &= affected
		}
		value &^= omit
		switch o.op {
		case '+':
			mode |= value
		case '-':
			mode &^= value
		case '=':
			preserved := omit
			if affected != 0 {
				preserved |= modeAll &^ affected
			}
			mode = mode&preserved | value
		}
	}
	return mode
}

func chownVerb() verb {
	return verb{
		name:  "chown",
		usage: "change file owner and group (Tsetattr)",
		args:  "[OWNER][:GROUP] PATH…",
		examples: `Sets the owner and/or group of each PATH, as chown(1) does. OWNER and
GROUP are names in this host's user and group databases, or numbers;
"OWNER:" sets the group to OWNER's login group, ":GROUP" the group alone.
The ids are sent as numbers, so a name means what it means here. The
server decides who may give files away (on Linux, root; the owner may
change the group to one of its own).

Examples:
   mfs 9p chown alice /2/tmp/report
   mfs 9p chown alice:staff /2/tmp/report /3/tmp/report
   mfs 9p chown :1000 /home/tmp/shared`,
		min: 2, max: -1,
		check: func(c *cli.Context, args []string) error {
			_, err := parseOwner(args[0])
			return err
		},
		run: func(s *session, c *cli.Context, args []string) error {
			o, _ := parseOwner(args[0])
			var errs []error
			for _, a := range args[1:] {
				p := cleanPath(a)
				if err := s.setAttr(p, o.mask(), o.attr()); err != nil {
					errs = append(errs, opErr("chown", err, p))
				}
			}
			return errors.Join(errs...)
		},
	}
}

// owner is a parsed [OWNER][:GROUP].
type owner struct {
	uid, gid       uint32
	setUID, setGID bool
}

func (o owner) mask() p9.SetAttrMask { return p9.SetAttrMask{UID: o.setUID, GID: o.setGID} }

func (o owner) attr() p9.SetAttr { return p9.SetAttr{UID: p9.UID(o.uid), GID: p9.GID(o.gid)} }

// parseOwner parses chown's [OWNER][:GROUP] against this host's user and
// group databases; a name it does not know may be a number.
func parseOwner(spec string) (owner, error) {
	name, group, colon := strings.Cut(spec, ":")
	if name == "" && group == "" {
		return owner{}, clierr.Usagef("chown: %q: want OWNER, OWNER:GROUP, OWNER: or :GROUP", spec)
	}
	var o owner
	if name != "" {
		u, err := lookupUser(name)
		if err != nil {
			return owner{}, err
		}
		o.uid, o.setUID = u.uid, true
		if colon && group == "" {
			if u.gid < 0 {
				return owner{}, clierr.Usagef("chown: %q: user %s has no login group here; name the group", spec, name)
			}
			o.gid, o.setGID = uint32(u.gid), true
		}
	}
	if group != "" {
		gid, err := lookupGroup(group)
		if err != nil {
			return owner{}, err
		}
		o.gid, o.setGID = gid, true
	}
	return o, nil
}

// userIDs are a user's uid and login gid (-1 when unknown: a bare number).
type userIDs struct {
	uid uint32
	gid int64
}

// lookupUser finds a user by name, else takes name as a number.
func lookupUser(name string) (userIDs, error) {
	u, err := user.Lookup(name)
	if err == nil {
		uid, uerr := strconv.ParseUint(u.Uid, 10, 32)
		gid, gerr := strconv.ParseUint(u.Gid, 10, 32)
		if uerr == nil && gerr == nil {
			return userIDs{uid: uint32(uid), gid: int64(gid)}, nil
		}
	}
	if n, nerr := parseID(name); nerr == nil {
		ids := userIDs{uid: n, gid: -1}
		if u, err := user.LookupId(name); err == nil {
			if gid, err := strconv.ParseUint(u.Gid, 10, 32); err == nil {
				ids.gid = int64(gid)
			}
		}
		return ids, nil
	}
	return userIDs{}, clierr.Usagef("chown: unknown user %q", name)
}

// lookupGroup finds a group by name, else takes name as a number.
func lookupGroup(name string) (uint32, error) {
	if g, err := user.LookupGroup(name); err == nil {
		if gid, err := strconv.ParseUint(g.Gid, 10, 32); err == nil {
			return uint32(gid), nil
		}
	}
	if n, err := parseID(name); err == nil {
		return n, nil
	}
	return 0, clierr.Usagef("chown: unknown group %q", name)
}

// parseID parses a numeric user or group id; the all-ones id is 9P's
// "none", never an id.
func parseID(s string) (uint32, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n == 1<<32-1 {
		return 0, errors.New("not an id")
	}
	return uint32(n), nil
}

// setAttr walks to p and sets attributes.
func (s *session) setAttr(p string, mask p9.SetAttrMask, attr p9.SetAttr) error {
	f, err := s.walk(p)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.SetAttr(mask, attr)
}

func touchVerb() verb {
	return verb{
		name:  "touch",
		usage: "create empty files, or set their times to now",
		args:  "[-c] PATH…",
		examples: `Sets the access and modification times of each PATH to the server's
present time; a PATH that does not exist is created empty (mode 0666 less
the umask), unless -c is given.

Examples:
   mfs 9p touch /2/tmp/stamp
   mfs 9p touch -c /home/tmp/maybe`,
		flags: []cli.Flag{&cli.BoolFlag{Name: "c", Aliases: []string{"no-create"}, Usage: "do not create files that do not exist"}},
		min:   1, max: -1,
		run: func(s *session, c *cli.Context, args []string) error {
			var errs []error
			for _, a := range args {
				p := cleanPath(a)
				if err := s.touch(p, !c.Bool("c")); err != nil {
					errs = append(errs, opErr("touch", err, p))
				}
			}
			return errors.Join(errs...)
		},
	}
}

// touch sets p's atime and mtime to the server's now (Tsetattr without
// the *_SET bits), or creates p empty if it does not exist and create.
func (s *session) touch(p string, create bool) error {
	now := p9.SetAttrMask{ATime: true, MTime: true}
	err := s.setAttr(p, now, p9.SetAttr{})
	if !isNotExist(err) {
		return err
	}
	if !create {
		return nil
	}
	dir, name, err := s.walkParent(p)
	if err != nil {
		return err
	}
	defer dir.Close()
	f, _, _, err := dir.Create(name, p9.ReadOnly, p9.FileMode(0o666&^umask()), p9.UID(os.Getuid()), p9.GID(os.Getgid()))
	if isExist(err) { // made meanwhile: touch it
		return s.setAttr(p, now, p9.SetAttr{})
	}
	if err != nil {
		return err
	}
	return f.Close()
}
