package holder

import (
	"encoding/binary"
	"fmt"
	"io"
)

// A frame is a type byte, a big-endian uint32 length and that many bytes.
const (
	// holder → client
	frameHello  = 'H' // JSON hello: the holder's kind, pid, the user and role it took the caller for
	frameRefuse = 'R' // why the caller may not use this holder (text); the connection ends
	frameStdout = 'o' // bytes the command wrote to stdout
	frameStderr = 'e' // bytes the command wrote to stderr
	frameStdin  = 'i' // (holder → client, empty) the command reads stdin: send it
	frameExit   = 'x' // the command's exit code, 4 bytes; the connection ends

	// client → holder
	frameRequest  = 'q' // JSON Request
	frameInput    = 'd' // stdin bytes
	frameInputEOF = 'D' // stdin ended
)

// maxFrame bounds a frame's payload, so a peer cannot make the other
// allocate without limit.
const maxFrame = 1 << 20

func writeFrame(w io.Writer, typ byte, p []byte) error {
	var hdr [5]byte
	hdr[0] = typ
	binary.BigEndian.PutUint32(hdr[1:], uint32(len(p)))
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	if len(p) == 0 {
		return nil
	}
	_, err := w.Write(p)
	return err
}

func readFrame(r io.Reader) (byte, []byte, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[1:])
	if n > maxFrame {
		return 0, nil, fmt.Errorf("holder protocol: a frame of %d bytes (at most %d)", n, maxFrame)
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(r, p); err != nil {
		return 0, nil, err
	}
	return hdr[0], p, nil
}
