package dgraphtest

import "syscall"

// procAttr makes the kernel kill a dgraph process when the test binary that
// started it dies (a panic, a timeout), so no cluster outlives its test.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
