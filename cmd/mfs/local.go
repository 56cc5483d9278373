package main

import (
	"os"

	"mfs/internal/ninep"
)

// defaultListen is `mfs node`'s default --listen: the local socket, and
// for root also TCP 127.0.0.1:564 (a privileged port, for kernel mounts
// over TCP and QEMU guests).
func defaultListen() []string {
	l := []string{"unix:" + ninep.LocalSocket()}
	if os.Geteuid() == 0 {
		l = append(l, "127.0.0.1:564")
	}
	return l
}
