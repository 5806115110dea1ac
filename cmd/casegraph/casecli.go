package main

import (
	"fmt"

	"github.com/alecthomas/kong"
)

// The case command's definitions: every subcommand with its own arguments
// and flags (the bodies are in casecmd.go, cmdCase).

// caseCmd: casegraph case SUBCOMMAND. CASE is a case id (c-…) or name.
type caseCmd struct {
	List   caseListCmd   `cmd:"" help:"list cases"`
	New    caseNewCmd    `cmd:"" help:"create an open case"`
	Show   caseShowCmd   `cmd:"" help:"show a case and its bookmarks (journalled as a view)"`
	Add    caseAddCmd    `cmd:"" help:"bookmark entities (one bookmark each), or all REFs as one cluster, path or trace"`
	Tag    caseTagCmd    `cmd:"" help:"add tags to a bookmark, or remove them"`
	Note   caseNoteCmd   `cmd:"" help:"set the case's notes or a bookmark's note (\"-\" reads stdin)"`
	Status caseStatusCmd `cmd:"" help:"set a case's status: open, referred or closed"`
	Rename caseRenameCmd `cmd:"" help:"rename a case"`
	Rm     caseRmCmd     `cmd:"" help:"delete a case, or one bookmark (case undo brings it back)"`
	Mv     caseMvCmd     `cmd:"" help:"move (or copy) bookmarks into another case"`
	Merge  caseMergeCmd  `cmd:"" help:"move every bookmark, note and tag of FROM into INTO and delete FROM"`
	Undo   caseUndoCmd   `cmd:"" help:"revert the last case change; again, the one before (a closed or referred case is read-only until reopened)"`
}

// caseOpts are the flags cmdCase reads; each subcommand fills its own.
type caseOpts struct {
	db                  dbFlags
	json, force, remove bool
	tags                []string
	note, target, query string
	to                  string // mv: the destination case
	copy                bool   // mv: copy, not move
}

func runCase(e *env, sub string, o caseOpts, pos ...string) error {
	return cmdCase(e.ctx, sub, o, pos, e.stdout, e.stdin)
}

type caseListCmd struct {
	DB   dbArgs `embed:""`
	JSON bool   `name:"json" help:"print JSON"`
}

func (c *caseListCmd) Run(e *env) error {
	return runCase(e, "list", caseOpts{db: c.DB.flags(), json: c.JSON})
}

type caseNewCmd struct {
	DB   dbArgs   `embed:""`
	Name []string `arg:"" help:"the case's name (words are joined)"`
}

func (c *caseNewCmd) Run(e *env) error {
	return runCase(e, "new", caseOpts{db: c.DB.flags()}, c.Name...)
}

type caseShowCmd struct {
	DB   dbArgs `embed:""`
	JSON bool   `name:"json" help:"print JSON"`
	Case string `arg:"" help:"case id or name"`
}

func (c *caseShowCmd) Run(e *env) error {
	return runCase(e, "show", caseOpts{db: c.DB.flags(), json: c.JSON}, c.Case)
}

type caseAddCmd struct {
	DB     dbArgs    `embed:""`
	Tag    multiFlag `placeholder:"TAG" help:"tag the new bookmarks (repeatable)"`
	Note   string    `placeholder:"TEXT" help:"note for the new bookmarks"`
	Target string    `default:"entity" placeholder:"entity|cluster|path|trace" help:"bookmark kind: entity, cluster, path or trace"`
	Query  string    `placeholder:"Q" help:"the query that produced a cluster, path or trace"`
	Force  bool      `help:"bookmark references that are not in the database"`
	Case   string    `arg:"" help:"case id or name"`
	Refs   []string  `arg:"" name:"ref" help:"card:…, iin:…, iban:…, exchange:…, group:…"`
}

func (c *caseAddCmd) Run(e *env) error {
	return runCase(e, "add", caseOpts{db: c.DB.flags(), tags: c.Tag, note: c.Note, target: c.Target, query: c.Query, force: c.Force},
		append([]string{c.Case}, c.Refs...)...)
}

