package shareddata

import (
	"os"
	"path/filepath"
	"testing"
)

func TestRootsPreferTheVariable(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv(Env, dir)
	roots := Roots()
	if roots[0] != dir || roots[len(roots)-1] != "/work/shared/data" {
		t.Fatalf("roots %v", roots)
	}
	wd, _ := os.Getwd()
	if want := filepath.Join(filepath.Dir(filepath.Dir(filepath.Dir(wd))), "shared", "data"); roots[1] != want {
		t.Fatalf("module-relative root %s, want %s", roots[1], want)
	}
	if p, ok := Find("x"); !ok || p != filepath.Join(dir, "x") {
		t.Fatalf("Find(x) = %s, %v", p, ok)
	}
	if _, ok := Find("no-such-set"); ok {
		t.Fatal("found a set that is not there")
	}
}
