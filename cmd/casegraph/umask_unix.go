//go:build unix

package main

import "syscall"

// privateUmask makes every file the process creates from now on private to
// its owner (umask 077). It is set before a database is opened: Badger
// creates its tables and value log with mode 0666 minus the umask, and they
// hold the whole case.
func privateUmask() { syscall.Umask(0o077) }
