package store

import (
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/ristretto/v2/z"
)

// errFeedFailed stops the bulk merge once the StreamWriter goroutine has
// failed; streamFeed.close returns the real error.
var errFeedFailed = errors.New("bulk write failed")

// streamFeed hands filled buffers to the StreamWriter on a goroutine of its
// own, so that Badger decoding the buffer and building tables (sw.Write)
// overlaps the merge, the indexer and the encoding of the next buffer on the
// second core. Two buffers circulate: one fills while the other is written.
type streamFeed struct {
	sw     *badger.StreamWriter
	dir    string
	cur    *z.Buffer
	free   chan *z.Buffer
	work   chan *z.Buffer
	done   chan error
	failed atomic.Bool
	// afterWrite runs on the writer goroutine after each afterWriteBytes
	// written.
	afterWrite func()
	unreleased int
}

// afterWriteBytes is how much a feed writes between afterWrite calls: the
// release of table mappings reads /proc/self/maps and advises every table
// file, a cost that grows with the database.
const afterWriteBytes = 64 << 20

func newStreamFeed(sw *badger.StreamWriter, dir string, afterWrite func()) *streamFeed {
	f := &streamFeed{sw: sw, dir: dir, free: make(chan *z.Buffer, 1), work: make(chan *z.Buffer),
		done: make(chan error, 1), afterWrite: afterWrite}
	f.cur = z.NewBuffer(streamBufBytes+(1<<20), "casegraph.import")
	f.free <- z.NewBuffer(streamBufBytes+(1<<20), "casegraph.import")
	go f.run()
	return f
}

func (f *streamFeed) run() {
	var err error
	for b := range f.work {
		if err == nil {
			if err = f.sw.Write(b); err != nil {
				err = fmt.Errorf("bulk write to %s: %w", f.dir, err)
				f.failed.Store(true)
			} else if f.unreleased += b.LenNoPadding(); f.afterWrite != nil && f.unreleased >= afterWriteBytes {
				f.unreleased = 0
				f.afterWrite()
			}
		}
		b.Reset()
		f.free <- b
	}
	f.done <- err
}

// add appends one key/value of the given stream, handing the buffer over
// when it is full.
func (f *streamFeed) add(k, v []byte, stream uint32) error {
	appendKV(f.cur, k, v, stream)
	if f.cur.LenNoPadding() < streamBufBytes {
		return nil
	}
	return f.send()
}

func (f *streamFeed) send() error {
	if f.failed.Load() {
		return errFeedFailed
	}
	f.work <- f.cur
	f.cur = <-f.free
	return nil
}

// close writes what is buffered when flush is true, waits for the writer
// goroutine and frees the buffers. It returns the first write error.
func (f *streamFeed) close(flush bool) error {
	var err error
	if flush && f.cur.LenNoPadding() > 0 {
		err = f.send()
	}
	close(f.work)
	if werr := <-f.done; werr != nil {
		err = werr
	}
	_ = f.cur.Release()
	_ = (<-f.free).Release()
	return err
}
