//go:build !linux

package mapfile

import "os"

// Writable returns size bytes, zero, 8-byte aligned, that become the
// contents of f (an empty file opened for writing) once done returns. Here
// they are heap memory that done writes to f; on Linux they are a writable
// mapping of f (writable_linux.go). The bytes must not be used after done.
func Writable(f *os.File, size int) (data []byte, done func() error, err error) {
	return heapWritable(f, size)
}

// Scratch returns size bytes, zero, 8-byte aligned, for work that need not
// be the process's own memory; here heap memory (on Linux a mapped file in
// dir, writable_linux.go). The bytes must not be used after release.
func Scratch(dir string, size int) (data []byte, release func(), err error) {
	return heapScratch(size), func() {}, nil
}
