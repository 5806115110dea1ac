package workbench

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"sort"
	"strconv"
	"strings"

	"casegraph/export"
	"casegraph/graph"
	"casegraph/store"
)

// Bounds of what one export gathers around the selected entities.
const (
	exportNeighbourLimit = 500   // neighbour rows per selected entity
	exportTxnLimit       = 20000 // transactions read per entity of the case
	exportTxnPage        = 1000
)

// ExportRequest is one export: a case (id or name), loose references, or
// both, and the red-flag hits to include.
type ExportRequest struct {
	Case      string
	Refs      []graph.Ref
	Out       string
	Redact    bool
	Replace   bool             // replace an earlier export in Out
	Flags     []export.FlagRow // hits on any entities; the export keeps those on its own
	WithFlags bool             // the rules ran (Flags may still be empty)
}

// Exported is a written and journalled export.
type Exported struct {
	Manifest       export.Manifest
	Dir            string // absolute
	CaseID         string // empty for loose references
	ManifestSHA256 string // of manifest.json as written
	Journal        uint64 // sequence number of the journal entry
}

// ExportJournal is the detail of a case.export journal entry.
type ExportJournal struct {
	Dir            string   `json:"dir"`
	Redact         bool     `json:"redact"`
	ManifestSHA256 string   `json:"manifest_sha256"`
	Files          int      `json:"files"`
	Flags          bool     `json:"flags"`
	Refs           []string `json:"refs,omitempty"`
}

// Export is `casegraph export` and the TUI's export: it reads the case,
// gathers its entities, writes the case file into req.Out and journals the
// export (the folder, redaction and the manifest's SHA-256) as the
// session's user.
func (b *Workbench) Export(ctx context.Context, req ExportRequest) (Exported, error) {
	if err := b.notRemote("export"); err != nil {
		return Exported{}, err
	}
	db := b.db
	if !req.Redact {
		if err := b.allow(ctx, OpExport, ""); err != nil {
			return Exported{}, fmt.Errorf("%w (a redacted export is allowed)", err)
		}
	}
	out, err := b.exportDir(req.Out)
	if err != nil {
		return Exported{}, err
	}
	req.Out = out
	var seeds []graph.Ref
	var queries []string
	for _, r := range req.Refs {
		seeds = append(seeds, r)
		queries = append(queries, "ref "+r.String())
	}
	in := export.Input{Version: buildVersion(), Flags: slices.Clone(req.Flags)}
	var res Exported
	if req.Case != "" {
		c, err := db.Case(ctx, req.Case)
		if err != nil {
			return res, fmt.Errorf("export case %q: %w", req.Case, err)
		}
		res.CaseID = c.ID
		in.Case = export.FromCase(c)
		queries = append([]string{"case " + c.Name}, queries...)
		for _, b := range c.Bookmarks {
			// Every member of a cluster, path or trace is a selected entity.
			seeds = append(seeds, b.Target.Refs...)
			queries = append(queries, "bookmark "+b.Target.Key())
		}
	} else {
		names := make([]string, len(req.Refs))
		for i, r := range req.Refs {
			names[i] = r.String()
		}
		in.Case.Name = strings.Join(names, " ")
	}
	if len(seeds) == 0 {
		return res, fmt.Errorf("export: the case has no bookmarked entities")
	}
	queries = append(queries,
		fmt.Sprintf("neighbours: 1 hop of every selected entity, at most %d rows each", exportNeighbourLimit),
		fmt.Sprintf("transactions: both ends among the selected entities and their neighbours, or the money of a selected person or organisation (holdings), oldest first, at most %d read per entity; plus the evidence of their red flags",
			exportTxnLimit))
	in.Queries = queries
	if err := gatherExport(ctx, db, seeds, &in); err != nil {
		return res, err
	}
	dir, err := filepath.Abs(req.Out)
	if err != nil {
		return res, fmt.Errorf("export folder %s: %w", req.Out, err)
	}
	m, err := export.Write(dir, in, export.Options{Redact: req.Redact, Replace: req.Replace})
	if err != nil {
		return res, err
	}
	raw, err := os.ReadFile(filepath.Join(dir, export.ManifestName))
	if err != nil {
		return res, fmt.Errorf("read back %s: %w", export.ManifestName, err)
	}
	sum := sha256.Sum256(raw)
	res.Manifest, res.Dir, res.ManifestSHA256 = m, dir, hex.EncodeToString(sum[:])
	detail := ExportJournal{Dir: dir, Redact: req.Redact, ManifestSHA256: res.ManifestSHA256, Files: len(m.Files) + 1,
		Flags: req.WithFlags}
	for _, r := range req.Refs {
		detail.Refs = append(detail.Refs, r.String())
	}
	e, err := db.AppendJournal(ctx, b.actor(), store.ActCaseExport, res.CaseID, detail)
	if err != nil {
		return res, fmt.Errorf("export written to %s but not journalled: %w", dir, err)
	}
	res.Journal = e.Seq
	return res, nil
}

