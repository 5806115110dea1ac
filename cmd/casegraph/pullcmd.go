package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"casegraph/dgraphdb"
	"casegraph/graph"
	"casegraph/store"
	"casegraph/workbench"
)

// Pulling a neighbourhood of a Dgraph cluster into a local folder
// (docs/DGRAPH.md, "Analyses on a cluster"): casegraph pull, and flags,
// clusters, path and trace with --db dgraph://… and seeds, which pull into a
// scratch folder beside the cluster's local store and answer there.

// pullFlags say which neighbourhood of a cluster to pull.
type pullFlags struct {
	Seed     []string `name:"seed" placeholder:"REF" help:"on a dgraph:// --db: pull around this entity (repeatable)"`
	Case     string   `name:"case" placeholder:"NAME" help:"on a dgraph:// --db: pull around the entities the case's bookmarks name"`
	List     string   `name:"list" placeholder:"NAME" help:"on a dgraph:// --db: pull around the entities of an imported watch list or register (its file name, e.g. watchlist.csv)"`
	Search   string   `name:"search" placeholder:"QUERY" help:"on a dgraph:// --db: pull around the hits of a search"`
	SearchN  int      `name:"search-limit" default:"20" placeholder:"N" help:"on a dgraph:// --db: with --search, the best N hits"`
	Hops     int      `name:"hops" default:"-1" placeholder:"N" help:"on a dgraph:// --db: hops around the seeds (default: 2; path: half of --max-hops; trace: --max-hops)"`
	From     string   `name:"from" placeholder:"DATE" help:"on a dgraph:// --db: only transactions from this day or time on"`
	To       string   `name:"to" placeholder:"DATE" help:"on a dgraph:// --db: only transactions before this day or time"`
	MaxNodes int      `name:"max-nodes" default:"${pull_nodes}" placeholder:"N" help:"on a dgraph:// --db: refuse a pull of more nodes"`
	MaxTxns  int      `name:"max-txns" default:"${pull_txns}" placeholder:"N" help:"on a dgraph:// --db: refuse a pull of more transactions"`
}

// given reports whether any flag names what to pull.
func (p pullFlags) given() bool {
	return len(p.Seed) > 0 || p.Case != "" || p.List != "" || p.Search != "" || p.Hops >= 0 || p.From != "" || p.To != ""
}

// noSeeds is the refusal of a pull that names no seeds.
const noSeeds = "on a Dgraph cluster this command runs on a pulled neighbourhood: name it with --seed REF, --case NAME, --list NAME or --search QUERY (and --hops N)"

// pullSpec is a pull a command asks for: the flags, and the seeds and
// defaults of the command itself (path's two ends, trace's start).
type pullSpec struct {
	flags   pullFlags
	seeds   []string // the command's own: added to --seed
	hops    int      // the command's default
	follow  dgraphdb.Follow
	holders bool // a person's or organisation's seeds bring what they hold (trace)
	txSeeds bool // the command's seeds may be transaction ids (trace)
	stderr  io.Writer
}

// spec is the pull an analysis command asks for on a cluster (nil on a
// folder, where the pull flags are refused).
func (p pullFlags) spec(dbf dbFlags, hops int, stderr io.Writer, seeds ...string) (*pullSpec, error) {
	if !dbf.remote() {
		if p.given() {
			return nil, usageError{msg: "--seed, --case, --list, --search, --hops, --from and --to pull from a Dgraph cluster: use them with --db dgraph://…"}
		}
		return nil, nil
	}
	return &pullSpec{flags: p, hops: hops, seeds: seeds, stderr: stderr}, nil
}

// pullScratchDir is where the analysis commands pull to on a cluster.
func pullScratchDir(url string) string { return filepath.Join(remoteLocalDir(url), "pulls") }

