package export

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestWriteNeverFollowsLinks: a folder with report.html linked to a file of
// the victim's is refused, with or without Replace, and the victim's file is
// untouched; so is a folder that is itself a link.
func TestWriteNeverFollowsLinks(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symbolic links need privileges on Windows")
	}
	base := t.TempDir()
	victim := filepath.Join(base, "victim.txt")
	if err := os.WriteFile(victim, []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(base, "out")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, filepath.Join(dir, "report.html")); err != nil {
		t.Fatal(err)
	}
	for _, replace := range []bool{false, true} {
		if _, err := Write(dir, fixture(), Options{Replace: replace}); err == nil {
			t.Errorf("replace=%v: export into a folder with a link written", replace)
		}
	}
	link := filepath.Join(base, "linked")
	if err := os.Symlink(filepath.Join(base, "elsewhere"), link); err != nil {
		t.Fatal(err)
	}
	if _, err := Write(link, fixture(), Options{Replace: true}); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("export into a folder that is a link: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(base, "elsewhere")); err == nil {
		t.Error("the link's target was created")
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious" {
		t.Errorf("victim file now holds %q", b)
	}
	ents, _ := os.ReadDir(base)
	if len(ents) != 3 {
		t.Errorf("left over in the parent folder: %v", ents)
	}
}

// TestWriteRefusesForeignFolders: an existing non-empty folder needs
// Replace, and Replace replaces only an earlier export, as a whole.
func TestWriteRefusesForeignFolders(t *testing.T) {
	base := t.TempDir()
	home := filepath.Join(base, "home")
	if err := os.Mkdir(home, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, "thesis.doc"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Write(home, fixture(), Options{}); !errors.Is(err, ErrFolderNotEmpty) {
		t.Errorf("non-empty folder: %v, want ErrFolderNotEmpty", err)
	}
	if _, err := Write(home, fixture(), Options{Replace: true}); err == nil || !strings.Contains(err.Error(), "thesis.doc") {
		t.Errorf("foreign folder with Replace: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(home, "thesis.doc")); string(b) != "mine" {
		t.Error("foreign file changed")
	}

	out := filepath.Join(base, "nested", "case")
	if _, err := Write(out, fixture(), Options{}); err != nil {
		t.Fatalf("new folder: %v", err)
	}
	if _, err := Write(out, fixture(), Options{}); !errors.Is(err, ErrFolderNotEmpty) {
		t.Errorf("second export without Replace: %v", err)
	}
	if _, err := Write(out, fixture(), Options{Replace: true, Redact: true}); err != nil {
		t.Fatalf("replace an earlier export: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(out, ManifestName))
	if err != nil || !strings.Contains(string(b), `"redacted": true`) {
		t.Errorf("the earlier export was not replaced: %v", err)
	}
	ents, _ := os.ReadDir(filepath.Join(base, "nested"))
	if len(ents) != 1 {
		t.Errorf("temporary folders left beside the export: %v", ents)
	}
}

// TestWritePermissions: folders 0700, files 0600, whatever the umask.
func TestWritePermissions(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix mode bits")
	}
	base := t.TempDir()
	out := filepath.Join(base, "a", "case")
	if _, err := Write(out, fixture(), Options{}); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{filepath.Join(base, "a"), out} {
		fi, err := os.Stat(d)
		if err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: mode %v %v, want 0700", d, fi.Mode().Perm(), err)
		}
	}
	ents, _ := os.ReadDir(out)
	if len(ents) != len(fileNames)+1 {
		t.Errorf("%d files", len(ents))
	}
	for _, e := range ents {
		fi, err := os.Lstat(filepath.Join(out, e.Name()))
		if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v %v, want a regular file 0600", e.Name(), fi.Mode(), err)
		}
	}
}
