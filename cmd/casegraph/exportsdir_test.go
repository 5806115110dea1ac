package main

import (
	"path/filepath"
	"testing"
)

// The TUI's exports go under --exports, else $CASEGRAPH_EXPORTS, else
// CASEGRAPH_HOME/exports: never the working directory.
func TestExportsDir(t *testing.T) {
	home := t.TempDir()
	t.Setenv("CASEGRAPH_HOME", home)
	t.Setenv("CASEGRAPH_EXPORTS", "")
	if d, err := exportsDir(""); err != nil || d != filepath.Join(home, "exports") {
		t.Errorf("default: %s %v", d, err)
	}
	env := t.TempDir()
	t.Setenv("CASEGRAPH_EXPORTS", env)
	if d, _ := exportsDir(""); d != env {
		t.Errorf("env: %s", d)
	}
	flag := t.TempDir()
	if d, _ := exportsDir(flag); d != flag {
		t.Errorf("flag: %s", d)
	}
	if d, _ := exportsDir("rel"); !filepath.IsAbs(d) {
		t.Errorf("a relative flag stays relative: %s", d)
	}
}
