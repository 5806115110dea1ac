package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"casegraph/importers/gen"
	"casegraph/importers/gen/decoy"
	"casegraph/workbench"
)

// generateCmd: casegraph generate --out DIR.
type generateCmd struct {
	Out       string `placeholder:"DIR" predictor:"dir" help:"directory to write the data set into (required)"`
	Seed      int64  `default:"1" placeholder:"N" help:"random seed; the same seed and scale give byte-identical files"`
	Scale     string `default:"small" placeholder:"small|medium|large|xlarge" help:"small (≈20k persons, 300k tx), medium (≈100k, 2M), large (≈1M entities, 10M tx) or xlarge (≈3M entities, 30M tx)"`
	World     string `default:"demo" placeholder:"demo|decoys" help:"demo (the planted-group demo) or decoys (an independent evaluation world with hard decoys; the ground truth lists the decoys)"`
	Persons   int    `placeholder:"N" help:"--world decoys: number of persons (default 6000)"`
	Currency  string `default:"KZT" placeholder:"KZT|USD" help:"--world decoys: KZT, or USD for the same world in dollars"`
	Statement int    `placeholder:"ROWS" help:"instead, write statement.csv: a Windows-1251 bank statement of this many rows (import it with --profile bank-statement)"`
}

func (c *generateCmd) Run(e *env) error { return cmdGenerate(e.ctx, c, e.stdout, e.stderr) }

func cmdGenerate(ctx context.Context, c *generateCmd, stdout, stderr io.Writer) error {
	if c.Out == "" {
		return usageError{msg: "generate needs --out DIR"}
	}
	if c.Statement < 0 {
		return usageError{msg: "--statement wants a number of rows"}
	}
	if c.Statement > 0 {
		path, err := writeStatementFile(c.Out, c.Statement)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s: a bank statement of %s rows (Windows-1251; import with --profile bank-statement)\n", path, count(c.Statement))
		return nil
	}
	switch c.World {
	case "demo":
		if c.Persons != 0 || !strings.EqualFold(c.Currency, "KZT") {
			return usageError{msg: "--persons and --currency apply to --world decoys"}
		}
	case "decoys":
		return generateDecoys(ctx, c.Out, c.Seed, c.Persons, c.Currency, stdout)
	default:
		return usageError{msg: fmt.Sprintf("unknown --world %q (want demo or decoys)", c.World)}
	}
	sc, err := gen.ParseScale(c.Scale)
	if err != nil {
		return usageError{msg: err.Error()}
	}
	sum, err := generate(ctx, c.Out, c.Seed, sc, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %s persons, %s cards, %s accounts, %s exchanges, %s groups (%s planted), %s transactions\n",
		c.Out, count(sum.Persons), count(sum.Cards), count(sum.Accounts), count(sum.Exchanges),
		count(sum.Groups), count(sum.Planted), count(sum.Transactions))
	return nil
}

// generateDecoys writes the independent decoy world (importers/gen/decoy).
func generateDecoys(ctx context.Context, dir string, seed int64, persons int, currency string, stdout io.Writer) error {
	cfg := decoy.Config{Seed: seed, Persons: persons, Currency: currency}
	if err := cfg.Check(); err != nil {
		return usageError{msg: err.Error()}
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
// demoCmd: casegraph demo.
type demoCmd struct {
	DB    dbArgs `embed:""`
	Seed  int64  `default:"1" placeholder:"N" help:"random seed of the generated case"`
	Scale string `default:"small" placeholder:"small|medium|large|xlarge" help:"small, medium, large or xlarge"`
	NoTUI bool   `name:"no-tui" help:"prepare the demo database and exit without opening the TUI"`
}

func (c *demoCmd) Run(e *env) error { return cmdDemo(e.ctx, c, e.stdout, e.stderr) }

func cmdDemo(ctx context.Context, c *demoCmd, stdout, stderr io.Writer) error {
	dbf := c.DB.flags()
	sc, err := gen.ParseScale(c.Scale)
	if err != nil {
		return usageError{msg: err.Error()}
	}
	if err := prepareDemo(ctx, dbf, c.Seed, sc, stdout, stderr); err != nil {
		return err
	}
	if c.NoTUI {
		return nil
	}
	return openTUI(ctx, dbf, "", "")
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
		fmt.Fprintf(stderr, "first run: generating a %s demo case (seed %d) into %s, then importing it; later runs open it at once\n", sc, seed, dataDir)
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
