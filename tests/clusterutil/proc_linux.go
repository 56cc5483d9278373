package clusterutil

import "syscall"

// sysProcAttr kills a node if the test binary dies without cleaning up
// (a timeout panic).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
