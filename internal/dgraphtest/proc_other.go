//go:build !linux

package dgraphtest

import "syscall"

// procAttr: elsewhere a cluster whose test binary died must be stopped by hand.
func procAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{} }
