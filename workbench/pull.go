package workbench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"casegraph/dgraphdb"
	"casegraph/graph"
	"casegraph/store"
)

// A pulled neighbourhood (dgraphdb.Pull) becomes a local casegraph store:
// its records go through the store's own loader, as an import's do, so
// every analysis of a folder (flags, groups, paths, traces, the TUI's
// screens) runs on it unchanged and answers, on the same records, what a
// folder loaded from the same files answers. The folder also keeps what was
// pulled (PullFile).

// PullFile is the file in a pulled folder that says what it holds.
const PullFile = "pull.json"

// PullScope says what a folder pulled from a cluster holds.
type PullScope struct {
	URL    string   `json:"url"`
	Seeds  []string `json:"seeds"`
	Case   string   `json:"case,omitempty"`
	List   string   `json:"list,omitempty"`   // an imported watch list or register (its file name)
	Search string   `json:"search,omitempty"` // a search whose hits are seeds
	// Given is how many of Seeds, first, were named one by one (--seed)
	// beside a case, a list or a search.
	Given    int       `json:"given,omitempty"`
	Hops     int       `json:"hops"`
	From     time.Time `json:"from,omitzero"`
	To       time.Time `json:"to,omitzero"`
	Follow   string    `json:"follow"` // all, out, in
	At       time.Time `json:"at"`
	Nodes    int       `json:"nodes"`
	Entities int       `json:"entities"`
	Links    int       `json:"links"`
	Txns     int       `json:"transactions"`
	// Batch is the cluster's last import batch when the pull began
	// (dgraphdb.Subgraph.LastBatch): the risks written back from the folder
	// are stale once the cluster has a later one.
	Batch uint32 `json:"batch"`
	// Expanded are the nodes whose links and transactions in the window are
	// all in the folder (distance < Hops); the others are its boundary, whose
	// risks the folder underrates: only the expanded subjects' risks are
	// written back to the cluster (WriteBackRisks).
	Expanded []string `json:"expanded"`
}

// Describe is the scope in a line: "2 hops around card:…, 2025-01-01 …
// 2025-04-01".
func (s PullScope) Describe() string {
	// The seeds a case, a list or a search stand for are named by them;
	// the ones given one by one are listed only without those.
	var named []string
	if s.Case != "" {
		named = append(named, "case "+s.Case)
	}
	if s.List != "" {
		named = append(named, "list "+s.List)
	}
	if s.Search != "" {
		named = append(named, fmt.Sprintf("the hits of search %q", s.Search))
	}
	seeds := strings.Join(s.Seeds, ", ")
	if len(named) > 0 {
		given := s.Seeds[:min(s.Given, len(s.Seeds))]
		seeds = strings.Join(append(slices.Clone(given), named...), ", ")
		if i := strings.LastIndex(seeds, ", "); i >= 0 {
			seeds = seeds[:i] + " and " + seeds[i+2:]
		}
	}
	d := fmt.Sprintf("%d hops around %s", s.Hops, seeds)
	if s.Follow != "" && s.Follow != "all" {
		d += " following money " + s.Follow
	}
	if !s.From.IsZero() || !s.To.IsZero() {
		d += fmt.Sprintf(", transactions %s … %s", dateOrOpen(s.From), dateOrOpen(s.To))
	}
	return d
}

func dateOrOpen(t time.Time) string {
	if t.IsZero() {
		return "open"
	}
	return t.UTC().Format(time.RFC3339)
}

// FollowName names a dgraphdb.Follow for PullScope.
func FollowName(f dgraphdb.Follow) string {
	switch f {
	case dgraphdb.FollowOut:
		return "out"
	case dgraphdb.FollowIn:
		return "in"
	}
	return "all"
}

