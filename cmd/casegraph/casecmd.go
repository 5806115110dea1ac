package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"casegraph/export"
	"casegraph/graph"
	"casegraph/importers"
	"casegraph/internal/safetext"
	"casegraph/store"
	"casegraph/workbench"
)

// actor is who runs this command, for the journal: the OS user and now.
func actor() store.Actor { return workbench.OSActor() }

// cmdCase runs the case subcommand sub on its arguments pos (in command-line
// order) with the flags o.
func cmdCase(ctx context.Context, sub string, o caseOpts, pos []string, stdout io.Writer, stdin io.Reader) error {
	if sub == "note" && (len(pos) < 2 || len(pos) > 3) {
		return usageError{msg: "case note needs a CASE, optionally a REF or bookmark id, and TEXT"}
	}
	readOnly := sub == "list"
	db, err := o.db.openIn(ctx, false, readOnly)
	if err != nil {
		return err
	}
	defer db.Close()
	// Through the workbench: run by a TUI or team server holding the
	// database, the change is journalled under the caller and shown to
	// the open sessions at once.
	wb := backendOf(ctx, db)

	switch sub {
	case "list":
		cases, err := wb.Cases(ctx)
		if err != nil {
			return err
		}
		if o.json {
			return writeJSON(stdout, cases)
		}
		if len(cases) == 0 {
			fmt.Fprintln(stdout, "no cases yet (casegraph case new NAME)")
		}
		for _, c := range cases {
			fmt.Fprintf(stdout, "%-11s %-9s %4d bookmarks  %s  %s\n", c.ID, c.Status, len(c.Bookmarks),
				c.Updated.In(importers.Almaty()).Format("2006-01-02 15:04"), safetext.Line(c.Name))
		}
		return nil
	case "new":
		c, err := wb.CreateCase(ctx, strings.Join(pos, " "))
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "created case %s %q\n", c.ID, c.Name)
		return nil
	case "show":
		c, err := wb.ViewCase(ctx, pos[0])
		if err != nil {
			return err
		}
		if o.json {
			return writeJSON(stdout, c)
		}
		printCase(stdout, c)
		return nil
	case "add":
		return caseAdd(ctx, wb, stdout, pos[0], pos[1:], addOptions{
			tags: o.tags, note: o.note, target: o.target, query: o.query, force: o.force})
	case "tag":
		c, err := wb.Case(ctx, pos[0])
		if err != nil {
			return err
		}
		b, err := findBookmark(c, pos[1])
		if err != nil {
			return err
		}
		ed := store.BookmarkEdit{AddTags: pos[2:]}
		if o.remove {
			drop := graph.NormalizeTags(pos[2:])
			kept := slices.DeleteFunc(slices.Clone(b.Tags), func(t string) bool { return slices.Contains(drop, t) })
			ed = store.BookmarkEdit{Tags: &kept}
		}
		nb, err := wb.EditBookmark(ctx, c.ID, b.ID, ed)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s %s: tags %s\n", nb.ID, nb.Target.Title(), strings.Join(nb.Tags, ", "))
		return nil
	case "note":
		text, err := noteText(pos[len(pos)-1], stdin)
		if err != nil {
			return err
		}
		if len(pos) == 2 {
			c, err := wb.SetCaseNotes(ctx, pos[0], text)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "notes of %s %q saved (%d lines)\n", c.ID, c.Name, lineCount(text))
			return nil
		}
		c, err := wb.Case(ctx, pos[0])
		if err != nil {
			return err
		}
		b, err := findBookmark(c, pos[1])
		if err != nil {
			return err
		}
		nb, err := wb.EditBookmark(ctx, c.ID, b.ID, store.BookmarkEdit{Note: &text})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "note of %s %s saved (%d lines)\n", nb.ID, nb.Target.Title(), lineCount(text))
		return nil
	case "status":
		st, err := graph.ParseCaseStatus(pos[1])
		if err != nil {
			return usageError{msg: err.Error()}
		}
		c, err := wb.SetCaseStatus(ctx, pos[0], st)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s %q is %s\n", c.ID, c.Name, c.Status)
		return nil
	case "rename":
		c, err := wb.RenameCase(ctx, pos[0], pos[1])
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s is now %q\n", c.ID, c.Name)
		return nil
	case "rm":
		if len(pos) == 1 {
			c, err := wb.Case(ctx, pos[0])
			if err != nil {
				return err
			}
			if err := wb.DeleteCase(ctx, c.ID); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "deleted case %s %q with %d bookmarks (casegraph case undo brings it back)\n", c.ID, c.Name, len(c.Bookmarks))
			return nil
		}
		c, err := wb.Case(ctx, pos[0])
		if err != nil {
			return err
		}
		b, err := findBookmark(c, pos[1])
		if err != nil {
			return err
		}
		if err := wb.DeleteBookmark(ctx, c.ID, b.ID); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "deleted bookmark %s %s\n", b.ID, b.Target.Title())
		return nil
	case "undo":
		u, err := wb.Undo(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, safetext.Line(workbench.UndoText(u)))
		return nil
	case "mv":
		c, err := wb.Case(ctx, pos[0])
		if err != nil {
			return err
		}
		var ids []string
		for _, arg := range pos[1:] {
			b, err := findBookmark(c, arg)
			if err != nil {
				return err
			}
			ids = append(ids, b.ID)
		}
		res, err := wb.Move(ctx, c.ID, o.to, ids, o.copy)
		if err != nil {
			return err
		}
		verb := "moved"
		if o.copy {
			verb = "copied"
		}
		fmt.Fprintf(stdout, "%s %d bookmarks from %q to %q (%d joined a bookmark it had on the same target)\n", verb, len(ids),
			safetext.Line(c.Name), safetext.Line(res.To.Name), res.Folded)
		return nil
	case "merge":
		res, from, err := wb.Merge(ctx, pos[0], pos[1])
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "merged %q into %q: %d bookmarks moved, %d joined ones it had (casegraph case undo splits them again)\n",
			safetext.Line(from), safetext.Line(res.To.Name), res.Moved, res.Folded)
		return nil
	}
	return nil
}

