package main

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The CLI export includes the red flags by default once the database holds
// an analysis, as the TUI's does (it had none unless --flags); before one,
// it says so; --flags=false leaves them out, --flags runs the rules.
func TestExportIncludesFlagsByDefault(t *testing.T) {
	db := fixtureDB(t)
	runCmd(t, "case", "new", "--db", db, "Ring")
	runCmd(t, "case", "add", "--db", db, "Ring", "iin:850312300002", "card:4400430000000015", "exchange:EX-0001")
	flags := regexp.MustCompile(`(\d+) red flags`)
	count := func(args ...string) (int, string) {
		t.Helper()
		var out, errOut bytes.Buffer
		args = append([]string{"export", "--db", db, "Ring", "--out", filepath.Join(t.TempDir(), "x")}, args...)
		if err := run(context.Background(), args, &out, &errOut); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, errOut.String())
		}
		m := flags.FindStringSubmatch(out.String())
		if m == nil {
			t.Fatalf("export said %q", out.String())
		}
		n, _ := strconv.Atoi(m[1])
		return n, errOut.String()
	}
	if n, stderr := count(); n != 0 || !strings.Contains(stderr, "no analysis in this database yet") {
		t.Errorf("before an analysis: %d red flags, stderr %q", n, stderr)
	}
	forced, _ := count("--flags")
	if forced == 0 {
		t.Fatal("--flags exported no red flags")
	}
	runCmd(t, "flags", "--db", db) // an analysis, stored with the database
	if n, _ := count(); n != forced {
		t.Errorf("default export after an analysis has %d red flags, --flags %d", n, forced)
	}
	if n, _ := count("--flags=false"); n != 0 {
		t.Errorf("--flags=false export has %d red flags", n)
	}
}
