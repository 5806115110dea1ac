package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"casegraph/importers/gen"
	"casegraph/importers/gen/decoy"
	"casegraph/workbench"
)

func cmdGenerate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("generate", flag.ContinueOnError)
	out := fs.String("out", "", "directory to write the data set into")
	seed := fs.Int64("seed", 1, "random seed; the same seed and scale give byte-identical files")
	scale := fs.String("scale", "small", "small (≈20k persons, 300k tx), medium (≈100k, 2M) or large (≈1M entities, 10M tx)")
	world := fs.String("world", "demo", "demo (the planted-group demo) or decoys (an independent evaluation world with hard decoys)")
	persons := fs.Int("persons", 0, "--world decoys: number of persons (default 6000)")
	currency := fs.String("currency", "KZT", "--world decoys: KZT, or USD for the same world in dollars")
	statement := fs.Int("statement", 0, "instead, write statement.csv: a Windows-1251 bank statement of this many rows\n(import it with --profile bank-statement)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", pos[0])}
	}
	if *out == "" {
		return usageError{"generate needs --out DIR"}
	}
	if *statement < 0 {
		return usageError{"--statement wants a number of rows"}
	}
	if *statement > 0 {
		path, err := writeStatementFile(*out, *statement)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s: a bank statement of %s rows (Windows-1251; import with --profile bank-statement)\n", path, count(*statement))
		return nil
	}
	switch *world {
	case "demo":
		if *persons != 0 || !strings.EqualFold(*currency, "KZT") {
			return usageError{"--persons and --currency apply to --world decoys"}
		}
	case "decoys":
		return generateDecoys(ctx, *out, *seed, *persons, *currency, stdout)
	default:
		return usageError{fmt.Sprintf("unknown --world %q (want demo or decoys)", *world)}
	}
	sc, err := gen.ParseScale(*scale)
	if err != nil {
		return usageError{err.Error()}
	}
	sum, err := generate(ctx, *out, *seed, sc, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %s persons, %s cards, %s accounts, %s exchanges, %s groups (%s planted), %s transactions\n",
		*out, count(sum.Persons), count(sum.Cards), count(sum.Accounts), count(sum.Exchanges),
		count(sum.Groups), count(sum.Planted), count(sum.Transactions))
	return nil
}

// generateDecoys writes the independent decoy world (importers/gen/decoy).
func generateDecoys(ctx context.Context, dir string, seed int64, persons int, currency string, stdout io.Writer) error {
	cfg := decoy.Config{Seed: seed, Persons: persons, Currency: currency}
	if err := cfg.Check(); err != nil {
		return usageError{err.Error()}
	}
	sum, err := decoy.Generate(ctx, dir, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: decoy world, %s persons, %s cards, %s exchanges, %s dropper groups (%s known), %s droppers, %s mule cards, %s decoys with %s cards, %s transactions in %s\n",
		dir, count(sum.Persons), count(sum.Cards), count(sum.Exchanges), count(sum.Groups), count(sum.KnownGroups),
		count(sum.Droppers), count(sum.MuleCards), count(sum.Decoys), count(sum.DecoyCards), count(sum.Transactions), sum.Currency)
	return nil
}

// writeStatementFile writes dir/statement.csv (gen.WriteStatement).
func writeStatementFile(dir string, rows int) (string, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", fmt.Errorf("create %s: %w", dir, err)
	}
	path := filepath.Join(dir, "statement.csv")
	f, err := os.Create(path)
	if err != nil {
		return "", fmt.Errorf("write statement: %w", err)
	}
	err = gen.WriteStatement(f, rows)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return path, nil
}

func generate(ctx context.Context, dir string, seed int64, sc gen.Scale, stderr io.Writer) (gen.Summary, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return gen.Summary{}, fmt.Errorf("create %s: %w", dir, err)
	}
	prog := newProgress(stderr)
	prog.name = ""
	sum, err := gen.Generate(ctx, dir, gen.Config{Seed: seed, Scale: sc}, func(done, total int64) {
		prog.Stage("generating "+string(sc), done, total)
	})
	prog.Done()
	if err != nil {
		return sum, fmt.Errorf("generate demo data into %s: %w", dir, err)
	}
	return sum, nil
}

// cmdDemo generates the demo case once into the default location (or
// --db), imports it through the real importers and opens the TUI. A second
// run finds the database filled and opens it at once.
func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	var dbf dbFlags
	dbf.register(fs, defaultDemoDB())
	seed := fs.Int64("seed", 1, "random seed of the generated case")
	scale := fs.String("scale", "small", "small, medium or large")
	noTUI := fs.Bool("no-tui", false, "prepare the demo database and exit without opening the TUI")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", pos[0])}
	}
	sc, err := gen.ParseScale(*scale)
	if err != nil {
		return usageError{err.Error()}
	}
	if err := prepareDemo(ctx, dbf, *seed, sc, stdout, stderr); err != nil {
		return err
	}
	if *noTUI {
		return nil
	}
	return openTUI(ctx, dbf, "")
}

func prepareDemo(ctx context.Context, dbf dbFlags, seed int64, sc gen.Scale, stdout, stderr io.Writer) error {
	db, err := dbf.open(true, false)
	if err != nil {
		return err
	}
	defer db.Close()
	empty, err := db.Empty()
	if err != nil {
		return err
	}
	if !empty {
		fmt.Fprintf(stderr, "opening the demo case in %s\n", dbf.dir)
		return nil
	}
	dataDir := filepath.Join(filepath.Dir(filepath.Clean(dbf.dir)), fmt.Sprintf("data-%s-%d", sc, seed))
	if _, err := os.Stat(filepath.Join(dataDir, "truth", "ground_truth.json")); errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(stderr, "generating a %s demo case (seed %d) into %s\n", sc, seed, dataDir)
		if _, err := generate(ctx, dataDir, seed, sc, stderr); err != nil {
			return err
		}
	}
	files, err := workbench.ExpandInputs([]string{dataDir})
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "importing %d files into %s\n", len(files), dbf.dir)
	wb := newBackend(db)
	res, err := wb.Import(ctx, files, "", newProgress(stderr), nil)
	printImportSummary(stderr, res)
	if err != nil {
		return err
	}
	// The demo opens with the risk already on every page: the rules run
	// once and their result is kept (docs/DETECTION.md, "Kept results").
	fmt.Fprintf(stderr, "running the red-flag rules once, so every page shows the risk\n")
	p := newProgress(stderr)
	err = wb.Analyze(ctx, func(stage string, done, total int) { p.Stage(stage, int64(done), int64(total)) })
	p.Done()
	return err
}
