package workbench

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"casegraph/graph"
	"casegraph/importers"
	"casegraph/importers/profile"
	"casegraph/store"
)

// ExpandInputs turns the command line into files: a directory stands for the
// input files (inputExts) directly inside it, in name order.
func ExpandInputs(paths []string) ([]string, error) {
	return expandPaths(paths, func(name string) bool { return inputExts[strings.ToLower(filepath.Ext(name))] },
		"no .csv, .json, .jsonl, .ndjson, .xml or .txt files")
}

// ExpandProfileInputs is ExpandInputs for a mapping profile: a directory
// stands for the files in it that the profile maps (any extension, so
// Berka's .asc files count), in name order.
func ExpandProfileInputs(paths []string, prof *profile.Profile) ([]string, error) {
	return expandPaths(paths, prof.Matches, "no files that profile "+prof.Name+" maps")
}

// expandPaths keeps files as given and replaces each directory by the files
// directly inside it that want accepts, sorted; a directory with none is an
// error that says what was looked for.
func expandPaths(paths []string, want func(name string) bool, none string) ([]string, error) {
	var files []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("input %s: %w", p, err)
		}
		if !st.IsDir() {
			files = append(files, p)
			continue
		}
		ents, err := os.ReadDir(p)
		if err != nil {
			return nil, fmt.Errorf("read directory %s: %w", p, err)
		}
		var found []string
		for _, e := range ents {
			if !e.IsDir() && want(e.Name()) {
				found = append(found, filepath.Join(p, e.Name()))
			}
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("directory %s holds %s", p, none)
		}
		slices.Sort(found)
		files = append(files, found...)
	}
	return files, nil
}

// ImportResult is what one import run did, file by file.
type ImportResult struct {
	Files       []FileResult
	RejectsPath string
	Rejected    int
	Took        time.Duration
	Bulk        bool
	// SearchNote says why the search index file was not saved after the
	// import ("" when it was, or needs none: an encrypted database).
	SearchNote string
	// IndexNote says why a bulk import into an unencrypted database did not
	// leave the graph index file built ("" when it did, or when the import
	// builds none: see buildIndexAtImport).
	IndexNote string
	// Indexed is set when the import built the graph index file, which
	// took IndexTook of Took.
	Indexed   bool
	IndexTook time.Duration
}

// FileResult is what an import did with one file.
type FileResult struct {
	Path    string
	Skipped string // why the file was not imported again, e.g. "already imported as batch #3"
	Report  importers.Report
	Note    string // a remark on the import, e.g. dangling FtM references
}

// ImportProgress is told how an import goes; cmd/casegraph draws it on
// stderr.
type ImportProgress interface {
	StartFile(name string, size int64)
	Update(bytesRead int64, rows int) // importers.Options.Progress
	EndFile(r importers.Report)
	Stage(stage string, done, total int64) // the store's work after parsing
	Done()
}

type noProgress struct{}

func (noProgress) StartFile(string, int64)    {}
func (noProgress) Update(int64, int)          {}
func (noProgress) EndFile(importers.Report)   {}
func (noProgress) Stage(string, int64, int64) {}
func (noProgress) Done()                      {}

// Import imports files into the database through the real importers, or
// through a mapping profile when prof is not nil: each file is hashed first
// so that a file imported before is skipped (the manifest), then streamed
// into one loader; rejected rows go to one rejects file (rejectsPath, else
// one under the database folder). prog may be nil. An import changes the
// data: the workbench drops its analysis, and the next Analyze rebuilds it;
// a search index already loaded is loaded again.
func (b *Workbench) Import(ctx context.Context, files []string, rejectsPath string, prog ImportProgress,
	prof *profile.Profile) (ImportResult, error) {
	return b.ImportAs(ctx, files, rejectsPath, prog, prof, "")
}

