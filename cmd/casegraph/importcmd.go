package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"casegraph/graph"
	"casegraph/importers"
	"casegraph/importers/profile"
	"casegraph/internal/safetext"
	"casegraph/store"
)

func cmdImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	var dbf dbFlags
	dbf.register(fs, "")
	rejects := fs.String("rejects", "", "where to write rejected rows (CSV); default DIR/rejects/import-N.csv")
	profName := fs.String("profile", "", "map non-canonical files with a mapping profile: a built-in name ("+
		strings.Join(profile.Builtins(), ", ")+") or a YAML file")
	paths, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		return usageError{"import needs at least one FILE or DIR"}
	}
	var prof *profile.Profile
	var files []string
	if *profName != "" {
		if prof, err = profile.Load(*profName); err != nil {
			return err
		}
		files, err = expandProfileInputs(paths, prof)
	} else {
		files, err = expandInputs(paths)
	}
	if err != nil {
		return err
	}
	db, err := dbf.open(true, false)
	if err != nil {
		return err
	}
	defer db.Close()
	defer limitImportMemory()()
	res, err := importFilesWith(ctx, db, files, *rejects, newProgress(stderr), prof)
	printImportSummary(stdout, res)
	return err
}

// expandInputs turns the command line into files: a directory stands for the
// input files (inputExts) directly inside it, in name order.
func expandInputs(paths []string) ([]string, error) {
	return expandPaths(paths, func(name string) bool { return inputExts[strings.ToLower(filepath.Ext(name))] },
		"no .csv, .json, .jsonl, .ndjson, .xml or .txt files")
}