// exportHolder is a selected person or organisation: its money is on the
// instruments it holds.
type exportHolder struct {
	ref         graph.Ref
	instruments int             // held instruments exported
	more        bool            // it holds more than exportNeighbourLimit
	txns        map[string]bool // the transactions read of it and its instruments
	capped      bool            // one of them had more than exportTxnLimit
}

// gatherExport reads the seeds, their one-hop neighbours, the relations
// between them and the transactions among all of them, and the import
// batches those records came from. A person's or organisation's money is on
// the instruments it holds (holds links), as its page reads it: of a
// selected holder, every transaction read of it and of the instruments it
// holds is exported, with the counterparties at their other ends.
func gatherExport(ctx context.Context, db *store.DB, seeds []graph.Ref, in *export.Input) error {
	set := map[graph.Ref]bool{}
	var order []graph.Ref
	addRef := func(r graph.Ref) {
		if !set[r] {
			set[r] = true
			order = append(order, r)
		}
	}
	for _, s := range seeds {
		addRef(s)
	}
	for _, s := range seeds {
		nbs, _, err := db.Neighbors(ctx, s, exportNeighbourLimit)
		if err != nil {
			return fmt.Errorf("neighbours of %s: %w", s, err)
		}
		for _, n := range nbs {
			addRef(n.Ref)
			lt, err := graph.ParseLinkType(n.Relation)
			if err != nil {
				continue // a transaction channel: transactions are read below
			}
			// The link's own provenance: the file it came from is a
			// source of the export (memberships.csv was missing without it).
			l := graph.Link{From: s, To: n.Ref, Type: lt, Role: n.Role, Src: n.Src}
			if n.Dir == graph.DirIn {
				l.From, l.To = n.Ref, s
			}
			in.Links = append(in.Links, l)
		}
	}
	// A selected holder's money: its own and that of the instruments it
	// holds, as its page reads them (store.Holdings: the most active
	// first). moneyOf names the holders an entity's transactions count for.
	var holders []exportHolder
	moneyOf := map[graph.Ref][]int{}
	for _, s := range seeds {
		if !holderKind(s.Kind) || moneyOf[s] != nil { // a seed may be bookmarked twice
			continue
		}
		held, err := db.Holdings(ctx, s, exportNeighbourLimit)
		if err != nil {
			return err
		}
		h := len(holders)
		holders = append(holders, exportHolder{ref: s, instruments: len(held.Items), more: held.Total > len(held.Items),
			txns: map[string]bool{}})
		moneyOf[s] = append(moneyOf[s], h)
		for _, it := range held.Items {
			addRef(it.Ref)
			moneyOf[it.Ref] = append(moneyOf[it.Ref], h)
		}
	}
	batches := map[uint32]bool{}
	for _, r := range order {
		e, err := exportEntity(ctx, db, r)
		if err != nil {
			return err
		}
		in.Entities = append(in.Entities, e)
		batches[e.Src.Batch] = true
	}
	seen := map[string]bool{}
	// beyond are the counterparties of the holders' money that are not
	// among the seeds and their neighbours, in the order first met.
	var beyond []graph.Ref
	isBeyond := map[graph.Ref]bool{}
	for _, r := range order {
		if r == graph.CashRef {
			continue // every cash transaction has an instrument on the other side
		}
		money := moneyOf[r]
		full := false
		for off := 0; off < exportTxnLimit; off += exportTxnPage {
			page, err := db.Transactions(ctx, r, graph.TxQuery{Sort: graph.SortTimeAsc, Offset: off, Limit: exportTxnPage})
			if err != nil {
				return fmt.Errorf("transactions of %s: %w", r, err)
			}
			for _, t := range page.Txns {
				for _, h := range money {
					holders[h].txns[t.ID] = true
				}
				if seen[t.ID] || len(money) == 0 && !(set[t.From] && set[t.To]) {
					continue
				}
				seen[t.ID] = true
				in.Txns = append(in.Txns, t)
				batches[t.Src.Batch] = true
				for _, end := range []graph.Ref{t.From, t.To} {
					if !set[end] && !isBeyond[end] {
						isBeyond[end] = true
						beyond = append(beyond, end)
					}
				}
			}
			if full = len(page.Txns) == exportTxnPage; !full {
				break
			}
		}
		if full {
			// More transactions than exportTxnLimit, or exactly as many.
			for _, h := range money {
				holders[h].capped = true
			}
		}
	}
	for _, r := range beyond {
		addRef(r)
		e, err := exportEntity(ctx, db, r)
		if err != nil {
			return err
		}
		in.Entities = append(in.Entities, e)
	}
	if len(holders) > 0 {
		in.Queries = append(in.Queries, fmt.Sprintf("holdings: a person's or organisation's transactions are those of the instruments it holds "+
			"(holds links, at most the %d with the most transactions): of a selected one, every transaction of it and of its instruments, "+
			"at most %d read of each, oldest first, and the counterparties at their other ends", exportNeighbourLimit, exportTxnLimit))
	}
	for _, h := range holders {
		q := fmt.Sprintf("holdings of %s: %d instruments, %d transactions", h.ref, h.instruments, len(h.txns))
		if h.more {
			q += fmt.Sprintf("; it holds more instruments, the %d with the most transactions are exported", exportNeighbourLimit)
		}
		if h.capped {
			q += fmt.Sprintf("; an instrument has %d transactions or more, its first %d are exported", exportTxnLimit, exportTxnLimit)
		}
		in.Queries = append(in.Queries, q)
	}
	for _, l := range in.Links {
		batches[l.Src.Batch] = true
	}
	// Keep only the flags on exported entities.
	kept := in.Flags[:0]
	for _, f := range in.Flags {
		if set[f.Ref] {
			kept = append(kept, f)
		}
	}
	in.Flags = kept
	// Evidence is part of the case even when it reaches beyond one hop:
	// read those transactions and their ends too.
	for _, f := range in.Flags {
		for _, id := range f.Evidence {
			if seen[id] {
				continue
			}
			t, err := db.Txn(ctx, id)
			if err != nil {
				return fmt.Errorf("evidence transaction %s of %s %s: %w", id, f.Rule, f.Ref, err)
			}
			seen[id] = true
			in.Txns = append(in.Txns, t)
			for _, r := range []graph.Ref{t.From, t.To} {
				if set[r] {
					continue
				}
				addRef(r)
				e, err := exportEntity(ctx, db, r)
				if err != nil {
					return err
				}
				in.Entities = append(in.Entities, e)
			}
		}
	}
	st, err := db.Stats(ctx)
	if err != nil {
		return fmt.Errorf("read import batches: %w", err)
	}
	for _, e := range in.Entities {
		batches[e.Src.Batch] = true
	}
	for _, t := range in.Txns {
		batches[t.Src.Batch] = true
	}
	for _, b := range st.Batches {
		if batches[b.ID] {
			in.Sources = append(in.Sources, b)
		}
	}
	return nil
}

