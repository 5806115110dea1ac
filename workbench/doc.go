// Package workbench is the layer every front end of casegraph shares: it
// owns one open case database (*store.DB), the search index over it, the
// in-memory graph index and the current analysis (rule configuration, red
// flags, suspected groups), and answers the TUI (it implements tui.Backend)
// and the command-line twins through methods.
//
// A Workbench is safe for concurrent use: the search index and the analysis
// are built once behind locks and read-only afterwards, and every write goes
// through the store, which journals it. A team server can therefore hand one
// Workbench to every session; cmd/casegraph opens one per command.
//
// A session (As, AsRole) journals its own user and may do only what its
// Role allows (roles.go): the checks are in the methods, whatever the front
// end shows. Every change a session makes is published to the subscribers
// (Subscribe, changes.go), so the other sessions of a team server show it.
package workbench
