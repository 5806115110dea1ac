package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"casegraph/internal/safetext"
	"casegraph/workbench"
)

// cmdRejects lists the rejects files of a database's imports, or prints one
// (decrypting it when the database is encrypted: an encrypted database's
// rejects are sealed with its key, see store/seal.go).
// rejectsCmd: casegraph rejects [FILE].
type rejectsCmd struct {
	DB   dbArgs   `embed:""`
	File []string `arg:"" optional:"" name:"file" help:"a rejects file: a name listed by casegraph rejects, or a path"`
}

func (c *rejectsCmd) Run(e *env) error { return cmdRejects(e.ctx, c, e.stdout) }

func cmdRejects(ctx context.Context, c *rejectsCmd, stdout io.Writer) error {
	dbf, pos := c.DB.flags(), c.File
	if len(pos) > 1 {
		return usageError{msg: "rejects takes at most one rejects file (a name listed by casegraph rejects, or a path)"}
	}
	db, err := dbf.open(false, true)
	if err != nil {
		return err
	}
	defer db.Close()
	dir := workbench.RejectsDir(db.Dir())
	if len(pos) == 0 {
		ents, err := os.ReadDir(dir)
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("list rejects: %w", err)
		}
		names := []string{}
		for _, e := range ents {
			if e.Type().IsRegular() {
				names = append(names, e.Name())
			}
		}
		slices.Sort(names)
		for _, n := range names {
			fmt.Fprintln(stdout, safetext.Line(n))
		}
		return nil
	}
	path := pos[0]
	if !strings.ContainsRune(path, os.PathSeparator) {
		path = filepath.Join(dir, path)
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("read rejects: %w", err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".sealed") || db.Encrypted() {
		if r, err = db.OpenSealed(f, path); err != nil {
			return fmt.Errorf("read rejects: %w", err)
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, err := io.Copy(stdout, r); err != nil {
		return fmt.Errorf("read rejects %s: %w", path, err)
	}
	return nil
}