// exportEntity reads r's record, or a stub when the data has none (an end
// that only transactions or links name).
func exportEntity(ctx context.Context, db *store.DB, r graph.Ref) (graph.Entity, error) {
	e, err := db.Entity(ctx, r)
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, graph.ErrNotFound) {
		return graph.Entity{Ref: r, Stub: true}, nil
	}
	if err != nil {
		return graph.Entity{}, fmt.Errorf("read %s: %w", r, err)
	}
	return e, nil
}

// ExportFlags turns the rule hits into export rows with transaction ids.
func (a *Analysis) ExportFlags() []export.FlagRow {
	ix, flags := a.ix, a.flags
	rows := make([]export.FlagRow, 0, len(flags.Hits))
	for _, h := range flags.Hits {
		ev := make([]string, 0, len(h.Evidence))
		for _, i := range h.Evidence {
			ev = append(ev, ix.TxID(i))
		}
		rows = append(rows, export.FlagRow{Rule: h.Rule, Ref: ix.Ref(h.Node), Score: h.Score, Reason: h.Reason,
			Evidence: ev})
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Ref.Less(rows[j].Ref) })
	return rows
}

// buildVersion names the casegraph build: the module version, or the VCS
// revision for a development build ("devel+1a2b3c4d5e6f", "-dirty" when the
// tree had changes).
func buildVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	rev, dirty := "", false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty, _ = strconv.ParseBool(s.Value)
		}
	}
	if rev == "" {
		return "devel"
	}
	v := "devel+" + rev[:min(12, len(rev))]
	if dirty {
		v += "-dirty"
	}
	return v
}
