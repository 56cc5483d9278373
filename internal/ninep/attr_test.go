package ninep

import (
	"os/user"
	"strconv"
	"testing"
)

func TestParseModeApply(t *testing.T) {
	tests := []struct {
		mode  string
		old   uint32
		dir   bool
		umask uint32
		want  uint32
	}{
		{"755", 0o644, false, 0o022, 0o755},
		{"0644", 0o4755, false, 0o022, 0o644},
		{"4755", 0o644, false, 0o022, 0o4755},
		{"1777", 0o755, true, 0o022, 0o1777},
		// A directory keeps setgid unless five digits are given.
		{"755", 0o2775, true, 0o022, 0o2755},
		{"00755", 0o2775, true, 0o022, 0o755},
		{"2755", 0o775, true, 0o022, 0o2755},
		{"u+x", 0o644, false, 0o022, 0o744},
		{"go-w", 0o666, false, 0o022, 0o644},
		{"a=rX", 0o640, false, 0o022, 0o444},
		{"a=rX", 0o740, false, 0o022, 0o555},
		{"a=rX", 0o700, true, 0o022, 0o555},
		{"u+x,go-w", 0o666, false, 0o022, 0o744},
		{"u=rwx,g=rx,o=", 0o4777, false, 0o022, 0o750},
		{"g=u", 0o750, false, 0o022, 0o770},
		{"o=g", 0o750, false, 0o022, 0o755},
		{"u+s", 0o755, false, 0o022, 0o4755},
		{"g+s", 0o755, true, 0o022, 0o2755},
		{"+t", 0o777, true, 0o022, 0o1777},
		{"o-t", 0o1777, true, 0o022, 0o777},
		{"u+x-w", 0o644, false, 0o022, 0o544},
		// Without who letters, the umask's bits are left alone.
		{"+w", 0o444, false, 0o022, 0o644},
		{"-w", 0o666, false, 0o022, 0o444 | 0o022},
		{"=r", 0o777, false, 0o022, 0o444},
		{"=", 0o755, false, 0o022, 0},
		{"+x", 0o644, false, 0o077, 0o744},
		{"a+x", 0o644, false, 0o077, 0o755},
	}
	for _, tt := range tests {
		m, err := parseMode(tt.mode)
		if err != nil {
			t.Errorf("parseMode(%q): %v", tt.mode, err)
			continue
		}
		if got := m.apply(tt.old, tt.dir, tt.umask); got != tt.want {
			t.Errorf("chmod %s on %#o (dir %v, umask %#o) = %#o, want %#o", tt.mode, tt.old, tt.dir, tt.umask, got, tt.want)
		}
	}
}

func TestParseModeInvalid(t *testing.T) {
	for _, mode := range []string{"", "8", "799", "17777", "u", "u+y", "x+r", "u+x,", ",u+x", "u+ug", "a=rw x", "+-z"} {
		_, err := parseMode(mode)
		want := `chmod: invalid mode "` + mode + `" (want octal such as 755, or symbolic such as u+x,go-w)`
		if err == nil || err.Error() != want || exitCode(err) != 2 {
			t.Errorf("parseMode(%q) = %v, want usage error %q", mode, err, want)
		}
	}
}

func TestParseOwner(t *testing.T) {
	root, err := user.LookupId("0")
	if err != nil {
		t.Skipf("no user 0 in this host's database: %v", err)
	}
	rootGroup, err := user.LookupGroupId(root.Gid)
	if err != nil {
		t.Skipf("no group %s: %v", root.Gid, err)
	}
	gid, _ := strconv.ParseUint(root.Gid, 10, 32)
	tests := []struct {
		spec string
		want owner
	}{
		{root.Username, owner{uid: 0, setUID: true}},
		{"0", owner{uid: 0, setUID: true}},
		{"4321", owner{uid: 4321, setUID: true}},
		{root.Username + ":", owner{uid: 0, gid: uint32(gid), setUID: true, setGID: true}},
		{"0:", owner{uid: 0, gid: uint32(gid), setUID: true, setGID: true}},
		{":" + rootGroup.Name, owner{gid: uint32(gid), setGID: true}},
		{":77", owner{gid: 77, setGID: true}},
		{"12:34", owner{uid: 12, gid: 34, setUID: true, setGID: true}},
		{root.Username + ":" + rootGroup.Name, owner{uid: 0, gid: uint32(gid), setUID: true, setGID: true}},
	}
	for _, tt := range tests {
		got, err := parseOwner(tt.spec)
		if err != nil || got != tt.want {
			t.Errorf("parseOwner(%q) = %+v, %v; want %+v", tt.spec, got, err, tt.want)
		}
	}

	bad := []struct{ spec, err string }{
		{"", `chown: "": want OWNER, OWNER:GROUP, OWNER: or :GROUP`},
		{":", `chown: ":": want OWNER, OWNER:GROUP, OWNER: or :GROUP`},
		{"no-such-user-mfs", `chown: unknown user "no-such-user-mfs"`},
		{":no-such-group-mfs", `chown: unknown group "no-such-group-mfs"`},
		{"4294967295", `chown: unknown user "4294967295"`},
		{"-1", `chown: unknown user "-1"`},
	}
	for _, tt := range bad {
		_, err := parseOwner(tt.spec)
		if err == nil || err.Error() != tt.err || exitCode(err) != 2 {
			t.Errorf("parseOwner(%q) error = %v, want usage error %q", tt.spec, err, tt.err)
		}
	}
	if _, err := user.LookupId("4321"); err != nil {
		_, err := parseOwner("4321:")
		want := `chown: "4321:": user 4321 has no login group here; name the group`
		if err == nil || err.Error() != want {
			t.Errorf("parseOwner(4321:) error = %v, want %q", err, want)
		}
	}
}
