package ninep

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"
	"github.com/urfave/cli/v2"
)

func TestCleanPath(t *testing.T) {
	tests := []struct {
		in    string
		clean string
		names []string
	}{
		{"", "/", nil},
		{"/", "/", nil},
		{"a", "/a", []string{"a"}},
		{"/a/b/", "/a/b", []string{"a", "b"}},
		{"a//b/./c", "/a/b/c", []string{"a", "b", "c"}},
		{"/a/../b", "/b", []string{"b"}},
		{"../../x", "/x", []string{"x"}},
		{"/2/tmp/..", "/2", []string{"2"}},
	}
	for _, tt := range tests {
		if got := cleanPath(tt.in); got != tt.clean {
			t.Errorf("cleanPath(%q) = %q, want %q", tt.in, got, tt.clean)
		}
		if got := splitPath(tt.in); fmt.Sprint(got) != fmt.Sprint(tt.names) {
			t.Errorf("splitPath(%q) = %q, want %q", tt.in, got, tt.names)
		}
	}
}

func TestModeString(t *testing.T) {
	tests := []struct {
		mode p9.FileMode
		want string
	}{
		{p9.ModeDirectory | 0o755, "drwxr-xr-x"},
		{p9.ModeRegular | 0o644, "-rw-r--r--"},
		{p9.ModeSymlink | 0o777, "lrwxrwxrwx"},
		{p9.ModeRegular | 0o4755, "-rwsr-xr-x"},
		{p9.ModeRegular | 0o4644, "-rwSr--r--"},
		{p9.ModeRegular | 0o2750, "-rwxr-s---"},
		{p9.ModeDirectory | 0o1777, "drwxrwxrwt"},
		{p9.ModeDirectory | 0o1770, "drwxrwx--T"},
		{p9.ModeNamedPipe | 0o600, "prw-------"},
		{p9.ModeSocket | 0o666, "srw-rw-rw-"},
		{p9.ModeCharacterDevice | 0o620, "crw--w----"},
		{p9.ModeBlockDevice | 0o660, "brw-rw----"},
		{p9.ModeRegular, "----------"},
	}
	for _, tt := range tests {
		if got := modeString(tt.mode); got != tt.want {
			t.Errorf("modeString(%#o) = %q, want %q", tt.mode, got, tt.want)
		}
	}
}

func TestLsTime(t *testing.T) {
	now := time.Date(2026, 11, 27, 6, 40, 0, 0, time.UTC)
	tests := []struct {
		t    time.Time
		want string
	}{
		{now.Add(-time.Hour), "Nov 27 05:40"},
		{time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC), "Jun  1 12:00"},
		{time.Date(2025, 1, 2, 12, 0, 0, 0, time.UTC), "Jan  2  2025"},
		{now.Add(48 * time.Hour), "Nov 29  2026"},
	}
	for _, tt := range tests {
		if got := lsTime(tt.t, now); got != tt.want {
			t.Errorf("lsTime(%v) = %q, want %q", tt.t, got, tt.want)
		}
	}
}

func TestNodesTable(t *testing.T) {
	in := "1 127.0.0.1:5641 alive here,home\n2 127.0.0.1:5642 alive -\n10 - failed selected\n"
	var b strings.Builder
	rows := nodesTable(in)
	printTable(&b, rows, len(rows[0]))
	want := "" +
		"NODE  ADDRESS         STATE   MARKERS\n" +
		"1     127.0.0.1:5641  alive   here,home\n" +
		"2     127.0.0.1:5642  alive   -\n" +
		"10    -               failed  selected\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	rows = nodesTable("ID ADDR STATE MARKS\n3 a b c d\n\n")
	if fmt.Sprint(rows) != "[[ID ADDR STATE MARKS] [3 a b c d]]" {
		t.Errorf("own header and joined markers: got %q", rows)
	}
}

func TestPrintTableRightAligned(t *testing.T) {
	var b strings.Builder
	printTable(&b, [][]string{{"Path", "Size", "Use%"}, {"/a", "10", "5%"}, {"/bb", "2000", "100%"}}, 1)
	want := "Path  Size  Use%\n/a      10    5%\n/bb   2000  100%\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestErrText(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{linux.ENOENT, "no such file or directory"},
		{linux.EACCES, "permission denied"},
		{&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, "connection refused"},
		{errors.New("wait: EOF"), "wait: EOF"},
	}
	for _, tt := range tests {
		if got := errText(tt.err); got != tt.want {
			t.Errorf("errText(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

// exitCode is the exit status main gives err: a usage error's 2, else 1.
func exitCode(err error) int {
	var ec cli.ExitCoder
	if errors.As(err, &ec) {
		return ec.ExitCode()
	}
	return 1
}
