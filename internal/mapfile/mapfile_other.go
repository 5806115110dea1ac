//go:build !unix

package mapfile

import "os"

// Open reads the file at path in one sequential read (this system is not
// mapped) and returns its bytes, 8-byte aligned, and a release that does
// nothing (the garbage collector frees them).
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
	data, err = readAll(f, fi.Size())
	return data, func() {}, err
}