type addOptions struct {
	tags   []string
	note   string
	target string
	query  string
	force  bool
}

func caseAdd(ctx context.Context, wb *workbench.Workbench, stdout io.Writer, caseName string, refArgs []string, o addOptions) error {
	kind, err := graph.ParseTargetKind(o.target)
	if err != nil {
		return usageError{msg: err.Error()}
	}
	refs := make([]graph.Ref, 0, len(refArgs))
	labels := make([]string, 0, len(refArgs))
	for _, a := range refArgs {
		r, err := userRef(a, func(r graph.Ref) bool { _, err := wb.Entity(ctx, r); return err == nil })
		if err != nil {
			return err
		}
		e, err := wb.Entity(ctx, r)
		switch {
		case errors.Is(err, store.ErrNotFound) && !o.force:
			return fmt.Errorf("%s is not in the database (check the number, or add --force)", r)
		case errors.Is(err, store.ErrNotFound):
			labels = append(labels, "")
		case err != nil:
			return err
		default:
			labels = append(labels, graph.Title(e))
		}
		refs = append(refs, r)
	}
	var targets []graph.Target
	if kind == graph.TargetEntity {
		for i, r := range refs {
			targets = append(targets, graph.EntityTarget(r, labels[i]))
		}
	} else {
		targets = append(targets, graph.Target{Kind: kind, Refs: refs, Query: o.query})
	}
	for _, t := range targets {
		b, added, err := wb.AddBookmarkReport(ctx, caseName, graph.Bookmark{Target: t, Tags: o.tags, Note: o.note})
		if err != nil {
			return err
		}
		verb := "bookmarked"
		if !added {
			verb = "already bookmarked, updated"
		}
		fmt.Fprintf(stdout, "%s %s %s  %s\n", verb, b.ID, t.Key(), t.Title())
	}
	return nil
}

// findBookmark resolves a bookmark id, else a reference: the entity bookmark
// of that entity, else the one bookmark whose target contains it.
func findBookmark(c graph.Case, arg string) (graph.Bookmark, error) {
	if b, ok := c.Bookmark(arg); ok {
		return *b, nil
	}
	r, err := importers.ParseRef(arg)
	if err != nil {
		return graph.Bookmark{}, fmt.Errorf("%q is neither a bookmark id of case %q nor a reference: %w", arg, c.Name, err)
	}
	bs := c.BookmarksOf(r)
	if i := slices.IndexFunc(bs, func(b graph.Bookmark) bool { return b.Target.Kind == graph.TargetEntity }); i >= 0 {
		return bs[i], nil
	}
	switch len(bs) {
	case 0:
		return graph.Bookmark{}, fmt.Errorf("case %q has no bookmark on %s: %w", c.Name, r, store.ErrNotFound)
	case 1:
		return bs[0], nil
	}
	ids := make([]string, len(bs))
	for i, b := range bs {
		ids[i] = b.ID
	}
	return graph.Bookmark{}, fmt.Errorf("%s is in %d bookmarks of case %q (%s): name one by id", r, len(bs), c.Name, strings.Join(ids, ", "))
}

