//go:build !linux

package clusterutil

import "syscall"

func sysProcAttr() *syscall.SysProcAttr { return nil }
