//go:build linux

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// The lock checks hold a lock in this process and probe it from a second
// process, this same binary started as "guest lock OP FILE ...", which prints
// one line: "ok", an errno name, or what F_GETLK found.

// helper runs the lock helper to completion (with a deadline) and returns
// its output line.
func helper(args ...string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "/proc/self/exe", append([]string{"lock"}, args...)...).CombinedOutput()
	if ctx.Err() != nil {
		fail("lock helper %v: no answer within 30 s", args)
	}
	ok(err, "lock helper %v: %s", args, out)
	return strings.TrimSpace(string(out))
}

func lockHelper(args []string) int {
	if len(args) < 2 {
		fmt.Println("usage: lock OP FILE ...")
		return 2
	}
	op, file := args[0], args[1]
	switch op {
	case "create":
		fd, err := unix.Open(file, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY, 0o644)
		if err == nil {
			_, err = unix.Write(fd, []byte("by helper"))
			unix.Close(fd)
		}
		fmt.Println(errName(err))
		return 0
	case "read":
		_, err := os.ReadFile(file)
		fmt.Println(errName(err))
		return 0
	case "mkdir":
		fmt.Println(errName(unix.Mkdir(file, 0o755)))
		return 0
	case "private": // create a 0600 file
		fd, err := unix.Open(file, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY, 0o600)
		if err == nil {
			_, err = unix.Write(fd, []byte("private"))
			unix.Close(fd)
		}
		fmt.Println(errName(err))
		return 0
	case "write":
		fd, err := unix.Open(file, unix.O_WRONLY|unix.O_TRUNC, 0)
		if err == nil {
			unix.Close(fd)
		}
		fmt.Println(errName(err))
		return 0
	case "chmod":
		fmt.Println(errName(unix.Chmod(file, 0o666)))
		return 0
	case "unlink":
		fmt.Println(errName(unix.Unlink(file)))
		return 0
	}
	fd, err := unix.Open(file, unix.O_RDWR, 0)
	if err != nil {
		fmt.Println("open:", errStr(err))
		return 1
	}
	num := func(i int) int64 {
		n, _ := strconv.ParseInt(args[i], 10, 64)
		return n
	}
	typ := func(s string) int16 {
		if s == "r" {
			return unix.F_RDLCK
		}
		return unix.F_WRLCK
	}
	res := errName
	switch op {
	case "flock-nb":
		how := unix.LOCK_EX
		if args[2] == "sh" {
			how = unix.LOCK_SH
		}
		fmt.Println(res(unix.Flock(fd, how|unix.LOCK_NB)))
	case "setlk", "setlkw":
		lk := unix.Flock_t{Type: typ(args[2]), Whence: 0, Start: num(3), Len: num(4)}
		cmd := unix.F_SETLK
		if op == "setlkw" {
			cmd = unix.F_SETLKW
		}
		fmt.Println(res(unix.FcntlFlock(uintptr(fd), cmd, &lk)))
	case "getlk":
		lk := unix.Flock_t{Type: typ(args[2]), Whence: 0, Start: num(3), Len: num(4)}
		if err := unix.FcntlFlock(uintptr(fd), unix.F_GETLK, &lk); err != nil {
			fmt.Println(res(err))
			break
		}
		fmt.Println(describeLock(lk))
	default:
		fmt.Println("unknown op", op)
		return 2
	}
	return 0
}

// errName is "ok", an errno name, or the error's text.
func errName(err error) string {
	if err == nil {
		return "ok"
	}
	var en unix.Errno
	if errors.As(err, &en) {
		return unix.ErrnoName(en)
	}
	return err.Error()
}

func describeLock(lk unix.Flock_t) string {
	switch lk.Type {
	case unix.F_UNLCK:
		return "F_UNLCK"
	case unix.F_WRLCK:
		return fmt.Sprintf("F_WRLCK pid=%d start=%d len=%d", lk.Pid, lk.Start, lk.Len)
	case unix.F_RDLCK:
		return fmt.Sprintf("F_RDLCK pid=%d start=%d len=%d", lk.Pid, lk.Start, lk.Len)
	}
	return fmt.Sprintf("type %d", lk.Type)
}

func lockFile(e *env) (string, int) {
	f := e.p("lockme")
	writeFile(f, []byte("0123456789"), 0o666)
	fd, err := unix.Open(f, unix.O_RDWR, 0)
	ok(err, "open")
	return f, fd
}

func chkFlock(e *env) {
	f, fd := lockFile(e)
	defer unix.Close(fd)
	ok(unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB), "flock LOCK_EX")
	eq(helper("flock-nb", f, "ex"), "EAGAIN", "second process, LOCK_EX|LOCK_NB while held")
	eq(helper("flock-nb", f, "sh"), "EAGAIN", "second process, LOCK_SH|LOCK_NB while held exclusively")
	ok(unix.Flock(fd, unix.LOCK_UN), "flock LOCK_UN")
	eq(helper("flock-nb", f, "ex"), "ok", "second process, LOCK_EX|LOCK_NB after unlock")
	ok(unix.Flock(fd, unix.LOCK_SH|unix.LOCK_NB), "flock LOCK_SH")
	eq(helper("flock-nb", f, "sh"), "ok", "second process, LOCK_SH|LOCK_NB while shared")
	eq(helper("flock-nb", f, "ex"), "EAGAIN", "second process, LOCK_EX|LOCK_NB while shared")
	ok(unix.Flock(fd, unix.LOCK_UN), "flock LOCK_UN")
}

func setlk(fd int, cmd int, typ int16, start, n int64) error {
	lk := unix.Flock_t{Type: typ, Whence: 0, Start: start, Len: n}
	return unix.FcntlFlock(uintptr(fd), cmd, &lk)
}

