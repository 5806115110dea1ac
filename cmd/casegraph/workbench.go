package main

import (
	"path/filepath"

	"casegraph/store"
	"casegraph/workbench"
)

// newBackend opens the workbench every command and the TUI work through on
// an open database.
func newBackend(db *store.DB) *workbench.Workbench {
	return workbench.New(db, displayName(db.Dir()))
}

// displayName names a database for the status bar: the demo database is
// "demo", any other its directory name.
func displayName(dir string) string {
	if filepath.Clean(dir) == filepath.Clean(defaultDemoDB()) {
		return "demo"
	}
	return filepath.Base(filepath.Clean(dir))
}
