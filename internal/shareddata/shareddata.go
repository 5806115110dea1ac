// Package shareddata finds the public data sets the tests read (Berka,
// AMLSim, AMLworld, …). They live outside the repository, beside it as
// shared/data in a checkout (CI clones the repository with shared/ next to
// it) or at /work/shared/data on the development machines, and are never
// required: a test that needs an absent set is skipped with a message.
package shareddata

import (
	"os"
	"path/filepath"
	"testing"
)

// Env names the variable that overrides where the data sets are.
const Env = "CASEGRAPH_SHARED_DATA"

// Roots returns the candidate data directories in order of preference:
// $CASEGRAPH_SHARED_DATA, ../shared/data from the module root (the
// directory holding go.mod above the working directory), /work/shared/data.
func Roots() []string {
	var out []string
	if d := os.Getenv(Env); d != "" {
		out = append(out, d)
	}
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
				out = append(out, filepath.Join(filepath.Dir(d), "shared", "data"))
				break
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	return append(out, "/work/shared/data")
}

// Find returns the path of rel (a data set folder or file) under the first
// root that holds it.
func Find(rel string) (string, bool) {
	for _, root := range Roots() {
		p := filepath.Join(root, rel)
		if _, err := os.Stat(p); err == nil {
			return p, true
		}
	}
	return "", false
}

// Dir returns the path of rel under the first root that holds it, or skips
// the test, naming where it looked.
func Dir(t testing.TB, rel string) string {
	t.Helper()
	p, ok := Find(rel)
	if !ok {
		t.Skipf("shared data set %s is absent (looked in %v; set %s): skipped", rel, Roots(), Env)
	}
	return p
}
