package tui

import (
	"context"
	"errors"

	"casegraph/backend"
	"casegraph/graph"
)

// ErrSearchNotReady is returned by Backend.Search while the search index is
// still loading in the background (backend.ErrSearchNotReady).
var ErrSearchNotReady = backend.ErrSearchNotReady

// Backend is everything the TUI asks of the case database: the read side
// every front end shares (backend.Reader: stats, entity, neighbours,
// transaction pages, search), and the local work product beside it (cases,
// bookmarks, verdicts, resolution) and the analyses. cmd/casegraph
// implements it with workbench.Workbench; tests use a fake. Every method may
// block on IO: the TUI calls them only from commands.
type Backend interface {
	backend.Reader
	// Activity buckets the transactions of q.Refs by time and by amount
	// against the reporting thresholds (the timeline, the amount histogram
	// and the sparklines) in one bounded pass over the rows in range. (Not
	// in backend.Reader yet: a Dgraph cluster does not answer it.)
	Activity(ctx context.Context, q graph.ActivityQuery) (graph.Activity, error)
	// Holdings lists what a person or organisation holds (at most limit
	// instruments, most transactions first) with the combined totals; zero
	// for other kinds.
	Holdings(ctx context.Context, ref graph.Ref, limit int) (graph.Holdings, error)
	// HolderNeighbors is Neighbors of a person or organisation with the
	// counterparties of everything they hold (or of the held instrument
	// via) added in, each naming the instrument (Neighbor.Via).
	HolderNeighbors(ctx context.Context, ref, via graph.Ref, limit int) ([]graph.Neighbor, int, error)

	CaseStore
	Analytics
	Resolver
	Verdicts // verdict.go
}

// ErrNotAnalyzed is returned by the Analytics queries until Analyze has
// finished once.
var ErrNotAnalyzed = errors.New("analysis has not run yet")

// Analytics is what the Flags, Clusters, Path and Trace screens ask of the
// database. The analyses need the whole graph in memory and the red-flag
// rules run, which takes seconds on a big database: Analyze builds both once
// (later calls return at once) and the queries answer ErrNotAnalyzed until
// it has. Every method honours ctx, so the TUI cancels long work with esc.
type Analytics interface {
	// Analyze loads the graph and runs the rules, calling progress (from
	// any goroutine) with the stage and how far it is.
	Analyze(ctx context.Context, progress func(stage string, done, total int)) error
	// Flags ranks the flagged entities, only those with a hit of rule
	// unless rule is empty; at most limit rows (0: all).
	Flags(ctx context.Context, rule string, limit int) (FlagList, error)
	// EntityFlags is one entity's risk and hits; ok is false when it has
	// none. Before Analyze it answers from the analysis kept in the
	// database, if any (FlagRow.Kept says when it ran and whether the data
	// changed since).
	EntityFlags(ctx context.Context, ref graph.Ref) (row FlagRow, ok bool, err error)
	// RiskMarks is the risk of each of refs that has one, from the current
	// analysis or, before Analyze, the kept one; it never runs the rules.
	RiskMarks(ctx context.Context, refs []graph.Ref) (map[graph.Ref]graph.RiskMark, error)
	// Clusters lists suspected groups, ordered by turnover or by risk.
	Clusters(ctx context.Context, by ClusterOrder, limit int) ([]Cluster, error)
	// Paths returns up to k shortest paths from a to b within maxHops.
	Paths(ctx context.Context, a, b graph.Ref, k, maxHops int) ([]PathRow, error)
	// Trace follows money forward or backward from an entity or a
	// transaction.
	Trace(ctx context.Context, q TraceQuery) (TraceTree, error)
}

// ScopedAnalytics is implemented by a backend whose analyses run on a
// neighbourhood it pulls rather than on the whole graph (a Dgraph cluster,
// docs/DGRAPH.md): before an analytics screen needs the analysis, the TUI
// names the neighbourhood (the entity on screen, else the current case's
// bookmarks) and runs Analyze again when it changed.
type ScopedAnalytics interface {
	// FocusAnalysis names the neighbourhood of the next Analyze; scoped is
	// false when the analyses are of the whole graph (then nothing
	// changes), changed is true when the current analysis is of another
	// neighbourhood (it is dropped). No seeds change nothing. It never
	// blocks on a running analysis.
	FocusAnalysis(seeds []graph.Ref, label string) (scoped, changed bool)
	// AnalysisScope says what the current analysis ran on; "" for the
	// whole graph.
	AnalysisScope() string
}

