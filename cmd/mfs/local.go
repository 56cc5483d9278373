package main

import (
	"os"
	"path/filepath"
	"strconv"
)

// localSocket is the unix socket of this host's node namespace: where
// `mfs node` listens by default and `mfs 9p` looks first —
// /run/mfs/mfs.sock as root, $XDG_RUNTIME_DIR/mfs.sock (else
// /tmp/mfs-UID/mfs.sock) for anyone else.
func localSocket() string {
	if os.Geteuid() == 0 {
		return "/run/mfs/mfs.sock"
	}
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "mfs.sock")
	}
	return filepath.Join(os.TempDir(), "mfs-"+strconv.Itoa(os.Geteuid()), "mfs.sock")
}

// defaultListen is `mfs node`'s default --listen: the local socket, and
// for root also TCP 127.0.0.1:564 (a privileged port, for kernel mounts
// over TCP and QEMU guests).
func defaultListen() []string {
	l := []string{"unix:" + localSocket()}
	if os.Geteuid() == 0 {
		l = append(l, "127.0.0.1:564")
	}
	return l
}

// defaultNinepAddr is where `mfs 9p` connects without --addr or $MFS_ADDR:
// the local socket if it exists, else 127.0.0.1:564.
func defaultNinepAddr() string {
	if fi, err := os.Stat(localSocket()); err == nil && fi.Mode()&os.ModeSocket != 0 {
		return "unix:" + localSocket()
	}
	return "127.0.0.1:564"
}