// options resolves the spec on the cluster: the seeds' references, the
// case's bookmarks, the window.
func (s pullSpec) options(ctx context.Context, dg *dgraphdb.DB, url string) (dgraphdb.PullOptions, workbench.PullScope, error) {
	f := s.flags
	opt := dgraphdb.PullOptions{Hops: f.Hops, Follow: s.follow, MaxNodes: f.MaxNodes, MaxTxns: f.MaxTxns}
	if opt.Hops < 0 {
		opt.Hops = s.hops
	}
	scope := workbench.PullScope{URL: url, Case: f.Case, List: f.List, Search: f.Search, Hops: opt.Hops, Follow: workbench.FollowName(s.follow)}
	var err error
	if f.From != "" {
		if opt.From, err = parseWhen(f.From); err != nil {
			return opt, scope, usageError{msg: "--from: " + err.Error()}
		}
	}
	if f.To != "" {
		if opt.To, err = parseWhen(f.To); err != nil {
			return opt, scope, usageError{msg: "--to: " + err.Error()}
		}
	}
	if !opt.From.IsZero() && !opt.To.IsZero() && !opt.From.Before(opt.To) {
		return opt, scope, usageError{msg: fmt.Sprintf("--to %s is not after --from %s", f.To, f.From)}
	}
	scope.From, scope.To = opt.From, opt.To
	known := func(r graph.Ref) bool { _, err := dg.Entity(ctx, r); return err == nil }
	add := func(r graph.Ref) {
		if !slices.Contains(opt.Seeds, r) {
			opt.Seeds = append(opt.Seeds, r)
			scope.Seeds = append(scope.Seeds, r.String())
		}
	}
	for i, seed := range append(slices.Clone(s.seeds), f.Seed...) {
		r, err := userRef(seed, known)
		if err != nil && s.txSeeds && i < len(s.seeds) {
			// A trace from a transaction: its two ends.
			t, terr := dg.Txn(ctx, seed)
			if terr == nil {
				add(t.From)
				add(t.To)
				continue
			}
		}
		if err != nil {
			return opt, scope, err
		}
		add(r)
	}
	if f.Case != "" || f.List != "" || f.Search != "" {
		scope.Given = len(opt.Seeds)
	}
	if f.Case != "" {
		refs, err := caseRefs(ctx, url, f.Case)
		if err != nil {
			return opt, scope, err
		}
		for _, r := range refs {
			add(r)
		}
	}
	if f.List != "" {
		refs, err := dg.Listed(ctx, f.List)
		if err != nil {
			return opt, scope, fmt.Errorf("--list %s: %w", f.List, err)
		}
		for _, r := range refs {
			add(r)
		}
	}
	if f.Search != "" {
		if f.SearchN <= 0 {
			return opt, scope, usageError{msg: "--search-limit must be positive"}
		}
		res, err := dg.Search(ctx, f.Search, graph.KindUnknown, f.SearchN)
		if err != nil {
			return opt, scope, fmt.Errorf("--search %q: %w", f.Search, err)
		}
		if len(res.Hits) == 0 {
			return opt, scope, fmt.Errorf("--search %q finds nothing on %s (the cluster finds entities whose text contains the query, of %d characters or more: docs/DGRAPH.md)",
				f.Search, url, dgraphdb.MinQuery)
		}
		for _, h := range res.Hits {
			add(h.Doc.Ref)
		}
	}
	if len(opt.Seeds) == 0 {
		return opt, scope, usageError{msg: noSeeds}
	}
	if s.holders {
		// A trace from a person starts at everything they hold.
		for _, r := range slices.Clone(opt.Seeds) {
			if r.Kind != graph.KindPerson && r.Kind != graph.KindOrganisation {
				continue
			}
			nbs, _, err := dg.Neighbors(ctx, r, 0)
			if err != nil {
				return opt, scope, err
			}
			for _, n := range nbs {
				if n.Relation == graph.LinkHolds.String() && n.Dir == graph.DirOut {
					add(n.Ref)
				}
			}
		}
	}
	return opt, scope, nil
}

// caseRefs are the entities a case of the cluster's local store names.
func caseRefs(ctx context.Context, url, name string) ([]graph.Ref, error) {
	dir := remoteLocalDir(url)
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("--case %s: the cluster %s has no local store of cases yet (%s)", name, url, dir)
	}
	db, err := store.Open(dir, store.Options{ReadOnly: true, Logger: debugLogger(dir)})
	if err != nil {
		return nil, fmt.Errorf("--case %s: open the cluster's local store: %w", name, err)
	}
	defer db.Close()
	c, err := db.Case(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("--case %s: %w", name, err)
	}
	var refs []graph.Ref
	for _, b := range c.Bookmarks {
		for _, r := range b.Target.Refs {
			if !slices.Contains(refs, r) {
				refs = append(refs, r)
			}
		}
	}
	if len(refs) == 0 {
		return nil, fmt.Errorf("--case %s: the case has no bookmarks to pull around", name)
	}
	return refs, nil
}

// pullInto pulls what spec names from the cluster url into the folder
// out (created; it must not hold a database), with progress on stderr.
func pullInto(ctx context.Context, url string, spec pullSpec, out string, stderr io.Writer) (workbench.PullScope, error) {
	dg, err := dgraphdb.Open(ctx, url)
	if err != nil {
		return workbench.PullScope{}, err
	}
	defer dg.Close()
	opt, scope, err := spec.options(ctx, dg, url)
	if err != nil {
		return scope, err
	}
	start := time.Now()
	p := newProgress(stderr)
	opt.Progress = func(hop, hops, nodes, txns int) {
		if p.due(time.Now(), false) {
			p.draw(fmt.Sprintf("pull hop %d/%d  %s nodes  %s transactions", hop, hops, count(nodes), count(txns)))
		}
	}
	sg, err := dg.Pull(ctx, opt)
	p.Done()
	if err != nil {
		return scope, err
	}
	privateUmask()
	db, err := store.Open(out, store.Options{Logger: debugLogger(out)})
	if err != nil {
		return scope, err
	}
	scope, err = workbench.PullInto(ctx, db, sg, scope, nil)
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return scope, err
	}
	fmt.Fprintf(stderr, "pull: %s nodes (%s expanded), %s links, %s transactions from %s in %s: %s\n",
		count(scope.Nodes), count(len(scope.Expanded)), count(scope.Links), count(scope.Txns), url,
		time.Since(start).Round(time.Millisecond), scope.Describe())
	return scope, nil
}

