package workbench

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"casegraph/graph"
	"casegraph/store"
)

// FlagsFileName is the results file kept beside the graph index file: the
// last rules run of the database (graph.WriteFlagsFile), named by a key of
// everything the run depends on — the data (the index file's stamp), the
// rule configuration, the analysts' verdicts and the program itself. An
// analysis whose key matches reads it instead of running the rules again;
// anything else runs them and replaces it (docs/adr/0005-mapped-graph-index.md,
// "Results of a run"). Like graph.idx it holds the data's amounts and
// reasons in the clear, so an encrypted database keeps none.
const FlagsFileName = "flags.bin"

func flagsFilePath(db *store.DB) string { return filepath.Join(db.Dir(), FlagsFileName) }

// programID is the SHA-256 of the running executable: results of another
// build of casegraph (other rules, another scoring) are never reused. ok is
// false when the executable cannot be read; then nothing is reused.
var programID = sync.OnceValues(func() ([32]byte, bool) {
	exe, err := os.Executable()
	if err != nil {
		return [32]byte{}, false
	}
	f, err := os.Open(exe)
	if err != nil {
		return [32]byte{}, false
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return [32]byte{}, false
	}
	return [32]byte(h.Sum(nil)), true
})

// resultsKey names a rules run: ix's data, cfg, the verdicts and the
// program. ok is false when the run cannot be named (an index in the heap,
// which no stamp names, or an unreadable executable).
func resultsKey(ix *graph.Index, cfg graph.RuleConfig, verdicts map[graph.Ref]graph.VerdictKind) (key [32]byte, ok bool) {
	st, mapped := ix.FileStamp()
	if !mapped {
		return key, false
	}
	prog, progOK := programID()
	if !progOK {
		return key, false
	}
	h := sha256.New()
	h.Write([]byte("casegraph results 1\x00"))
	h.Write(st[:])
	h.Write(prog[:])
	if err := cfg.WriteJSON(h); err != nil {
		return key, false
	}
	refs := make([]graph.Ref, 0, len(verdicts))
	for r := range verdicts {
		refs = append(refs, r)
	}
	slices.SortFunc(refs, func(a, b graph.Ref) int {
		switch {
		case a.Less(b):
			return -1
		case b.Less(a):
			return 1
		}
		return 0
	})
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(refs)))
	h.Write(n[:])
	for _, r := range refs {
		fmt.Fprintf(h, "%d\x00%s\x00%s\x00", r.Kind, r.Key, verdicts[r])
	}
	return [32]byte(h.Sum(nil)), true
}

// readFlagsFile returns the kept results of key run on ix; ok is false when
// there are none (no file, another key, a damaged file: the caller runs the
// rules and replaces it).
func readFlagsFile(db *store.DB, ix *graph.Index, key [32]byte) (graph.Flags, bool) {
	if !useIndexFile(db) {
		return graph.Flags{}, false
	}
	f, err := os.Open(flagsFilePath(db))
	if err != nil {
		return graph.Flags{}, false
	}
	defer f.Close()
	head := make([]byte, 64)
	if n, _ := io.ReadFull(f, head); n < len(head) {
		return graph.Flags{}, false
	}
	if k, err := graph.FlagsFileKey(head); err != nil || k != key {
		return graph.Flags{}, false
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return graph.Flags{}, false
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return graph.Flags{}, false
	}
	flags, err := graph.ReadFlagsFile(data, ix, key)
	if err != nil {
		return graph.Flags{}, false
	}
	return flags, true
}

// saveFlagsFile keeps flags, the run key names, as the results file (through
// a temporary file renamed over the old one). A database open read-only or
// encrypted keeps none.
func saveFlagsFile(ctx context.Context, db *store.DB, flags graph.Flags, key [32]byte) error {
	if !db.Writable() || !useIndexFile(db) {
		return nil
	}
	return replaceFile(ctx, flagsFilePath(db), func(f *os.File) error {
		return graph.WriteFlagsFile(f, flags, key)
	})
}