// ImportAs is Import with the kind of file forced: as is "" (recognise each
// file from its content) or AsList (casegraph import --as list: read every
// file as a watch list, address list or register).
func (b *Workbench) ImportAs(ctx context.Context, files []string, rejectsPath string, prog ImportProgress,
	prof *profile.Profile, as string) (ImportResult, error) {
	if as != "" && as != AsList {
		return ImportResult{}, fmt.Errorf("--as %q: want %q", as, AsList)
	}
	if err := b.allow(ctx, OpImport, ""); err != nil {
		return ImportResult{}, err
	}
	if prog == nil {
		prog = noProgress{}
	}
	defer b.dropAnalysis()
	res, err := importFiles(ctx, b.target(), files, rejectsPath, prog, prof, as)
	b.mu.RLock()
	searching := b.ix != nil
	b.mu.RUnlock()
	if err == nil && searching {
		_, _, err = b.LoadSearch(ctx)
	}
	return res, err
}

func importFiles(ctx context.Context, db importTarget, files []string, rejectsPath string, prog ImportProgress,
	prof *profile.Profile, as string) (ImportResult, error) {
	defer limitWorkMemory()()
	start := time.Now()
	var res ImportResult
	loader, err := db.newLoader(ctx)
	if err != nil {
		return res, fmt.Errorf("start import into %s: %w", db.where(), err)
	}
	res.Bulk = loader.Bulk()
	lean := keepLean(db, loader)
	rej := &lazyRejects{path: rejectsPath, dir: db.rejectsDir(), db: db.sealer()}
	seen := map[string]string{}
	// Every record of the run passes one conflict check: against the other
	// files of the run and, when the database held data, earlier imports.
	var prior recordReader // nil: a bulk import into an empty database
	if !loader.Bulk() {
		prior = db.records()
	}
	check := newConflictCheck(ctx, loader, prior)
	dg, remote := db.(dgraphTarget)
	bulk, toBulk := db.(bulkTarget)
	if remote || toBulk {
		check.listed = map[string][]graph.Ref{}
	}
	ok := false
	defer func() {
		if !ok {
			loader.Abort()
		}
		rej.Close()
	}()
	for _, path := range files {
		fr, err := importOne(ctx, db, loader, check, path, seen, rej, prog, prof, as)
		res.Files = append(res.Files, fr)
		if err != nil {
			return res, err
		}
	}
	// A cluster indexes the entities of each list (pull --list NAME); the
	// bulk loader's files carry it on the entities' nodes.
	if toBulk {
		for _, name := range slices.Sorted(maps.Keys(check.listed)) {
			bulk.w.MarkListed(name, check.listed[name])
		}
	}
	// The run's ids (42 MB of the large demo's import heap) are of
	// no use once every file is read: the merge has the memory.
	check.run = nil
	if err := loader.Finish(ctx, prog.Stage); err != nil {
		return res, fmt.Errorf("finish import into %s: %w", db.where(), err)
	}
	ok = true
	if remote {
		for _, name := range slices.Sorted(maps.Keys(check.listed)) {
			if err := dg.dg.MarkListed(ctx, name, check.listed[name]); err != nil {
				return res, err
			}
		}
	}
	if t, local := db.(storeTarget); local { // a cluster serves search itself
		prog.Stage(SearchFileName, 0, 1)
		res.SearchNote = prepareSearchFile(ctx, t.db)
		prog.Stage(SearchFileName, 1, 1)
		if lean != nil {
			began := time.Now()
			res.Indexed, res.IndexNote = buildIndexAtImport(ctx, t.db, lean, prog.Stage)
			res.IndexTook = time.Since(began)
		}
	}
	prog.Done()
	res.RejectsPath = rej.finalPath()
	res.Took = time.Since(start)
	return res, rej.Close()
}