func noteText(arg string, stdin io.Reader) (string, error) {
	if arg != "-" {
		return arg, nil
	}
	b, err := io.ReadAll(io.LimitReader(stdin, 1<<20))
	if err != nil {
		return "", fmt.Errorf("read note from stdin: %w", err)
	}
	return strings.TrimRight(string(b), "\n"), nil
}

func lineCount(s string) int {
	if s == "" {
		return 0
	}
	return strings.Count(s, "\n") + 1
}

func printCase(w io.Writer, c graph.Case) {
	almaty := importers.Almaty()
	// Names, tags, notes and titles are user or imported text: shown with
	// their controls escaped (notes keep their line breaks).
	line, text := safetext.Line, safetext.Text
	fmt.Fprintf(w, "%s  %s  [%s]\n", line(c.ID), line(c.Name), c.Status)
	fmt.Fprintf(w, "  created %s · updated %s\n", c.Created.In(almaty).Format("2006-01-02 15:04"), c.Updated.In(almaty).Format("2006-01-02 15:04"))
	if len(c.Tags) > 0 {
		fmt.Fprintf(w, "  tags: %s\n", line(strings.Join(c.Tags, ", ")))
	}
	if c.Notes != "" {
		fmt.Fprintf(w, "  notes:\n%s\n", indent(text(c.Notes), "    "))
	}
	fmt.Fprintf(w, "\nbookmarks (%d)\n", len(c.Bookmarks))
	for _, b := range c.Bookmarks {
		fmt.Fprintf(w, "  %s  %-7s %s", line(b.ID), b.Target.Kind, line(b.Target.Title()))
		if len(b.Tags) > 0 {
			fmt.Fprintf(w, "  #%s", line(strings.Join(b.Tags, " #")))
		}
		fmt.Fprintln(w)
		refs := make([]string, len(b.Target.Refs))
		for i, r := range b.Target.Refs {
			refs[i] = line(r.String())
		}
		fmt.Fprintf(w, "      %s\n", strings.Join(refs, " → "))
		if b.Target.Query != "" {
			fmt.Fprintf(w, "      query: %s\n", line(b.Target.Query))
		}
		if b.Note != "" {
			fmt.Fprintf(w, "%s\n", indent(text(b.Note), "      │ "))
		}
	}
	for _, q := range c.Queries {
		fmt.Fprintf(w, "  saved query %s: %s\n", line(q.Name), line(q.Query))
	}
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = prefix + l
	}
	return strings.Join(lines, "\n")
}

// journalCmd: casegraph journal [verify|export].
type journalCmd struct {
	DB     dbArgs   `embed:""`
	JSON   bool     `name:"json" help:"print JSON"`
	Case   string   `placeholder:"CASE" help:"only this case's entries (id or name)"`
	Head   string   `placeholder:"FILE" predictor:"file" help:"verify: a head written by journal export that the journal must still extend"`
	Action []string `arg:"" optional:"" name:"verify|export" help:"verify: check the journal's chain (and that it extends --head); export: print its head to keep elsewhere"`
}

func (c *journalCmd) Run(e *env) error { return cmdJournal(e.ctx, c, e.stdout) }