// PullInto writes a pulled subgraph into db, which must be empty, through
// the store's loader (a bulk load), records scope in db's folder (PullFile)
// and saves the search index.
func PullInto(ctx context.Context, db *store.DB, sg *dgraphdb.Subgraph, scope PullScope,
	progress func(stage string, done, total int64)) (PullScope, error) {
	empty, err := db.Empty()
	if err != nil {
		return scope, err
	}
	if !empty {
		return scope, fmt.Errorf("pull into %s: the folder holds a database already; pull into a new folder", db.Dir())
	}
	l, err := db.NewLoader()
	if err != nil {
		return scope, err
	}
	fail := func(err error) (PullScope, error) {
		return scope, errors.Join(fmt.Errorf("pull into %s: %w", db.Dir(), err), l.Abort())
	}
	// A pull is a bulk import: it builds the graph index from the records
	// it writes (ADR 0008), so the analysis that follows maps it.
	lean := keepLean(storeTarget{db}, l)
	// The cluster's import batches, with their numbers: the records'
	// provenance names them, and their time zones and resolutions say how
	// the rules read the transactions' clocks.
	for _, b := range sg.Batches {
		var id uint32
		for id < b.ID {
			id = l.BeginBatch(b.File, b.SHA256, b.Format)
		}
		if id != b.ID {
			return fail(fmt.Errorf("import batch %d: the cluster's batches are out of order", b.ID))
		}
		if err := l.EndBatch(b); err != nil {
			return fail(err)
		}
	}
	for _, e := range sg.Entities {
		if err := l.PutEntity(e); err != nil {
			return fail(err)
		}
	}
	for _, k := range sg.Links {
		if err := l.PutLink(k); err != nil {
			return fail(err)
		}
	}
	for _, t := range sg.Txns {
		if err := l.PutTxn(t); err != nil {
			return fail(err)
		}
	}
	if err := l.Finish(ctx, progress); err != nil {
		return scope, fmt.Errorf("pull into %s: %w", db.Dir(), err)
	}
	scope.At, scope.Batch = time.Now().UTC(), sg.LastBatch
	scope.Nodes, scope.Entities, scope.Links, scope.Txns = sg.Nodes, len(sg.Entities), len(sg.Links), len(sg.Txns)
	scope.Expanded = make([]string, len(sg.Expanded))
	for i, r := range sg.Expanded {
		scope.Expanded[i] = r.String()
	}
	if err := writePullScope(db.Dir(), scope); err != nil {
		return scope, err
	}
	wb := New(db, filepath.Base(db.Dir()))
	if _, _, err := wb.LoadSearch(ctx); err != nil {
		return scope, fmt.Errorf("pull into %s: search index: %w", db.Dir(), err)
	}
	if lean != nil {
		if progress == nil {
			progress = func(string, int64, int64) {}
		}
		// A failure costs the analysis one rebuild, which says why.
		_, _ = buildIndexAtImport(ctx, db, lean, progress)
	}
	return scope, nil
}

func writePullScope(dir string, s PullScope) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, PullFile), append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("pull into %s: %w", dir, err)
	}
	return nil
}

// ReadPullScope reads what a pulled folder holds; ok is false for a folder
// that was not pulled.
func ReadPullScope(dir string) (s PullScope, ok bool, err error) {
	b, err := os.ReadFile(filepath.Join(dir, PullFile))
	if errors.Is(err, os.ErrNotExist) {
		return s, false, nil
	}
	if err != nil {
		return s, false, err
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, false, fmt.Errorf("%s: %w", filepath.Join(dir, PullFile), err)
	}
	return s, true, nil
}

// WriteBackRisks writes the risks of an analysis of a pulled folder back
// to the cluster it was pulled from, for the subjects whose own links and
// transactions the folder holds whole (scope.Expanded): every such entity
// with a risk gets its score and record (dgraphdb.PutRisks), so show and
// the team see them; a boundary entity's risk, computed on part of its
// data, is not written. It returns how many were written and how many of
// them are flagged.
func WriteBackRisks(ctx context.Context, dg *dgraphdb.DB, wb *Workbench, a *Analysis, scope PullScope) (written, flagged int, err error) {
	expanded := map[string]bool{}
	for _, r := range scope.Expanded {
		expanded[r] = true
	}
	flags := a.flags
	run := graph.AnalysisRun{Time: time.Now().UTC(), User: wb.actor().User, Threshold: flags.Threshold,
		Entities: len(flags.Risks), Flagged: len(flags.Flagged()), Subjects: len(flags.FlaggedSubjects()), Hits: len(flags.Hits)}
	if v, ok, err := wb.db.RuleConfig(ctx); err != nil {
		return 0, 0, err
	} else if ok {
		run.RuleConfig, run.RuleConfigNote = v.Seq, v.Note
	}
	var risks []graph.KeptRisk
	for _, r := range flags.Risks {
		if !expanded[r.Ref.String()] {
			continue
		}
		risks = append(risks, a.kept(r))
		if r.Score >= flags.Threshold {
			flagged++
		}
	}
	slices.SortFunc(risks, func(x, y graph.KeptRisk) int { return strings.Compare(x.Ref.String(), y.Ref.String()) })
	if err := dg.PutRisks(ctx, run, scope.Describe(), scope.Batch, risks); err != nil {
		return 0, 0, err
	}
	return len(risks), flagged, nil
}

// RemoteRisk is EntityRisk on a cluster: the risk an analysis of a pulled
// neighbourhood wrote back (WriteBackRisks), with the scope it came from,
// stale when the cluster imported data after the pull began; ok is false
// when none was written for ref.
func RemoteRisk(ctx context.Context, dg *dgraphdb.DB, ref graph.Ref) (EntityRisk, string, bool, error) {
	k, run, scope, ok, err := dg.Risk(ctx, ref)
	if err != nil || !ok {
		return EntityRisk{}, "", false, err
	}
	r := entityRiskOf(k, run, true)
	r.Scope = scope
	return r, scope, true, nil
}

// PullScope is what the workbench's folder was pulled from; ok is false
// for a folder that was not pulled.
func (b *Workbench) PullScope() (PullScope, bool, error) { return ReadPullScope(b.db.Dir()) }
