package store

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"

	"casegraph/graph"
)

// Dump writes one line per stored key, in key order: the key in hex and a
// digest of its value. It is the canonical form for comparing two databases,
// so it leaves out what legitimately differs between two runs of the same
// import: the times of the import batches (in the batch records and the
// statistics) and the data stamp in a blob's meta row, which is shown as
// "current" or "stale" instead. Two databases hold the same data exactly
// when their dumps are equal.
func (db *DB) Dump(ctx context.Context, w io.Writer) error {
	stamp, err := db.Stamp()
	if err != nil {
		return fmt.Errorf("dump %s: %w", db.dir, err)
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	err = db.bdb.View(func(txn *badger.Txn) error {
		return scan(ctx, txn, nil, true, func(k, v []byte) error {
			d, err := dumpValue(k, v, stamp)
			if err != nil {
				return fmt.Errorf("key %x: %w", k, err)
			}
			_, err = fmt.Fprintf(bw, "%x %s\n", k, d)
			return err
		})
	})
	if ferr := bw.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		return fmt.Errorf("dump %s: %w", db.dir, err)
	}
	return nil
}

// dumpValue is the digest of one value, with the run-dependent parts removed.
func dumpValue(k, v []byte, stamp Stamp) (string, error) {
	switch {
	case len(k) > 0 && k[0] == pfxBatch:
		var b graph.Batch
		if err := json.Unmarshal(v, &b); err != nil {
			return "", fmt.Errorf("decode batch: %w", err)
		}
		b.At = time.Time{}
		return digestJSON(b)
	case string(k) == string(metaKey(metaStats)):
		var s graph.Stats
		if err := json.Unmarshal(v, &s); err != nil {
			return "", fmt.Errorf("decode stats: %w", err)
		}
		for i := range s.Batches {
			s.Batches[i].At = time.Time{}
		}
		return digestJSON(s)
	case string(k) == string(metaKey(metaAnalysis)):
		var m keptMeta
		if err := json.Unmarshal(v, &m); err != nil {
			return "", fmt.Errorf("decode kept analysis meta: %w", err)
		}
		state := "stale"
		if m.Stamp == hex.EncodeToString(stamp[:]) {
			state = "current"
		}
		return fmt.Sprintf("analysis gen=%d %s", m.Gen, state), nil
	case strings.HasPrefix(string(k), string(blobMetaKey(""))):
		m, err := decodeBlobMeta(v)
		if err != nil {
			return "", err
		}
		state := "stale"
		if m.stamp == stamp {
			state = "current"
		}
		return fmt.Sprintf("%s chunks=%d size=%d", state, m.chunks, m.size), nil
	}
	return digest(v), nil
}

func digestJSON(x any) (string, error) {
	b, err := json.Marshal(x)
	if err != nil {
		return "", fmt.Errorf("encode: %w", err)
	}
	return digest(b), nil
}

func digest(v []byte) string {
	s := sha256.Sum256(v)
	return hex.EncodeToString(s[:12])
}
