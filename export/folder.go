package export

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
)

// Permissions of what an export writes: a case file holds personal data, so
// only its owner may read it. Share it on purpose (chmod, a copy), not by
// default.
const (
	folderMode = 0o700
	fileMode   = 0o600
)

// ErrFolderNotEmpty is returned for an existing export folder that is not
// empty when replacing was not asked for.
var ErrFolderNotEmpty = errors.New("export folder is not empty")

// writeFolder writes files into a fresh folder beside dir and renames it to
// dir. See Write for the policy.
func writeFolder(dir string, files map[string][]byte, replace bool) (err error) {
	dir = filepath.Clean(dir)
	if dir == "." || dir == string(filepath.Separator) || filepath.Base(dir) == ".." {
		return fmt.Errorf("export folder %s: name a new folder", dir)
	}
	exists, err := checkTarget(dir, replace)
	if err != nil {
		return err
	}
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, folderMode); err != nil {
		return fmt.Errorf("create export folder %s: %w", dir, err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return fmt.Errorf("create export folder %s: %w", dir, err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	if err := os.Chmod(tmp, folderMode); err != nil { // MkdirTemp makes 0700; say so
		return fmt.Errorf("create export folder %s: %w", dir, err)
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if err := writeNew(filepath.Join(tmp, name), files[name]); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	if err := syncDir(tmp); err != nil {
		return fmt.Errorf("write export folder %s: %w", dir, err)
	}
	if !exists {
		// rename(2) onto a path that appeared meanwhile fails unless it is
		// an empty folder: a link planted there is not followed.
		if err := os.Rename(tmp, dir); err != nil {
			return fmt.Errorf("move the export into %s: %w", dir, err)
		}
		return syncDir(parent)
	}
	// Replace: move the old folder aside, the new one in, then remove the
	// old one (RemoveAll unlinks links, it does not follow them).
	old := tmp + ".old"
	if err := os.Rename(dir, old); err != nil {
		return fmt.Errorf("move the earlier export %s aside: %w", dir, err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		if rerr := os.Rename(old, dir); rerr != nil {
			return fmt.Errorf("move the export into %s: %w (the earlier export is in %s)", dir, err, old)
		}
		return fmt.Errorf("move the export into %s: %w", dir, err)
	}
	if err := os.RemoveAll(old); err != nil {
		return fmt.Errorf("export written to %s; remove the earlier export moved to %s: %w", dir, old, err)
	}
	return syncDir(parent)
}

// checkTarget reports whether dir exists and refuses a target that must
// not be written: a link, a file, a non-empty folder unless replace is set,
// and with replace a folder holding anything but an earlier export.
func checkTarget(dir string, replace bool) (exists bool, err error) {
	fi, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("export folder %s: %w", dir, err)
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return false, fmt.Errorf("export folder %s is a symbolic link; casegraph does not write through links: name the real folder", dir)
	}
	if !fi.IsDir() {
		return false, fmt.Errorf("export folder %s exists and is not a folder", dir)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false, fmt.Errorf("export folder %s: %w", dir, err)
	}
	if len(ents) == 0 {
		return true, nil
	}
	if !replace {
		return false, fmt.Errorf("%w: %s holds %d entries; name a new folder, or replace an earlier export of casegraph with --replace",
			ErrFolderNotEmpty, dir, len(ents))
	}
	if err := isEarlierExport(dir, ents); err != nil {
		return false, fmt.Errorf("export folder %s is not an earlier casegraph export (%v); casegraph replaces only its own exports: name a new folder", dir, err)
	}
	return true, nil
}

// isEarlierExport checks that a folder holds nothing but regular files of an
// export, one of them a casegraph manifest.
func isEarlierExport(dir string, ents []fs.DirEntry) error {
	known := map[string]bool{ManifestName: true}
	for _, n := range fileNames {
		known[n] = true
	}
	for _, e := range ents {
		if !known[e.Name()] {
			return fmt.Errorf("it holds %s", e.Name())
		}
		if !e.Type().IsRegular() {
			return fmt.Errorf("%s is not a regular file", e.Name())
		}
	}
	raw, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		return fmt.Errorf("no %s", ManifestName)
	}
	var m struct {
		Format string `json:"format"`
	}
	if json.Unmarshal(raw, &m) != nil || !strings.HasPrefix(m.Format, "casegraph-case-export/") {
		return fmt.Errorf("%s is not a casegraph manifest", ManifestName)
	}
	return nil
}

// writeNew creates path (it must not exist: a link there is not followed),
// writes b and syncs it.
func writeNew(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fileMode)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// syncDir makes a folder's entries durable; where folders cannot be synced
// (Windows) it does nothing.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil && runtime.GOOS != "windows" {
		return err
	}
	return nil
}
