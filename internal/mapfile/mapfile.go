// Package mapfile gives a file's bytes for reading without decoding them:
// mapped into memory where the system can (docs/adr/0004-search-index-file.md),
// else read in one sequential read.
package mapfile

import (
	"fmt"
	"io"
	"os"
	"unsafe"
)

// readAll reads the whole of f into 8-byte-aligned memory in one read.
func readAll(f *os.File, size int64) ([]byte, error) {
	words := make([]uint64, (size+7)/8)
	var data []byte
	if size > 0 {
		data = unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), size)
	}
	if _, err := io.ReadFull(f, data); err != nil {
		return nil, fmt.Errorf("read %s: %w", f.Name(), err)
	}
	return data, nil
}

// heapScratch returns size zero bytes of heap memory, 8-byte aligned.
func heapScratch(size int) []byte {
	if size == 0 {
		return nil
	}
	words := make([]uint64, (size+7)/8)
	return unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), size)
}

// heapWritable is Writable in heap memory: done writes it to f.
func heapWritable(f *os.File, size int) ([]byte, func() error, error) {
	data := heapScratch(size)
	return data, func() error {
		if _, err := f.WriteAt(data, 0); err != nil {
			return fmt.Errorf("write %s: %w", f.Name(), err)
		}
		return nil
	}, nil
}