// expandProfileInputs is expandInputs for a mapping profile: a directory
// stands for the files in it that the profile maps (any extension, so
// Berka's .asc files count), in name order.
func expandProfileInputs(paths []string, prof *profile.Profile) ([]string, error) {
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

// importResult is what one import run did, file by file.
type importResult struct {
	Files       []fileResult
	RejectsPath string
	Rejected    int
	Took        time.Duration
	Bulk        bool
}

type fileResult struct {
	Path    string
	Skipped string // why the file was not imported again, e.g. "already imported as batch #3"
	Report  importers.Report
	Note    string // a remark on the import, e.g. dangling FtM references
}

// importFiles imports files into db through the real importers: each file is
// hashed first so that a file imported before is skipped (the manifest), then
// streamed into one loader; rejected rows go to one rejects file.
func importFiles(ctx context.Context, db *store.DB, files []string, rejectsPath string, prog *progress) (importResult, error) {
	return importFilesWith(ctx, db, files, rejectsPath, prog, nil)
}

// importFilesWith is importFiles through a mapping profile; a nil profile
// means the canonical importers.
func importFilesWith(ctx context.Context, db *store.DB, files []string, rejectsPath string, prog *progress,
	prof *profile.Profile) (importResult, error) {
	start := time.Now()
	var res importResult
	loader, err := db.NewLoader()
	if err != nil {
		return res, fmt.Errorf("start import into %s: %w", db.Dir(), err)
	}
	res.Bulk = loader.Bulk()
	rej := &lazyRejects{path: rejectsPath, dir: db.Dir(), db: db}
	seen := map[string]string{}
	ok := false
	defer func() {
		if !ok {
			loader.Abort()
		}
		rej.Close()
	}()
	for _, path := range files {
		fr, err := importOne(ctx, db, loader, path, seen, rej, prog, prof)
		res.Files = append(res.Files, fr)
		if err != nil {
			return res, err
		}
	}
	if err := loader.Finish(ctx, prog.stage); err != nil {
		return res, fmt.Errorf("finish import into %s: %w", db.Dir(), err)
	}
	prog.done()
	ok = true
	res.RejectsPath = rej.finalPath()
	res.Took = time.Since(start)
	// The import leaves the graph index snapshot stale (its stamp no longer
	// matches): the first analysis after it rebuilds the index and stores a
	// new snapshot. Building it here would hold the whole index in memory on
	// top of the import's own peak (T3) for data that may never be analysed.
	return res, rej.Close()
}

func importOne(ctx context.Context, db *store.DB, loader *store.Loader, path string,
	seen map[string]string, rej *lazyRejects, prog *progress, prof *profile.Profile) (fileResult, error) {
	fr := fileResult{Path: path}
	sum, size, err := hashFile(path)
	if err != nil {
		return fr, err
	}
	if prev, dup := seen[sum]; dup {
		fr.Skipped = "same content as " + filepath.Base(prev)
		return fr, nil
	}
	seen[sum] = path
	if b, done, err := db.ImportedFile(sum); err != nil {
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
	prog.startFile(name, size)
	opts := importers.Options{
		Name:     name,
		Batch:    batch,
		Rejects:  rej,
		Progress: prog.update,
	}
	var rep importers.Report
	var note string
	if prof != nil {
		dir := filepath.Dir(path)
		rep, err = prof.Import(ctx, f, loader, profile.Options{Options: opts,
			Open: func(name string) (io.ReadCloser, error) { return os.Open(filepath.Join(dir, name)) }})
	} else {
		rep, note, err = importAny(ctx, db, f, loader, opts)
	}
	fr.Report, fr.Note = rep, note
	if err != nil {
		return fr, fmt.Errorf("import %s: %w", path, err)
	}
	if !rep.Reconciles() {
		return fr, fmt.Errorf("import %s: counts do not reconcile: read %d, imported %d, rejected %d, skipped %d",
			path, rep.Read, rep.Imported, rep.Rejected, rep.Skipped)
	}
	prog.endFile(rep)
	return fr, loader.EndBatch(graph.Batch{
		ID: batch, File: path, SHA256: sum, Format: string(rep.Format),
		Read: rep.Read, Imported: rep.Imported, Rejected: rep.Rejected, Skipped: rep.Skipped, At: time.Now().UTC(),
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

// rejectsDir is where an import writes its rejects by default.
func rejectsDir(dbDir string) string { return filepath.Join(dbDir, "rejects") }

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
		base := filepath.Join(rejectsDir(l.dir), "import-"+time.Now().UTC().Format("20060102-150405"))
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

func printImportSummary(w io.Writer, res importResult) {
	if len(res.Files) == 0 {
		return
	}
	fmt.Fprintf(w, "%-28s %-13s %12s %12s %10s\n", "file", "format", "read", "imported", "rejected")
	var read, imp, rej int
	for _, f := range res.Files {
		// File names and reasons quote the files: one line each, escaped.
		name := safetext.Line(filepath.Base(f.Path))
		if f.Skipped != "" {
			fmt.Fprintf(w, "%-28s skipped: %s\n", name, safetext.Line(f.Skipped))
			continue
		}
		r := f.Report
		read, imp, rej = read+r.Read, imp+r.Imported, rej+r.Rejected
		fmt.Fprintf(w, "%-28s %-13s %12s %12s %10s\n", name, r.Format,
			count(r.Read), count(r.Imported), count(r.Rejected))
		if f.Note != "" {
			fmt.Fprintf(w, "  %s\n", safetext.Line(f.Note))
		}
		printSkips(w, r)
	}
	fmt.Fprintf(w, "%-28s %-13s %12s %12s %10s\n", "total", "", count(read), count(imp), count(rej))
	if res.Took > 0 {
		rate := float64(read) / res.Took.Seconds()
		fmt.Fprintf(w, "took %s (%s rows/s)\n", res.Took.Round(time.Millisecond), count(int(rate)))
	}
	if rej > 0 {
		fmt.Fprintf(w, "%s rejected rows with file, line, column and reason: %s\n", count(rej), safetext.Line(res.RejectsPath))
		if strings.HasSuffix(res.RejectsPath, ".sealed") {
			fmt.Fprintf(w, "(encrypted with the database's key: read it with casegraph rejects --db DB --key-file K %s)\n",
				safetext.Line(filepath.Base(res.RejectsPath)))
		}
	}
}

// count formats an integer with thousands separators.
func count(n int) string { return graph.FormatAmount(int64(n) * 100) }

// printSkips lists the rows of a file that were read but are not data
// (metadata above the header, Итого/Остаток rows): the count and the first few.
func printSkips(w io.Writer, r importers.Report) {
	if r.Skipped == 0 {
		return
	}
	fmt.Fprintf(w, "  %s rows skipped:", count(r.Skipped))
	for i, s := range r.Skips {
		if i == 4 {
			fmt.Fprint(w, " …")
			break
		}
		fmt.Fprintf(w, " line %d %s;", s.Line, safetext.Line(s.Reason))
	}
	fmt.Fprintln(w)
}
