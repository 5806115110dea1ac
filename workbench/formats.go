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
func importAny(ctx context.Context, db recordReader, f *os.File, check *conflictCheck, opts importers.Options, as string) (rep importers.Report, note string, err error) {
	head := make([]byte, 8192)
	n, rerr := io.ReadFull(f, head)
	if rerr != nil && rerr != io.ErrUnexpectedEOF && rerr != io.EOF {
		return importers.Report{File: opts.Name}, "", fmt.Errorf("read %s: %w", opts.Name, rerr)
	}
	head = head[:n]
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return importers.Report{File: opts.Name}, "", fmt.Errorf("rewind %s: %w", opts.Name, err)
	}
	// Sniffing never turns an unrecognised file into data: binary content
	// and a doubled byte-order mark are refused before any importer sees it.
	if err := importers.CheckHead(head); err != nil {
		return importers.Report{File: opts.Name}, "", fmt.Errorf("%s: refused: %w", opts.Name, err)
	}
	// Every file but a list goes through the run's conflict check; a list
	// rewrites the entities it names on purpose (their list_status), so it
	// writes to the loader directly.
	var sink importers.Sink = check
	lo := func() lists.Options {
		return lists.Options{Options: opts, Status: listStatusFromName(opts.Name), Chain: chainFromName(opts.Name)}
	}
	if as == AsList {
		rep, err = lists.Import(ctx, f, check.listSink(opts.Name), db, lo())
		return rep, "", err
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
	if dup := lists.DuplicateColumn(first); dup != "" {
		// Let the canonical importer name the column.
		rep, err = importers.ImportReader(ctx, f, sink, opts)
		return rep, "", err
	}
	if kind, ok := lists.Detect(first); ok {
		// A file is a list only when it says so: a register by its name and
		// licence columns, a watch list by a list_status or list column, a
		// bare address list by a file name that says list, sanction, OFAC,
		// SDN, watch, black or grey and lines that all look like addresses.
		// Anything else needs --as list.
		said := kind == lists.FormatRegister || kind == lists.FormatWatchlist && lists.SaysList(first) ||
			kind == lists.FormatAddresses && nameSaysList(opts.Name) && looksLikeAddresses(head)
		if said {
			rep, err = lists.Import(ctx, f, check.listSink(opts.Name), db, lo())
			return rep, "", err
		}
		return importers.Report{File: opts.Name}, "", fmt.Errorf("%s: refused: not a file casegraph recognises: "+
			"a watch list needs a list_status or list column (or import it with --as list), and the header is none of the canonical formats: %s",
			opts.Name, recogniseErr(first))
	}
	// Let the canonical importer explain what it expected.
	rep, err = importers.ImportReader(ctx, f, sink, opts)
	return rep, "", err
}

// AsList is the --as value that reads every file as a list (watch list,
// address list or register), whatever its header says.
const AsList = "list"

// recogniseErr is why a header line is none of the canonical formats.
func recogniseErr(first string) string {
	rec, err := csv.NewReader(strings.NewReader(first)).Read()
	if err != nil {
		return err.Error()
	}
	if _, err := importers.Detect(rec); err != nil {
		return err.Error()
	}
	return "it names a list column"
}

// nameSaysList reports whether a file name says that it is a list.
func nameSaysList(name string) bool {
	n := strings.ToLower(filepath.Base(name))
	for _, w := range []string{"list", "sanction", "ofac", "sdn", "watch", "black", "grey", "gray"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// looksLikeAddresses reports whether every complete non-blank line of head
// is one printable token of 20–128 letters, digits and ':' '_' '-' — the
// shape of a wallet address, optionally with its chain.
func looksLikeAddresses(head []byte) bool {
	lines := strings.Split(string(head), "\n")
	if len(head) == 8192 && len(lines) > 1 {
		lines = lines[:len(lines)-1] // the last line may be cut
	}
	seen := 0
	for _, l := range lines {
		l = strings.TrimSpace(strings.TrimPrefix(l, "\ufeff"))
		if l == "" {
			continue
		}
		if len(l) < 20 || len(l) > 128 {
			return false
		}
		for _, c := range []byte(l) {
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == ':' || c == '_' || c == '-') {
				return false
			}
		}
		seen++
	}
	return seen > 0
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
