package workbench

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"casegraph/graph"
	"casegraph/store"
)

// runOnce opens dir, loads its index and runs the rules with cfg, as
// casegraph flags does, calls then (when not nil) before closing the
// database, and returns the flags as JSON (what every front end shows comes
// from them) and whether the run was read back.
func runOnce(t *testing.T, dir string, cfg graph.RuleConfig, then ...func(*Workbench, *Analysis)) (string, bool) {
	t.Helper()
	db, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	wb := New(db, "test")
	ctx := context.Background()
	ix, _, err := LoadIndex(ctx, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := wb.RunRules(ctx, ix, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(a.Flags())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range then {
		f(wb, a)
	}
	return string(b), a.Reused()
}

// TestResultsFileReusedOnlyForTheSameRun: a second analysis of unchanged
// data reads the first one's results and answers the same; another
// configuration, a verdict, an import or a damaged file run the rules
// again, with the answer a fresh run gives.
func TestResultsFileReusedOnlyForTheSameRun(t *testing.T) {
	if !graph.IndexFileSupported {
		t.Skip("no graph index file on this host")
	}
	dir := importTestdata(t, "rules")
	cfg := graph.DefaultRuleConfig()
	first, reused := runOnce(t, dir, cfg)
	if reused {
		t.Fatal("the first run read a results file")
	}
	if _, err := os.Stat(filepath.Join(dir, FlagsFileName)); err != nil {
		t.Fatalf("the first run kept no results file: %v", err)
	}
	ctx := context.Background()
	again, reused := runOnce(t, dir, cfg, func(wb *Workbench, a *Analysis) {
		// Kept once: keeping the read-back run again writes nothing.
		run1, err := wb.KeepAnalysis(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		run2, err := wb.KeepAnalysis(ctx, a)
		if err != nil || !run2.Time.Equal(run1.Time) || run2.Results == "" {
			t.Fatalf("kept again: %v, time %v then %v, results %q: want the first keep left as it was", err, run1.Time, run2.Time, run2.Results)
		}
	})
	if !reused || again != first {
		t.Fatalf("second run of the same data: reused %v, same answer %v", reused, again == first)
	}

	// Another configuration.
	other := graph.DefaultRuleConfig()
	other.FlagThreshold = 0.3
	if _, reused := runOnce(t, dir, other); reused {
		t.Error("another configuration read the default run's results")
	}
	if _, reused := runOnce(t, dir, cfg); reused {
		t.Error("the defaults read the results of the other configuration's run (the file holds the last run)")
	}

	// A verdict: R23 reads verdicts, so the run is another one.
	runOnce(t, dir, cfg, func(wb *Workbench, _ *Analysis) {
		if _, err := wb.SetVerdict(ctx, chainA, graph.VerdictDismissed, "test"); err != nil {
			t.Fatal(err)
		}
	})
	if _, reused := runOnce(t, dir, cfg); reused {
		t.Error("a run after a verdict read the results of the run before it")
	}
	if _, reused := runOnce(t, dir, cfg); !reused {
		t.Error("the run after the verdict was not kept for the next")
	}

	// A damaged file is run again, and replaced.
	path := filepath.Join(dir, FlagsFileName)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-3] ^= 0xff
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	fresh, reused := runOnce(t, dir, cfg)
	if reused {
		t.Fatal("a damaged results file was read")
	}
	if again, reused := runOnce(t, dir, cfg); !reused || again != fresh {
		t.Fatalf("after the damaged file: reused %v, same answer %v", reused, again == fresh)
	}

	// An import changes the data: the next run is a new one.
	importInto(t, dir, filepath.Join("..", "testdata", "canonical"))
	if _, reused := runOnce(t, dir, cfg); reused {
		t.Error("a run after an import read the results of the data before it")
	}
}
