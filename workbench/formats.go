package workbench

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"casegraph/graph"
	"casegraph/importers"
	"casegraph/importers/ftm"
	"casegraph/importers/goaml"
	"casegraph/importers/lists"
	"casegraph/store"
)

// inputExts are the file types a directory given to import stands for.
var inputExts = map[string]bool{".csv": true, ".json": true, ".jsonl": true, ".ndjson": true, ".xml": true, ".txt": true}

// importAny imports one open file with the importer its content calls for:
// goAML XML, FollowTheMoney JSON, canonical CSV, or a list (watch list,
// bare address list, AFSA register). note carries what the summary should
// add, e.g. dangling FtM references.
func importAny(ctx context.Context, db *store.DB, f *os.File, sink importers.Sink, opts importers.Options) (rep importers.Report, note string, err error) {
	head := make([]byte, 8192)
	n, rerr := io.ReadFull(f, head)
	if rerr != nil && rerr != io.ErrUnexpectedEOF && rerr != io.EOF {
		return importers.Report{File: opts.Name}, "", fmt.Errorf("read %s: %w", opts.Name, rerr)
	}
	head = head[:n]
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return importers.Report{File: opts.Name}, "", fmt.Errorf("rewind %s: %w", opts.Name, err)
	}
	switch {
	case goaml.Sniff(head):
		rep, err = goaml.Import(ctx, f, sink, opts)
		return rep, "", err
	case ftm.Sniff(head):
		res, err := ftm.Import(ctx, f, sink, opts)
		if res.DanglingCount > 0 {
			d := res.Dangling[0]
			note = fmt.Sprintf("%d references to ids not in the file (first: line %d %s %s → %s)",
				res.DanglingCount, d.Line, d.ID, d.Property, d.Missing)
		}
		return res.Report, note, err
	}
	first, _, _ := strings.Cut(string(head), "\n")
	if isCanonicalCSV(first) && !lists.Claims(first) {
		rep, err = importers.ImportReader(ctx, f, sink, opts)
		return rep, "", err
	}
	if _, ok := lists.Detect(first); ok {
		lo := lists.Options{Options: opts, Status: listStatusFromName(opts.Name), Chain: chainFromName(opts.Name)}
		rep, err = lists.Import(ctx, f, sink, storeLookup{db}, lo)
		return rep, "", err
	}
	// Let the canonical importer explain what it expected.
	rep, err = importers.ImportReader(ctx, f, sink, opts)
	return rep, "", err
}

// isCanonicalCSV reports whether a header line is one of casegraph's own CSV
// formats.
func isCanonicalCSV(first string) bool {
	rec, err := csv.NewReader(strings.NewReader(first)).Read()
	if err != nil {
		return false
	}
	_, err = importers.Detect(rec)
	return err == nil
}

// listStatusFromName is the default list_status of a list file without a
// status column, from its name: sanctions lists (OFAC, SDN) are
// "sanctioned", grey lists "grey", anything else "black".
func listStatusFromName(name string) string {
	n := strings.ToLower(name)
	switch {
	case strings.Contains(n, "ofac") || strings.Contains(n, "sdn") || strings.Contains(n, "sanction"):
		return "sanctioned"
	case strings.Contains(n, "grey") || strings.Contains(n, "gray"):
		return "grey"
	}
	return "black"
}

// chainFromName reads the asset of a per-asset address list, e.g.
// sanctioned_addresses_XBT.txt → XBT, eth_addresses.csv → ETH.
func chainFromName(name string) string {
	base := strings.TrimSuffix(filepath.Base(name), filepath.Ext(name))
	if i := strings.LastIndexByte(base, '_'); i >= 0 {
		if a := base[i+1:]; len(a) >= 3 && len(a) <= 5 && strings.ToUpper(a) == a {
			return a
		}
	}
	if strings.HasPrefix(strings.ToLower(base), "eth") {
		return "ETH"
	}
	return ""
}

// storeLookup lets list importers read what the case already holds.
type storeLookup struct{ db *store.DB }

func (s storeLookup) Entity(ctx context.Context, ref graph.Ref) (graph.Entity, error) {
	return s.db.Entity(ctx, ref)
}

func (s storeLookup) Entities(ctx context.Context, k graph.Kind, fn func(graph.Entity) error) error {
	return entitiesOf(ctx, s.db, map[graph.Kind]bool{k: true}, fn)
}

// entitiesOf calls fn for every entity of the given kinds. The refs are
// collected first so no read transaction is held while fn runs.
func entitiesOf(ctx context.Context, db *store.DB, kinds map[graph.Kind]bool, fn func(graph.Entity) error) error {
	var refs []graph.Ref
	err := db.SearchDocs(ctx, func(d graph.SearchDoc) error {
		if kinds[d.Ref.Kind] {
			refs = append(refs, d.Ref)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, r := range refs {
		e, err := db.Entity(ctx, r)
		if err != nil {
			return err
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}