func cmdJournal(ctx context.Context, o *journalCmd, stdout io.Writer) error {
	dbf, pos := o.DB.flags(), o.Action
	verify := len(pos) == 1 && pos[0] == "verify"
	exportHead := len(pos) == 1 && pos[0] == "export"
	if len(pos) > 1 || (len(pos) == 1 && !verify && !exportHead) {
		return usageError{msg: "journal takes [--case CASE] [--json], verify [--head FILE], or export"}
	}
	if o.Head != "" && !verify {
		return usageError{msg: "--head goes with journal verify"}
	}
	var head *store.JournalHeadFile
	if o.Head != "" {
		h, err := readJournalHeadFile(o.Head)
		if err != nil {
			return err
		}
		head = &h
	}
	db, err := dbf.open(false, true)
	if err != nil {
		return err
	}
	defer db.Close()
	if exportHead {
		h, err := db.JournalHead(ctx)
		if err != nil {
			return err
		}
		return writeJSON(stdout, h)
	}
	if verify {
		rep, err := db.VerifyJournalWith(ctx, store.VerifyOptions{Head: head})
		if err != nil {
			return err
		}
		if o.JSON {
			if err := writeJSON(stdout, rep); err != nil {
				return err
			}
		} else if rep.OK {
			fmt.Fprintf(stdout, "journal OK: %d entries, chain intact (%d keyed, %d unkeyed)", rep.Entries, rep.Keyed, rep.Unkeyed)
			if rep.StateChecked {
				fmt.Fprintf(stdout, "; %d cases and %d verdicts, rejected matches and rule configurations match the journal", rep.Cases, rep.Records)
			} else {
				fmt.Fprint(stdout, "; version-1 journal: case records not covered until the next change")
			}
			if head != nil {
				fmt.Fprintf(stdout, "; extends the kept head %d", head.Seq)
			}
			fmt.Fprintln(stdout)
		}
		if !rep.OK {
			if rep.FirstBad == 0 {
				return fmt.Errorf("journal broken: %s", rep.Problem)
			}
			return fmt.Errorf("journal broken at entry %d: %s", rep.FirstBad, rep.Problem)
		}
		return nil
	}
	id := ""
	if o.Case != "" {
		c, err := db.Case(ctx, o.Case)
		if errors.Is(err, store.ErrNotFound) {
			// A deleted case keeps its journal: accept its id as given.
			id = o.Case
		} else if err != nil {
			return err
		} else {
			id = c.ID
		}
	}
	entries, err := db.Journal(ctx, id)
	if err != nil {
		return err
	}
	if o.JSON {
		if entries == nil {
			entries = []store.JournalEntry{}
		}
		return writeJSON(stdout, entries)
	}
	almaty := importers.Almaty()
	for _, e := range entries {
		fmt.Fprintf(stdout, "%6d  %s  %-12s %-16s %-11s %s\n", e.Seq, e.Time.In(almaty).Format("2006-01-02 15:04:05"),
			safetext.Line(e.User), e.Action, safetext.Line(e.CaseID), safetext.Line(fmt.Sprintf("%s", e.Detail)))
	}
	return nil
}

// readJournalHeadFile reads a head written by journal export (at most 64 KiB).
func readJournalHeadFile(path string) (store.JournalHeadFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return store.JournalHeadFile{}, fmt.Errorf("read journal head: %w", err)
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, 64<<10))
	if err != nil {
		return store.JournalHeadFile{}, fmt.Errorf("read journal head %s: %w", path, err)
	}
	var h store.JournalHeadFile
	if err := json.Unmarshal(raw, &h); err != nil || h.Format != store.JournalHeadFormat {
		return store.JournalHeadFile{}, fmt.Errorf("journal head %s is not a %s file (write one with casegraph journal export)", path, store.JournalHeadFormat)
	}
	return h, nil
}

// cmdImportCase imports a colleague's case folder (written by casegraph
// export) as a new case, after checking the folder is an intact,
// unredacted export (readCaseFolder).
// importCaseCmd: casegraph import-case FOLDER.
type importCaseCmd struct {
	DB     dbArgs   `embed:""`
	Folder []string `arg:"" optional:"" name:"folder" predictor:"dir" help:"an export folder with manifest.json and case.json"`
}

func (c *importCaseCmd) Run(e *env) error { return cmdImportCase(e.ctx, c, e.stdout) }

func cmdImportCase(ctx context.Context, o *importCaseCmd, stdout io.Writer) error {
	dbf, pos := o.DB.flags(), o.Folder
	if len(pos) != 1 {
		return usageError{msg: "import-case needs one case folder (an export folder with manifest.json and case.json)"}
	}
	c, src, err := readCaseFolder(ctx, pos[0])
	if err != nil {
		return err
	}
	db, err := dbf.open(false, false)
	if err != nil {
		return err
	}
	defer db.Close()
	res, err := db.ImportCase(ctx, actor(), c, src)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "imported as %s %q: %d bookmarks", res.Case.ID, safetext.Line(res.Case.Name), res.Added)
	if res.Changed > 0 {
		fmt.Fprintf(stdout, " (%d duplicates folded in)", res.Changed)
	}
	if res.SourceID != "" {
		fmt.Fprintf(stdout, "; source case id %s recorded in the journal", safetext.Line(res.SourceID))
	}
	fmt.Fprintln(stdout)
	return nil
}

