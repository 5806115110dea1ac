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
	data, err = mapAllocated(f, size)
	if errors.Is(err, errCannotAllocate) {
		return heapWritable(f, size)
	}
	if err != nil {
		return nil, nil, err
	}
	return data, func() error { return unix.Munmap(data) }, nil
}

// Scratch returns size bytes, zero, 8-byte aligned, for work that need not
// be the process's own memory: on Linux a shared writable mapping of a file
// created in dir and removed at once, its blocks allocated first as
// Writable's, so that the kernel may write its pages out and drop them
// rather than count them against the process. Elsewhere, or when dir's file
// system cannot allocate, it is heap memory. The bytes must not be used
// after release.
func Scratch(dir string, size int) (data []byte, release func(), err error) {
	f, err := os.CreateTemp(dir, ".scratch-*")
	if err != nil {
		return nil, nil, fmt.Errorf("scratch file: %w", err)
	}
	os.Remove(f.Name())
	defer f.Close() // the mapping outlives the descriptor
	data, err = mapAllocated(f, size)
	if errors.Is(err, errCannotAllocate) {
		return heapScratch(size), func() {}, nil
	}
	if err != nil {
		return nil, nil, err
	}
	return data, func() { _ = unix.Munmap(data) }, nil
}

var errCannotAllocate = errors.New("the file system cannot allocate ahead")

// mapAllocated allocates size bytes of blocks for f and maps them shared
// and writable; errCannotAllocate when the file system cannot allocate, or
// size is 0. Every page is written once, in order, before the mapping is
// returned: the first write to a page of a shared file mapping faults, and
// faulting 640 MB in random order (as an index's edges are filled) took
// 22–24 s against 1.1 s written in order first and then at random
// (docs/adr/0007-index-built-into-its-file.md).
func mapAllocated(f *os.File, size int) ([]byte, error) {
	if size == 0 {
		return nil, errCannotAllocate
	}
	if err := f.Truncate(0); err != nil {
		return nil, fmt.Errorf("prepare %s: %w", f.Name(), err)
	}
	if err := unix.Fallocate(int(f.Fd()), 0, 0, int64(size)); err != nil {
		if errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENOSYS) {
			return nil, errCannotAllocate
		}
		return nil, fmt.Errorf("allocate %d bytes for %s: %w", size, f.Name(), err)
	}
	data, err := unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("map %s: %w", f.Name(), err)
	}
	page := os.Getpagesize()
	for i := 0; i < len(data); i += page {
		data[i] = 0
	}
	return data, nil
}
