package export

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// A case folder handed over by someone else is untrusted: ReadFolder
// accepts it only when it is exactly what an export writes and nothing was
// changed since. Every read is bounded, so a case.json that is a link to
// /dev/zero or a 10 GB file is an error, not a hang.

// FolderLimits bound what ReadFolder reads.
type FolderLimits struct {
	Manifest int64 // manifest.json
	CaseJSON int64 // case.json, read into memory
	File     int64 // every other file, hashed as a stream
}

// DefaultFolderLimits fit an export of a case of 100k bookmarks (case.json
// of ~30 MB) and of a few million transactions.
var DefaultFolderLimits = FolderLimits{Manifest: 16 << 20, CaseJSON: 256 << 20, File: 4 << 30}

// VerifiedFolder is a case folder whose manifest matched every file.
type VerifiedFolder struct {
	Dir            string
	Manifest       Manifest
	ManifestSHA256 string // hex SHA-256 of manifest.json as read
	CaseJSON       []byte
}

// ErrUntrustedFolder is wrapped by every refusal of ReadFolder.
var ErrUntrustedFolder = errors.New("not an intact casegraph export")

func refuse(dir, format string, args ...any) error {
	return fmt.Errorf("case folder %s: %s: %w", dir, fmt.Sprintf(format, args...), ErrUntrustedFolder)
}

// ReadFolder verifies the export folder dir and returns its case.json:
//
//   - dir holds manifest.json and nothing but regular files (no links,
//     folders or devices);
//   - the manifest is a casegraph export manifest that is not marked
//     redacted, lists case.json, and lists every other file of the folder;
//   - every listed file exists with the listed size and SHA-256;
//   - no file is larger than its limit (checked on the opened file before
//     reading, and the read itself is limited).
//
// Whether the content is redacted whatever the manifest says is the
// caller's check (RedactedIn, MaskedIdentifier).
//
// ctx is checked between reads, so a cancelled command stops hashing a large
// file at once.
func ReadFolder(ctx context.Context, dir string, lim FolderLimits) (VerifiedFolder, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return VerifiedFolder{}, fmt.Errorf("case folder: %w", err)
	}
	if !st.IsDir() {
		return VerifiedFolder{}, refuse(dir, "not a folder (give the export folder, which holds %s)", ManifestName)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return VerifiedFolder{}, fmt.Errorf("case folder %s: %w", dir, err)
	}
	present := map[string]bool{}
	for _, e := range ents {
		if !e.Type().IsRegular() {
			return VerifiedFolder{}, refuse(dir, "%s is not a regular file", e.Name())
		}
		present[e.Name()] = true
	}
	if !present[ManifestName] {
		return VerifiedFolder{}, refuse(dir, "it has no %s (an export always has one; the folder was changed or is not an export)", ManifestName)
	}
	mraw, err := readLimited(ctx, filepath.Join(dir, ManifestName), lim.Manifest)
	if err != nil {
		return VerifiedFolder{}, readError(ctx, dir, err)
	}
	var m Manifest
	if err := json.Unmarshal(mraw, &m); err != nil {
		return VerifiedFolder{}, refuse(dir, "%s is not JSON: %v", ManifestName, err)
	}
	if !strings.HasPrefix(m.Format, "casegraph-case-export/") {
		return VerifiedFolder{}, refuse(dir, "%s is not a casegraph export manifest (format %q)", ManifestName, m.Format)
	}
	if m.Redacted {
		return VerifiedFolder{}, refuse(dir, "the export is redacted; import the unredacted case folder")
	}
	listed := map[string]FileHash{}
	for _, f := range m.Files {
		if f.Name == "" || f.Name != filepath.Base(f.Name) || f.Name == "." || f.Name == ".." || f.Name == ManifestName {
			return VerifiedFolder{}, refuse(dir, "%s lists a file named %q", ManifestName, f.Name)
		}
		if _, dup := listed[f.Name]; dup {
			return VerifiedFolder{}, refuse(dir, "%s lists %s twice", ManifestName, f.Name)
		}
		listed[f.Name] = f
	}
	if _, ok := listed["case.json"]; !ok {
		return VerifiedFolder{}, refuse(dir, "%s does not list case.json", ManifestName)
	}
	names := make([]string, 0, len(present))
	for n := range present {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if _, ok := listed[n]; !ok && n != ManifestName {
			return VerifiedFolder{}, refuse(dir, "%s is not in %s (added after export)", n, ManifestName)
		}
	}
	out := VerifiedFolder{Dir: dir, Manifest: m}
	sum := sha256.Sum256(mraw)
	out.ManifestSHA256 = hex.EncodeToString(sum[:])
	for _, f := range m.Files {
		if !present[f.Name] {
			return VerifiedFolder{}, refuse(dir, "%s is listed in %s but missing", f.Name, ManifestName)
		}
		path := filepath.Join(dir, f.Name)
		var got string
		var size int64
		if f.Name == "case.json" {
			raw, err := readLimited(ctx, path, lim.CaseJSON)
			if err != nil {
				return VerifiedFolder{}, readError(ctx, dir, err)
			}
			s := sha256.Sum256(raw)
			got, size, out.CaseJSON = hex.EncodeToString(s[:]), int64(len(raw)), raw
		} else if got, size, err = hashLimited(ctx, path, lim.File); err != nil {
			return VerifiedFolder{}, readError(ctx, dir, err)
		}
		if err := ctx.Err(); err != nil {
			return VerifiedFolder{}, err
		}
		if size != int64(f.Bytes) || got != strings.ToLower(f.SHA256) {
			return VerifiedFolder{}, refuse(dir, "%s does not match the size and SHA-256 in %s (changed after export)", f.Name, ManifestName)
		}
	}
	return out, nil
}

// readError is a refusal, or the context's error when the read was
// cancelled.
func readError(ctx context.Context, dir string, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("case folder %s: %w", dir, cerr)
	}
	return refuse(dir, "%v", err)
}

// openRegular opens path only if it is a regular file no larger than limit,
// checked on the opened file (a link swapped in after the folder was listed
// is caught too).
func openRegular(path string, limit int64) (*os.File, os.FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, nil, fmt.Errorf("%s is not a regular file", filepath.Base(path))
	}
	if fi.Size() > limit {
		f.Close()
		return nil, nil, fmt.Errorf("%s is %d bytes, more than the %d-byte limit", filepath.Base(path), fi.Size(), limit)
	}
	return f, fi, nil
}

// ctxReader fails a read once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

func readLimited(ctx context.Context, path string, limit int64) ([]byte, error) {
	f, _, err := openRegular(path, limit)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(ctxReader{ctx, f}, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", filepath.Base(path), err)
	}
	if int64(len(raw)) > limit {
		return nil, fmt.Errorf("%s grew past the %d-byte limit while read", filepath.Base(path), limit)
	}
	return raw, nil
}

func hashLimited(ctx context.Context, path string, limit int64) (string, int64, error) {
	f, _, err := openRegular(path, limit)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(ctxReader{ctx, f}, limit+1))
	if err != nil {
		return "", 0, fmt.Errorf("read %s: %w", filepath.Base(path), err)
	}
	if n > limit {
		return "", 0, fmt.Errorf("%s grew past the %d-byte limit while read", filepath.Base(path), limit)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}