func chkFcntlSetlk(e *env) {
	f, fd := lockFile(e)
	defer unix.Close(fd)
	ok(setlk(fd, unix.F_SETLK, unix.F_WRLCK, 0, 100), "F_SETLK F_WRLCK 0-99")
	eq(helper("setlk", f, "w", "50", "10"), "EAGAIN", "second process, F_WRLCK on 50-59")
	eq(helper("setlk", f, "r", "0", "1"), "EAGAIN", "second process, F_RDLCK on 0")
	eq(helper("setlk", f, "w", "100", "10"), "ok", "second process, F_WRLCK on 100-109 (no overlap)")
	ok(setlk(fd, unix.F_SETLK, unix.F_UNLCK, 0, 100), "F_UNLCK")
	eq(helper("setlk", f, "w", "0", "0"), "ok", "second process, F_WRLCK on the whole file after unlock")
	ok(setlk(fd, unix.F_SETLK, unix.F_RDLCK, 0, 0), "F_SETLK F_RDLCK whole file")
	eq(helper("setlk", f, "r", "0", "0"), "ok", "second process, F_RDLCK while read-locked")
	eq(helper("setlk", f, "w", "5", "1"), "EAGAIN", "second process, F_WRLCK while read-locked")
}

// chkFcntlSetlkw: a second process blocks in F_SETLKW until the lock is
// released. "Blocked" is read from /proc/locks (a "->" waiter line), polled
// with a deadline; on a FUSE mount, whose server keeps the locks (the
// kernel lists none in /proc/locks), from a thread of the helper asleep in
// fcntl(2), seen twice 100 ms apart.
func chkFcntlSetlkw(e *env) {
	f, fd := lockFile(e)
	defer unix.Close(fd)
	ok(setlk(fd, unix.F_SETLK, unix.F_WRLCK, 0, 0), "F_SETLK F_WRLCK")
	// The deadline is a hang guard, not a measurement: when the server
	// answers a blocking Tlock with BLOCKED, v9fs retries only after its
	// locktimeout (30 s by default).
	ctx, cancel := context.WithTimeout(context.Background(), 75*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/proc/self/exe", "lock", "setlkw", f, "w", "0", "0")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	ok(cmd.Start(), "start helper")
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	blocked := func() bool {
		locks, _ := os.ReadFile("/proc/locks")
		return bytes.Contains(locks, []byte("->"))
	}
	if e.fs == fsFUSE {
		blocked = func() bool {
			if !inFcntl(cmd.Process.Pid) {
				return false
			}
			time.Sleep(100 * time.Millisecond)
			return inFcntl(cmd.Process.Pid)
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if blocked() {
			break
		}
		select {
		case err := <-done:
			fail("helper finished while the lock was held: %v %q", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			fail("helper never showed up blocked in /proc/locks")
		}
		time.Sleep(10 * time.Millisecond)
	}
	ok(setlk(fd, unix.F_SETLK, unix.F_UNLCK, 0, 0), "F_UNLCK")
	select {
	case err := <-done:
		ok(err, "helper: %s", out.String())
	case <-ctx.Done():
		fail("helper still blocked 75 s after the unlock")
	}
	eq(strings.TrimSpace(out.String()), "ok", "F_SETLKW result after the unlock")
}

// inFcntl reports whether a thread of process pid sleeps in fcntl(2).
func inFcntl(pid int) bool {
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	for _, t := range tasks {
		dir := fmt.Sprintf("/proc/%d/task/%s/", pid, t.Name())
		sc, err := os.ReadFile(dir + "syscall")
		if err != nil {
			continue
		}
		f := strings.Fields(string(sc))
		if len(f) == 0 || f[0] != strconv.Itoa(unix.SYS_FCNTL) {
			continue
		}
		st, err := os.ReadFile(dir + "stat")
		if err != nil {
			continue
		}
		// pid (comm) STATE ...: comm may hold spaces, not ")".
		if i := bytes.LastIndexByte(st, ')'); i >= 0 && i+2 < len(st) && st[i+2] == 'S' {
			return true
		}
	}
	return false
}

func chkGetlkConflict(e *env) {
	f, fd := lockFile(e)
	defer unix.Close(fd)
	ok(setlk(fd, unix.F_SETLK, unix.F_WRLCK, 0, 100), "F_SETLK F_WRLCK 0-99")
	eq(helper("getlk", f, "w", "50", "10"), fmt.Sprintf("F_WRLCK pid=%d start=0 len=100", os.Getpid()), "F_GETLK from a second process")
}

// chkGetlkUnlocked: F_GETLK on a range nobody holds here goes to the server
// as Tgetlock and must come back F_UNLCK. v9fs (fs/9p/vfs_file.c,
// v9fs_file_getlock) always sends that Tgetlock with type UNLCK, whatever
// the caller asked, so the server has to test for any conflicting lock.
func chkGetlkUnlocked(e *env) {
	f, fd := lockFile(e)
	defer unix.Close(fd)
	ok(setlk(fd, unix.F_SETLK, unix.F_WRLCK, 0, 100), "F_SETLK F_WRLCK 0-99")
	eq(helper("getlk", f, "w", "200", "100"), "F_UNLCK", "F_GETLK on a free range from a second process (Tgetlock type=UNLCK start=200 length=100)")
	lk := unix.Flock_t{Type: unix.F_WRLCK, Start: 0, Len: 0}
	ok(unix.FcntlFlock(uintptr(fd), unix.F_GETLK, &lk), "F_GETLK by the holder")
	eq(describeLock(lk), "F_UNLCK", "F_GETLK by the holder itself")
}