// caseFolderLimits bound the reads of import-case (tests lower them).
var caseFolderLimits = export.DefaultFolderLimits

// readCaseFolder reads an untrusted case folder: it must be an export whose
// manifest lists and matches every file (export.ReadFolder, bounded reads),
// and neither the manifest nor the content may be redacted (masked
// identifiers would become bookmarks on entities that do not exist). The
// path may name the folder or its case.json.
func readCaseFolder(ctx context.Context, path string) (graph.Case, store.ImportSource, error) {
	dir := path
	if st, err := os.Stat(path); err == nil && !st.IsDir() && filepath.Base(path) == "case.json" {
		dir = filepath.Dir(path)
	}
	vf, err := export.ReadFolder(ctx, dir, caseFolderLimits)
	if err != nil {
		return graph.Case{}, store.ImportSource{}, fmt.Errorf("import case: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return graph.Case{}, store.ImportSource{}, err
	}
	if m, ok := export.MaskedIdentifier(string(vf.CaseJSON)); ok {
		return graph.Case{}, store.ImportSource{}, fmt.Errorf("import case %s: case.json holds the masked identifier %s: it is a redacted export (whatever its manifest says); import the unredacted case folder",
			dir, safetext.Line(m))
	}
	c, err := decodeCaseJSON(vf.CaseJSON)
	if err != nil {
		return graph.Case{}, store.ImportSource{}, fmt.Errorf("import case %s: %w", dir, err)
	}
	if m, ok := export.RedactedIn(c); ok {
		return graph.Case{}, store.ImportSource{}, fmt.Errorf("import case %s: the case holds the masked identifier %s: it is a redacted export; import the unredacted case folder",
			dir, safetext.Line(m))
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	return c, store.ImportSource{Folder: abs, ManifestSHA256: vf.ManifestSHA256}, nil
}

// exportCaseJSON is the "casegraph-case/1" layout the export package writes:
// entity bookmarks by reference, and notes on the case or on one entity.
type exportCaseJSON struct {
	Format      string   `json:"format"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Tags        []string `json:"tags"`
	Bookmarks   []struct {
		Ref  string   `json:"ref"`
		Note string   `json:"note"`
		Tags []string `json:"tags"`
	} `json:"bookmarks"`
	Notes []struct {
		Time string `json:"time"`
		Ref  string `json:"ref"`
		Text string `json:"text"`
	} `json:"notes"`
}

// decodeCaseJSON reads either the JSON of graph.Case or the export
// package's "casegraph-case/1" layout.
func decodeCaseJSON(raw []byte) (graph.Case, error) {
	var probe struct {
		Format string `json:"format"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return graph.Case{}, err
	}
	if probe.Format == "" {
		var c graph.Case
		err := json.Unmarshal(raw, &c)
		return c, err
	}
	if probe.Format != "casegraph-case/1" {
		return graph.Case{}, fmt.Errorf("unknown case format %q", probe.Format)
	}
	var ej exportCaseJSON
	if err := json.Unmarshal(raw, &ej); err != nil {
		return graph.Case{}, err
	}
	c := graph.Case{Name: ej.Name, Status: graph.CaseOpen, Tags: ej.Tags, Notes: ej.Description}
	byRef := map[graph.Ref]int{}
	for _, b := range ej.Bookmarks {
		r, err := graph.ParseRef(b.Ref)
		if err != nil {
			return graph.Case{}, err
		}
		byRef[r] = len(c.Bookmarks)
		c.Bookmarks = append(c.Bookmarks, graph.Bookmark{Target: graph.EntityTarget(r, ""), Tags: b.Tags, Note: b.Note})
	}
	for _, n := range ej.Notes {
		text := n.Text
		if n.Time != "" {
			text = n.Time + "  " + text
		}
		if n.Ref == "" {
			c.Notes = joinNote(c.Notes, text)
			continue
		}
		r, err := graph.ParseRef(n.Ref)
		if err != nil {
			return graph.Case{}, err
		}
		i, ok := byRef[r]
		if !ok {
			i = len(c.Bookmarks)
			byRef[r] = i
			c.Bookmarks = append(c.Bookmarks, graph.Bookmark{Target: graph.EntityTarget(r, "")})
		}
		c.Bookmarks[i].Note = joinNote(c.Bookmarks[i].Note, text)
	}
	return c, nil
}

func joinNote(a, b string) string {
	if a == "" {
		return b
	}
	return a + "\n\n" + b
}