// DeferredKeeper is implemented by a backend that keeps each analysis in
// its database (the local workbench): AnalyzeDeferred is Analyze without
// keeping, and returns the keep (nil when there is nothing to keep), which
// the TUI runs after it has shown the analysis rather than before: on the
// large demo the keep is 3–5 s, on 30M transactions 18–46 s.
type DeferredKeeper interface {
	AnalyzeDeferred(ctx context.Context, progress func(stage string, done, total int)) (keep func(context.Context) error, err error)
}

// CaseStore is what the bookmark dialog and the Cases screen ask of the
// database. Every change is journalled by the implementation with the OS
// user and the time; caseID is a case id (graph.Case.ID).
type CaseStore interface {
	// Cases lists every case, most recently updated first.
	Cases(ctx context.Context) ([]graph.Case, error)
	// ViewCase returns one case and journals that it was viewed.
	ViewCase(ctx context.Context, caseID string) (graph.Case, error)
	CreateCase(ctx context.Context, name string) (graph.Case, error)
	RenameCase(ctx context.Context, caseID, name string) (graph.Case, error)
	SetCaseStatus(ctx context.Context, caseID string, st graph.CaseStatus) (graph.Case, error)
	SetCaseNotes(ctx context.Context, caseID, notes string) (graph.Case, error)
	SetCaseTags(ctx context.Context, caseID string, tags []string) (graph.Case, error)
	DeleteCase(ctx context.Context, caseID string) error
	// AddBookmark adds b (its id and times are set by the store); a
	// bookmark on the same target gains b's tags and note instead.
	AddBookmark(ctx context.Context, caseID string, b graph.Bookmark) (graph.Bookmark, error)
	// UpdateBookmark replaces a bookmark's tags and note.
	UpdateBookmark(ctx context.Context, caseID, bookmarkID string, tags []string, note string) (graph.Bookmark, error)
	DeleteBookmark(ctx context.Context, caseID, bookmarkID string) error
	// MoveBookmarks moves (copy: copies) bookmarks of case from into case
	// to as one change that one undo reverts; a bookmark on a target the
	// destination has already is folded into that one.
	MoveBookmarks(ctx context.Context, from, to string, bookmarkIDs []string, copy bool) (CaseMove, error)
	// MergeCases moves every bookmark, note and tag of case from into case
	// into and deletes from, as one change that one undo reverts.
	MergeCases(ctx context.Context, into, from string) (CaseMove, error)
	// UndoLast reverts the newest case change still undoable (undo is a
	// stack) and says what it reverted; an error when nothing is left.
	UndoLast(ctx context.Context) (string, error)
	// ExportCase writes the case file of a case into dir (what `casegraph
	// export CASE --out DIR [--redact]` writes, with the red flags when the
	// analysis has run) and journals the export.
	ExportCase(ctx context.Context, caseID, dir string, redact bool) (ExportResult, error)
}

// CaseMove says what a move, copy or merge of bookmarks did.
type CaseMove struct {
	From, To string // the two cases' names
	Moved    int    // bookmarks that arrived as new ones
	Folded   int    // bookmarks joined into one the destination had on the same target
}

// ExportResult describes a written case file.
type ExportResult struct {
	Dir   string // the folder written, absolute
	Files int    // files written, the manifest included
	// What the export holds.
	Entities, Links, Transactions, Flags int
}

// Resolver is what the Resolve screen asks of the database: entity
// resolution's matches for the analyst to accept or reject, and the same_as
// links already written. Resolution reads every person, organisation and
// exchange, which takes seconds on a big database, so Proposals reports
// progress and honours ctx. Every decision is journalled by the
// implementation with the OS user and the time.
type Resolver interface {
	// Proposals runs entity resolution and returns the matches that no
	// same_as link records and no analyst rejected: shared-identifier
	// matches first, then name proposals, best score first. progress may be
	// called from any goroutine.
	Proposals(ctx context.Context, progress func(stage string, done, total int)) (ProposalList, error)
	// Accept writes p as a same_as link (score, method and the decision in
	// its role) and returns the link written.
	Accept(ctx context.Context, p Proposal) (graph.Link, error)
	// Reject records that p's two entities are different parties, so p is
	// not proposed again.
	Reject(ctx context.Context, p Proposal) error
	// Merged lists the same_as links, newest first.
	Merged(ctx context.Context) ([]MergedLink, error)
	// Revert removes a same_as link (matched by its ends); an error wrapping
	// graph.ErrNotFound when there is none.
	Revert(ctx context.Context, l graph.Link) error
}
