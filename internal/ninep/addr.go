package ninep

import (
	"os"
	"path/filepath"
	"strconv"
)

// LocalSocket is the unix socket of this host's node namespace: where
// `mfs node` listens by default and `mfs 9p` looks first —
// /run/mfs/mfs.sock as root, $XDG_RUNTIME_DIR/mfs.sock (else
// /tmp/mfs-UID/mfs.sock) for anyone else.
func LocalSocket() string {
	if os.Geteuid() == 0 {
		return "/run/mfs/mfs.sock"
	}
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "mfs.sock")
	}
	return filepath.Join(os.TempDir(), "mfs-"+strconv.Itoa(os.Geteuid()), "mfs.sock")
}

// defaultNinepAddr is where `mfs 9p` connects without --addr or $MFS_ADDR:
// the local socket if it exists, else 127.0.0.1:564.
func defaultNinepAddr() string {
	if fi, err := os.Stat(LocalSocket()); err == nil && fi.Mode()&os.ModeSocket != 0 {
		return "unix:" + LocalSocket()
	}
	return "127.0.0.1:564"
}
