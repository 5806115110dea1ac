package main

import (
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
)

// The CLI export includes the red flags by default, as the TUI's does
// (it had none unless --flags); --flags=false leaves them out.
func TestExportIncludesFlagsByDefault(t *testing.T) {
	db := fixtureDB(t)
	runCmd(t, "case", "new", "--db", db, "Ring")
	runCmd(t, "case", "add", "--db", db, "Ring", "iin:850312300002", "card:4400430000000015", "exchange:EX-0001")
	flags := regexp.MustCompile(`(\d+) red flags`)
	count := func(args ...string) int {
		t.Helper()
		out := runCmd(t, append([]string{"export", "--db", db, "Ring", "--out", filepath.Join(t.TempDir(), "x")}, args...)...)
		m := flags.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("export said %q", out)
		}
		n, _ := strconv.Atoi(m[1])
		return n
	}
	if n := count(); n == 0 {
		t.Errorf("default export has 0 red flags")
	}
	if n := count("--flags=false"); n != 0 {
		t.Errorf("--flags=false export has %d red flags", n)
	}
}
