package mapfile

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Writable returns size bytes, zero, 8-byte aligned, that become the
// contents of f (an empty file opened for writing) once done returns: on
// Linux f's blocks are allocated first (fallocate) and mapped shared and
// writable, so the bytes are the file's page cache, not the process's own
// memory (docs/adr/0007-index-built-into-its-file.md). Allocating first
// makes a full disk an error here rather than a fault (SIGBUS) on a write to
// the mapping; a file system that cannot allocate gets heap memory written
// by done instead. The bytes must not be used after done.
func Writable(f *os.File, size int) (data []byte, done func() error, err error) {
	if size == 0 {
		return heapWritable(f, size)
	}
	if err := f.Truncate(0); err != nil {
		return nil, nil, fmt.Errorf("prepare %s: %w", f.Name(), err)
	}
	if err := unix.Fallocate(int(f.Fd()), 0, 0, int64(size)); err != nil {
		if errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENOSYS) {
			return heapWritable(f, size)
		}
		return nil, nil, fmt.Errorf("allocate %d bytes for %s: %w", size, f.Name(), err)
	}
	data, err = unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, nil, fmt.Errorf("map %s: %w", f.Name(), err)
	}
	return data, func() error { return unix.Munmap(data) }, nil
}