type caseTagCmd struct {
	DB       dbArgs   `embed:""`
	Remove   bool     `help:"remove the tags instead of adding them"`
	Case     string   `arg:"" help:"case id or name"`
	Bookmark string   `arg:"" name:"ref|bookmark" help:"the bookmark: its id, or a REF it holds"`
	Tags     []string `arg:"" name:"tag" help:"tags to add (or remove)"`
}

func (c *caseTagCmd) Run(e *env) error {
	return runCase(e, "tag", caseOpts{db: c.DB.flags(), remove: c.Remove}, append([]string{c.Case, c.Bookmark}, c.Tags...)...)
}

type caseNoteCmd struct {
	DB   dbArgs   `embed:""`
	Case string   `arg:"" help:"case id or name"`
	Rest []string `arg:"" name:"[ref|bookmark] text" help:"TEXT sets the case's notes; a bookmark id or REF, then TEXT, sets that bookmark's note; TEXT - reads stdin"`
}

func (c *caseNoteCmd) Run(e *env) error {
	return runCase(e, "note", caseOpts{db: c.DB.flags()}, append([]string{c.Case}, c.Rest...)...)
}

type caseStatusCmd struct {
	DB     dbArgs `embed:""`
	Case   string `arg:"" help:"case id or name"`
	Status string `arg:"" name:"open|referred|closed" help:"the new status"`
}

func (c *caseStatusCmd) Run(e *env) error {
	return runCase(e, "status", caseOpts{db: c.DB.flags()}, c.Case, c.Status)
}

type caseRenameCmd struct {
	DB      dbArgs `embed:""`
	Case    string `arg:"" help:"case id or name"`
	NewName string `arg:"" name:"newname" help:"the new name"`
}

func (c *caseRenameCmd) Run(e *env) error {
	return runCase(e, "rename", caseOpts{db: c.DB.flags()}, c.Case, c.NewName)
}

type caseRmCmd struct {
	DB       dbArgs `embed:""`
	Case     string `arg:"" help:"case id or name"`
	Bookmark string `arg:"" optional:"" name:"ref|bookmark" help:"delete only this bookmark (its id, or a REF it holds)"`
}

func (c *caseRmCmd) Run(e *env) error {
	pos := []string{c.Case}
	if c.Bookmark != "" {
		pos = append(pos, c.Bookmark)
	}
	return runCase(e, "rm", caseOpts{db: c.DB.flags()}, pos...)
}

type caseMvCmd struct {
	DB        dbArgs   `embed:""`
	To        string   `required:"" placeholder:"CASE" help:"the case to move the bookmarks into"`
	Copy      bool     `help:"copy the bookmarks, keeping them in CASE too"`
	Case      string   `arg:"" help:"case id or name"`
	Bookmarks []string `arg:"" name:"ref|bookmark" help:"the bookmarks: their ids, or REFs they hold"`
}

func (c *caseMvCmd) Run(e *env) error {
	return runCase(e, "mv", caseOpts{db: c.DB.flags(), to: c.To, copy: c.Copy}, append([]string{c.Case}, c.Bookmarks...)...)
}

type caseMergeCmd struct {
	DB   dbArgs `embed:""`
	Into string `arg:"" name:"into" help:"the case to keep (id or name)"`
	From string `arg:"" name:"from" help:"the case merged into it and deleted (id or name)"`
}

func (c *caseMergeCmd) Run(e *env) error {
	return runCase(e, "merge", caseOpts{db: c.DB.flags()}, c.Into, c.From)
}

type caseUndoCmd struct {
	DB dbArgs `embed:""`
}

func (c *caseUndoCmd) Run(e *env) error { return runCase(e, "undo", caseOpts{db: c.DB.flags()}) }

// multiFlag collects a repeatable string flag: each --tag adds one value,
// taken whole (no splitting at commas, and one that starts with "-" is a
// value, as with every other flag).
type multiFlag []string

// Decode implements kong.MapperValue.
func (m *multiFlag) Decode(ctx *kong.DecodeContext) error {
	t := ctx.Scan.Pop()
	if t.IsEOL() {
		return fmt.Errorf("--%s needs a value", ctx.Value.Name)
	}
	*m = append(*m, t.String())
	return nil
}