func importOne(ctx context.Context, db importTarget, loader importLoader, check *conflictCheck, path string,
	seen map[string]string, rej *lazyRejects, prog ImportProgress, prof *profile.Profile, as string) (FileResult, error) {
	fr := FileResult{Path: path}
	sum, size, err := hashFile(path)
	if err != nil {
		return fr, err
	}
	if prev, dup := seen[sum]; dup {
		fr.Skipped = "same content as " + filepath.Base(prev)
		return fr, nil
	}
	seen[sum] = path
	if b, done, err := db.importedFile(ctx, sum); err != nil {
		return fr, fmt.Errorf("check manifest for %s: %w", path, err)
	} else if done {
		fr.Skipped = fmt.Sprintf("already imported as batch #%d", b.ID)
		return fr, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return fr, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	name := filepath.Base(path)
	batch := loader.BeginBatch(path, sum, "")
	prog.StartFile(name, size)
	opts := importers.Options{
		Name:     name,
		Batch:    batch,
		Rejects:  rej,
		Progress: prog.Update,
	}
	var rep importers.Report
	var note string
	if prof != nil {
		dir := filepath.Dir(path)
		rep, err = prof.Import(ctx, f, check, profile.Options{Options: opts,
			Open: func(name string) (io.ReadCloser, error) { return os.Open(filepath.Join(dir, name)) }})
	} else {
		rep, note, err = importAny(ctx, db.records(), f, check, opts, as)
	}
	fr.Report, fr.Note = rep, note
	if err != nil {
		return fr, fmt.Errorf("import %s: %w", path, err)
	}
	if !rep.Reconciles() {
		return fr, fmt.Errorf("import %s: counts do not reconcile: read %d, imported %d, rejected %d, skipped %d",
			path, rep.Read, rep.Imported, rep.Rejected, rep.Skipped)
	}
	prog.EndFile(rep)
	res, unit, zone := rep.Clock()
	if res == "" {
		zone = "" // no transactions: no clock to record
	}
	return fr, loader.EndBatch(graph.Batch{
		ID: batch, File: path, SHA256: sum, Format: string(rep.Format),
		Read: rep.Read, Imported: rep.Imported, Rejected: rep.Rejected, Skipped: rep.Skipped, At: time.Now().UTC(),
		TimeResolution: res, TimeUnit: unit, TimeZone: zone,
	})
}

func hashFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// lazyRejects creates the rejects file on the first rejected row, so that a
// clean import leaves no empty file behind. The rejects folder is private
// (0700) and the file too (0600). When the database is encrypted the file is
// sealed with its key (store.DB.SealWriter; the default name ends in
// .csv.sealed) and casegraph rejects prints it.
type lazyRejects struct {
	path, dir string
	db        *store.DB
	f         *os.File
	seal      io.WriteCloser
	w         *importers.RejectWriter
	err       error
}

func (l *lazyRejects) Write(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	if l.f == nil {
		if l.err = l.create(); l.err != nil {
			return 0, l.err
		}
	}
	return l.w.Write(p)
}

func (l *lazyRejects) create() error {
	flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if l.path == "" {
		ext := ".csv"
		if l.db != nil && l.db.Encrypted() {
			ext = ".csv.sealed"
		}
		base := filepath.Join(l.dir, "import-"+time.Now().UTC().Format("20060102-150405"))
		l.path = base + ext
		for n := 2; ; n++ {
			if _, err := os.Lstat(l.path); errors.Is(err, os.ErrNotExist) {
				break
			}
			l.path = fmt.Sprintf("%s-%d%s", base, n, ext)
		}
		flags = os.O_WRONLY | os.O_CREATE | os.O_EXCL
	}
	if err := os.MkdirAll(filepath.Dir(l.path), 0o700); err != nil {
		return fmt.Errorf("create rejects directory: %w", err)
	}
	f, err := os.OpenFile(l.path, flags, 0o600)
	if err != nil {
		return fmt.Errorf("create rejects file: %w", err)
	}
	var w io.Writer = f
	if l.db != nil && l.db.Encrypted() {
		if l.seal, err = l.db.SealWriter(f); err != nil {
			f.Close()
			return fmt.Errorf("create rejects file: %w", err)
		}
		w = l.seal
	}
	l.f = f
	l.w = importers.NewRejectWriter(w)
	return nil
}

func (l *lazyRejects) finalPath() string {
	if l.f == nil {
		return ""
	}
	return l.path
}

func (l *lazyRejects) Close() error {
	if l.f == nil {
		return l.err
	}
	var serr error
	if l.seal != nil {
		serr = l.seal.Close()
	}
	err := l.f.Close()
	l.f = nil
	return errors.Join(l.err, serr, err)
}