// openPulled pulls into a new scratch folder beside the cluster's local
// store and opens it; done closes and removes it.
func (f *dbFlags) openPulled(ctx context.Context, stderr io.Writer) (*store.DB, func(), error) {
	if f.pull == nil || !f.pull.flags.given() && len(f.pull.seeds) == 0 {
		return nil, nil, usageError{msg: noSeeds}
	}
	root := pullScratchDir(f.dir)
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, nil, err
	}
	dir, err := os.MkdirTemp(root, "pull-")
	if err != nil {
		return nil, nil, err
	}
	if stderr == nil {
		stderr = io.Discard
	}
	// The folder and its log beside it (debugLogger); the caller closes
	// db first.
	remove := func() { os.RemoveAll(dir); os.Remove(filepath.Clean(dir) + ".log") }
	if _, err := pullInto(ctx, f.dir, *f.pull, dir, stderr); err != nil {
		remove()
		return nil, nil, err
	}
	db, err := store.Open(dir, store.Options{Logger: debugLogger(dir)})
	if err != nil {
		remove()
		return nil, nil, err
	}
	return db, remove, nil
}

// pullCmd: casegraph pull.
type pullCmd struct {
	DB   dbArgs    `embed:""`
	Pull pullFlags `embed:""`
	Out  string    `name:"out" placeholder:"DIR" predictor:"dir" help:"the new folder to pull into (required)"`
	JSON bool      `name:"json" help:"print what was pulled as JSON"`
}

func (c *pullCmd) Run(e *env) error { return cmdPull(e.ctx, c, e.stdout, e.stderr) }

func cmdPull(ctx context.Context, c *pullCmd, stdout, stderr io.Writer) error {
	dbf := c.DB.flags()
	if !dbf.remote() {
		return usageError{msg: "pull reads from a Dgraph cluster: --db dgraph://HOST:PORT[,HOST:PORT…]"}
	}
	if c.Out == "" {
		return usageError{msg: "pull needs --out DIR, a new folder"}
	}
	c.Out = hostPath(ctx, c.Out)
	if ents, err := os.ReadDir(c.Out); err == nil && len(ents) > 0 {
		return fmt.Errorf("pull: %s is not empty: pull into a new folder", c.Out)
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	scope, err := pullInto(ctx, dbf.dir, pullSpec{flags: c.Pull, hops: 2}, c.Out, stderr)
	if err != nil {
		return err
	}
	if c.JSON {
		return writeJSON(stdout, scope)
	}
	fmt.Fprintf(stdout, "%s: %s\n%d entities, %d links, %d transactions; every command works on it: casegraph flags --db %s\n",
		c.Out, scope.Describe(), scope.Entities, scope.Links, scope.Txns, c.Out)
	return nil
}

// remoteVerdicts are the verdicts of the cluster's local store (none
// before it exists; none, said on stderr, while a TUI holds it).
func remoteVerdicts(ctx context.Context, url string, stderr io.Writer) (map[graph.Ref]graph.Verdict, error) {
	dir := remoteLocalDir(url)
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	db, err := store.Open(dir, store.Options{ReadOnly: true, Logger: debugLogger(dir)})
	if errors.Is(err, store.ErrLocked) {
		fmt.Fprintf(stderr, "flags: the verdicts are not shown: another casegraph holds %s\n", dir)
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("verdicts of %s: %w", url, err)
	}
	defer db.Close()
	return newBackend(db).VerdictMap(ctx)
}

// writeBack writes the risks of an analysis of a pulled neighbourhood back
// to the cluster (workbench.WriteBackRisks), unless --config ran other
// rules; it says on stderr what it did.
func writeBack(ctx context.Context, url string, wb *workbench.Workbench, a *workbench.Analysis, rf ruleFlags, stderr io.Writer) error {
	if rf.Config != "" {
		fmt.Fprintf(stderr, "rules: not written back to %s (--config is not the team's rule configuration)\n", url)
		return nil
	}
	scope, ok, err := wb.PullScope()
	if err != nil || !ok {
		return fmt.Errorf("write risks back: the pulled folder has no scope (%v)", err)
	}
	dg, err := dgraphdb.Open(ctx, url)
	if err != nil {
		return err
	}
	defer dg.Close()
	start := time.Now()
	n, flagged, err := workbench.WriteBackRisks(ctx, dg, wb, a, scope)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "rules: %s risks (%s flagged) of the %s entities whose data the pull holds whole written back to %s in %s: show and the team see them\n",
		count(n), count(flagged), count(len(scope.Expanded)), url, time.Since(start).Round(time.Millisecond))
	return nil
}
