package mount

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// proc is one process as /proc shows it: pid and start time identify it
// (a reused pid has another start time), ppid leads to its parent.
type proc struct {
	pid, ppid int
	start     uint64
}

// readProc reads /proc/PID/stat. The command name may hold spaces and
// parentheses, so the fields are counted from the last ')'.
func readProc(pid int) (proc, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return proc{}, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return proc{}, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	// After ") ": state(3) ppid(4) … starttime(22).
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return proc{}, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	ppid, err1 := strconv.Atoi(f[1])
	start, err2 := strconv.ParseUint(f[19], 10, 64)
	if err1 != nil || err2 != nil {
		return proc{}, fmt.Errorf("/proc/%d/stat: bad ppid or start time", pid)
	}
	return proc{pid: pid, ppid: ppid, start: start}, nil
}

// tgid returns the thread group (process) of a thread id: FUSE requests
// carry the id of the calling thread, and a setting belongs to the
// whole process.
func tgid(tid int) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(tid) + "/status")
	if err != nil {
		return tid
	}
	if v, ok := statusField(b, "Tgid:"); ok {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			return n
		}
	}
	return tid
}

// groupsOf returns the supplementary groups of a thread, from
// /proc/PID/status (FUSE requests do not carry them).
func groupsOf(pid int) ([]int, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return nil, err
	}
	v, ok := statusField(b, "Groups:")
	if !ok {
		return nil, fmt.Errorf("/proc/%d/status: no Groups line", pid)
	}
	var gs []int
	for _, f := range strings.Fields(v) {
		g, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("/proc/%d/status: group %q", pid, f)
		}
		gs = append(gs, g)
	}
	return gs, nil
}

// statusField returns the value of the line of /proc/PID/status that
// starts with key.
func statusField(b []byte, key string) (string, bool) {
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		if bytes.HasPrefix(line, []byte(key)) {
			return strings.TrimSpace(string(line[len(key):])), true
		}
	}
	return "", false
}
