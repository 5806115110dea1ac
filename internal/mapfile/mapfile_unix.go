//go:build unix

package mapfile

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Open maps the file at path read-only and returns its bytes and the
// function that unmaps them. The bytes are page-aligned. They must not be
// used after release, and the file must only ever be replaced (renamed
// over), never truncated or written in place while mapped: a mapped page
// that no longer exists in the file faults the process (SIGBUS).
// On Linux MAP_POPULATE maps the pages already in the page cache in the
// same call, so that the first reads do not fault page by page (populate_linux.go).
func Open(path string) (data []byte, release func(), err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	size := fi.Size()
	if size == 0 || size != int64(int(size)) {
		data, err := readAll(f, size)
		return data, func() {}, err
	}
	data, err = unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED|mapPopulate)
	if err != nil {
		return nil, nil, fmt.Errorf("map %s: %w", path, err)
	}
	return data, func() { _ = unix.Munmap(data) }, nil
}
