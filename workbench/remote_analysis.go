package workbench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"casegraph/dgraphdb"
	"casegraph/graph"
	"casegraph/store"
)

// The analyses on a cluster: the TUI names a neighbourhood (the entity on
// screen, the current case's bookmarks: FocusAnalysis), and Analyze pulls
// it (dgraphdb.Pull) into a scratch folder beside the local store, loads
// the graph index and runs the rules there, removes the folder and writes
// the risks back to the cluster (WriteBackRisks). The flags, groups, paths
// and traces screens then answer from that analysis as on a folder.

// RemoteAnalysisHops is how many hops around its focus the TUI's analysis
// on a cluster pulls.
const RemoteAnalysisHops = 2

// pullFocus is the neighbourhood an analysis on a cluster pulls.
type pullFocus struct {
	seeds []graph.Ref
	label string
}

func (f pullFocus) equal(g pullFocus) bool { return slices.Equal(f.seeds, g.seeds) }

// FocusAnalysis implements tui.ScopedAnalytics: on a cluster it names the
// neighbourhood the next Analyze pulls (seeds, RemoteAnalysisHops hops
// around them; label says what they are, "case X") and drops the current
// analysis when it was of another. It never waits for a running analysis.
// On a folder it does nothing: the analysis is of the whole graph.
func (b *Workbench) FocusAnalysis(seeds []graph.Ref, label string) (scoped, changed bool) {
	if b.remote == nil {
		return false, false
	}
	if len(seeds) == 0 {
		return true, false
	}
	f := pullFocus{seeds: slices.Clone(seeds), label: label}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.focus = f
	if b.an != nil && b.anFocus.equal(f) {
		return true, false
	}
	b.an = nil
	return true, true
}

// AnalysisScope says what the current analysis ran on: "" on a folder (the
// whole graph), else the pulled neighbourhood.
func (b *Workbench) AnalysisScope() string {
	if b.remote == nil {
		return ""
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.an == nil {
		return ""
	}
	return fmt.Sprintf("%d hops around %s", RemoteAnalysisHops, b.anFocus.label)
}

// analyzeRemote is analyze on a cluster.
func (b *Workbench) analyzeRemote(ctx context.Context, cfg graph.RuleConfig, progress func(stage string, done, total int)) (*Analysis, error) {
	b.mu.RLock()
	focus := b.focus
	b.mu.RUnlock()
	if len(focus.seeds) == 0 {
		return nil, fmt.Errorf("analysis of %s: on a Dgraph cluster the analyses run on a pulled neighbourhood: open an entity or make a case current first", b.remote.Name())
	}
	opt := dgraphdb.PullOptions{Seeds: focus.seeds, Hops: RemoteAnalysisHops,
		Progress: func(hop, hops, nodes, txns int) {
			progress(fmt.Sprintf("pulling hop %d of %d: %d nodes", hop, hops, nodes), txns, 0)
		}}
	sg, err := b.remote.Pull(ctx, opt)
	if err != nil {
		return nil, err
	}
	root := filepath.Join(b.db.Dir(), "pulls")
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, err
	}
	b.clearPulls(root)
	dir, err := os.MkdirTemp(root, "tui-")
	if err != nil {
		return nil, err
	}
	db, err := store.Open(dir, store.Options{})
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	keep := false
	defer func() {
		if !keep {
			db.Close()
			os.RemoveAll(dir)
		}
	}()
	scope := PullScope{URL: b.remote.Name(), Hops: RemoteAnalysisHops, Follow: FollowName(dgraphdb.FollowAll)}
	for _, r := range focus.seeds {
		scope.Seeds = append(scope.Seeds, r.String())
	}
	progress("storing the pull", 0, 1)
	if scope, err = PullInto(ctx, db, sg, scope, nil); err != nil {
		return nil, err
	}
	if err := b.addLocalStore(ctx, db); err != nil {
		return nil, fmt.Errorf("analyse: %w", err)
	}
	pulled := New(db, filepath.Base(dir))
	ix, _, err := LoadIndex(ctx, db, progress)
	if err != nil {
		return nil, fmt.Errorf("analyse: %w", err)
	}
	a, err := pulled.RunRules(ctx, ix, cfg, func(done, total int) { progress("red-flag rules", done, total) })
	if err != nil {
		return nil, err
	}
	progress("writing risks back", 0, 1)
	if _, _, err := WriteBackRisks(ctx, b.remote, b, a, scope); err != nil {
		return nil, fmt.Errorf("the analysis ran but its risks were not written back: %w", err)
	}
	progress("writing risks back", 1, 1)
	b.mu.Lock()
	b.anFocus = focus
	b.mu.Unlock()
	// The folder stays open for the activity of its entities (the
	// sparklines, the timeline) until the next analysis replaces it.
	p := &pulledStore{db: db, dir: dir, expanded: map[graph.Ref]bool{}}
	for _, r := range sg.Expanded {
		p.expanded[r] = true
	}
	b.pmu.Lock()
	old := b.pulled
	b.pulled = p
	b.pmu.Unlock()
	old.close()
	keep = true
	return a, nil
}

// pulledStore is the folder an analysis on a cluster was pulled into.
type pulledStore struct {
	db       *store.DB
	dir      string
	expanded map[graph.Ref]bool // the entities whose transactions it holds whole
}

func (p *pulledStore) close() {
	if p != nil {
		p.db.Close()
		os.RemoveAll(p.dir)
	}
}

// clearPulls removes the folders earlier analyses left under root (a
// program that ended without removing its own), except the current one:
// the local store is one program's at a time.
func (b *Workbench) clearPulls(root string) {
	b.pmu.RLock()
	cur := ""
	if b.pulled != nil {
		cur = b.pulled.dir
	}
	b.pmu.RUnlock()
	old, _ := filepath.Glob(filepath.Join(root, "tui-*"))
	for _, d := range old {
		if d != cur {
			os.RemoveAll(d)
		}
	}
}

// remoteActivity is Activity on a cluster: answered from the folder of the
// current analysis when it holds all the transactions of what q asks for
// (its expanded entities), else refused.
func (b *Workbench) remoteActivity(ctx context.Context, q graph.ActivityQuery) (graph.Activity, error) {
	if q.Thresholds == nil {
		cfg, _, err := b.RuleConfig(ctx)
		if err != nil {
			return graph.Activity{}, err
		}
		q.Thresholds = cfg.ReportingThresholdMap()
	}
	b.pmu.RLock()
	defer b.pmu.RUnlock()
	p := b.pulled
	if p == nil {
		return graph.Activity{}, fmt.Errorf("press F first: on %s activity comes from the analysed neighbourhood (%w)", b.remote.Name(), ErrRemote)
	}
	pw := New(p.db, "pulled")
	refs, err := pw.instrumentsOf(ctx, q.Refs)
	if err != nil {
		return graph.Activity{}, err
	}
	for _, r := range refs {
		if !p.expanded[r] {
			return graph.Activity{}, fmt.Errorf("press F on %s: it is outside the analysed neighbourhood of %s (%w)", r, b.remote.Name(), ErrRemote)
		}
	}
	q.Refs = refs
	return p.db.Activity(ctx, q)
}

// readWhole reports whether the current analysis read all of ref's data:
// on a folder always (it is of the whole graph), on a cluster when ref is
// one of the expanded entities of the pulled neighbourhood.
func (b *Workbench) readWhole(ref graph.Ref) bool {
	if b.remote == nil {
		return true
	}
	b.pmu.RLock()
	defer b.pmu.RUnlock()
	return b.pulled != nil && b.pulled.expanded[ref]
}
