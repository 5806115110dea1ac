// Command casegraph is a terminal workbench for financial-crime investigators:
// it imports case data into an embedded store and lets them search and walk
// the link graph of card holders, cards, accounts, exchanges and groups.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"

	_ "time/tzdata" // target machines are offline: Asia/Almaty must be embedded

	"casegraph/internal/safetext"
)

const usage = `casegraph — link-graph workbench for financial-crime investigations

Usage:
  casegraph [--db DIR]                         open the TUI on a database (default: the demo database)
  casegraph demo [--db DIR] [--scale S] [--seed N]
                                               generate a demo case (once), import it, open the TUI
  casegraph generate --out DIR [--seed N] [--scale small|medium|large]
                                               write a demo data set (canonical CSV + ground truth)
  casegraph generate --out DIR --world decoys [--seed N] [--persons N] [--currency KZT|USD]
                                               write the independent evaluation world: dropper groups
                                               among hard decoys (ground truth lists the decoys)
  casegraph generate --out DIR --statement ROWS
                                               write statement.csv, a Windows-1251 bank statement
                                               (import it with --profile bank-statement)
  casegraph import --db DIR [--rejects FILE] [--as list] FILE|DIR...
                                               import canonical CSV, FollowTheMoney JSON, goAML XML,
                                               watch lists and the AFSA licence register; a list
                                               without a list_status column needs --as list
  casegraph import --db DIR --profile NAME|FILE FILE|DIR...
                                               import other CSV files (bank statements, AMLSim, Berka…)
                                               through a mapping profile (docs/FORMATS.md)
  casegraph profile list | show NAME | infer FILE
                                               built-in profiles; propose a profile for a file
  casegraph resolve --db DIR [--json] [--min-score S] [--apply [--accept N,M] [--reject N,M]]
  casegraph resolve --db DIR --revert REF=REF
                                               entity resolution: list merges and proposals; write same_as links
  casegraph search --db DIR [--json] [--kind K] [--limit N] QUERY
  casegraph show   --db DIR [--json] [--limit N] REF     REF: card:…, iin:…, iban:…, exchange:…, group:…
  casegraph stats  --db DIR [--json]
  casegraph case list|new|show|add|tag|note|status|rename|rm|undo --db DIR …
                                               cases and bookmarks (casegraph case help)
  casegraph journal --db DIR [--case CASE] [--json] | journal --db DIR verify [--head FILE] | journal --db DIR export
                                               the case journal; export prints its head to keep elsewhere,
                                               verify --head checks the journal still extends it
  casegraph import-case --db DIR FOLDER        import a colleague's exported case folder as a new case
  casegraph rejects --db DIR [FILE]            list an import's rejects files, or print one (decrypted
                                               when the database is encrypted)
  casegraph export [--db DIR] --out DIR [--replace] [--redact] [--flags] [--refs REF,…] [CASE]
                                               write a case file: HTML/Markdown report, CSV, GraphML, GEXF,
                                               DOT, FollowTheMoney, i2 import table, manifest with SHA-256
  casegraph flags  --db DIR [--json] [--rule R3] [--limit N] [--config F] [--print-config]
                                               red-flag rules R1–R23 and ranked entity risks
  casegraph verdict confirm|dismiss|clear --db DIR REF [--note TEXT] | verdict list --db DIR [--json]
                                               an analyst's verdict on a flagged entity (journalled)
  casegraph calibrate --db DIR [--json] [--apply] [--folds N] [--l2 X] | --revert | --history
                                               fit rule weights to the verdicts, cross-validated;
                                               --apply stores them as the database's rule config
  casegraph eval   --db DIR --truth FILE [--json] [--config F]
                                               score flags and suspected groups against ground truth
  casegraph clusters --db DIR [--json] [--by turnover|risk] [--limit N] [--method groups|louvain]
                                               suspected groups ranked (louvain: money communities)
  casegraph path   --db DIR [--json] [--k N] [--max-hops N] [--directed] REF REF
  casegraph trace  --db DIR [--json] [--backward] [--max-hops N] [--max-dwell 24h] [--proportional] REF|TXID
  casegraph bench  --db DIR [--json]           measure start-up, search, page and memory targets
  casegraph serve  --db DIR --authorized-keys FILE [--listen ADDR] [--idle-timeout 30m]
                   [--max-sessions-per-key N] [--state DIR]
                                               serve the TUI to a team over SSH: one database, every
                                               key a user and a role (docs/SECURITY.md, team file format)

Every command that opens a database takes --key-file FILE (or CASEGRAPH_KEY_FILE) for
databases encrypted at rest; the key is 16, 24 or 32 bytes, raw or hex, in a file only its
owner may read (chmod 600). --journal-key FILE (or CASEGRAPH_JOURNAL_KEY) keys the journal's
HMAC with a separate secret; without it an encrypted database's journal is keyed from --key-file.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	stopProfile := startProfile(os.Getenv("CASEGRAPH_CPUPROFILE"))
	stopHeap := startHeapProfile(os.Getenv("CASEGRAPH_MEMPROFILE"))
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stopHeap()
	stopProfile()
	stop()
	if err != nil {
		os.Exit(printError(os.Stderr, err))
	}
}

// printError prints a command's error, with the usage after a usage error,
// and returns the exit code. Errors quote references, names and file names
// that may hold terminal controls: they are shown as visible escapes.
func printError(w io.Writer, err error) int {
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(w, "casegraph: %s\n\n%s", safetext.Text(err.Error()), usage)
		return 2
	}
	fmt.Fprintf(w, "casegraph: %s\n", safetext.Text(err.Error()))
	return 1
}

// startProfile writes a CPU profile to path (for measuring imports and
// start-up); an empty path does nothing.
func startProfile(path string) (stop func()) {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "casegraph: cpu profile: %v\n", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintf(os.Stderr, "casegraph: cpu profile: %v\n", err)
		f.Close()
		return func() {}
	}
	return func() { pprof.StopCPUProfile(); f.Close() }
}

// startHeapProfile writes to path the heap profile of the moment the live
// heap was largest (looked at every 200 ms), for finding what makes a
// command's peak memory; an empty path does nothing.
func startHeapProfile(path string) (stop func()) {
	if path == "" {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		var peak uint64
		write := func() {
			f, err := os.Create(path)
			if err != nil {
				fmt.Fprintf(os.Stderr, "casegraph: heap profile: %v\n", err)
				return
			}
			defer f.Close()
			if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
				fmt.Fprintf(os.Stderr, "casegraph: heap profile: %v\n", err)
			}
		}
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				if peak == 0 {
					write()
				}
				return
			case <-tick.C:
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				if ms.HeapAlloc > peak+peak/20 {
					peak = ms.HeapAlloc
					write()
				}
			}
		}
	}()
	return func() { close(done); <-finished }
}

// usageError is a mistake in the command line; main prints the usage with it.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	// Names, notes and file names come from imported data: every byte a
	// command prints goes through safetext, so an ESC, C1 or bidi control
	// in them reaches the terminal as a visible escape. (The TUI draws
	// through Bubble Tea, which sanitises its own frames; the progress bar
	// writes its cursor moves past this, see newProgress.)
	so, se := safetext.NewWriter(stdout), safetext.NewWriter(stderr)
	defer func() {
		so.Flush()
		se.Flush()
	}()
	stdout, stderr = so, se
	if len(args) == 0 {
		return cmdOpen(ctx, args, stdout, stderr)
	}
	switch args[0] {
	case "demo":
		return cmdDemo(ctx, args[1:], stdout, stderr)
	case "generate":
		return cmdGenerate(ctx, args[1:], stdout, stderr)
	case "import":
		return cmdImport(ctx, args[1:], stdout, stderr)
	case "profile":
		return cmdProfile(ctx, args[1:], stdout)
	case "search":
		return cmdSearch(ctx, args[1:], stdout)
	case "show":
		return cmdShow(ctx, args[1:], stdout)
	case "stats":
		return cmdStats(ctx, args[1:], stdout)
	case "flags":
		return cmdFlags(ctx, args[1:], stdout, stderr)
	case "eval":
		return cmdEval(ctx, args[1:], stdout, stderr)
	case "clusters":
		return cmdClusters(ctx, args[1:], stdout, stderr)
	case "path":
		return cmdPath(ctx, args[1:], stdout, stderr)
	case "trace":
		return cmdTrace(ctx, args[1:], stdout, stderr)
	case "bench":
		return cmdBench(ctx, args[1:], stdout)
	case "resolve":
		return cmdResolve(ctx, args[1:], stdout)
	case "case":
		return cmdCase(ctx, args[1:], stdout, os.Stdin)
	case "journal":
		return cmdJournal(ctx, args[1:], stdout)
	case "verdict":
		return cmdVerdict(ctx, args[1:], stdout)
	case "calibrate":
		return cmdCalibrate(ctx, args[1:], stdout, stderr)
	case "export":
		return cmdExport(ctx, args[1:], stdout, stderr)
	case "import-case":
		return cmdImportCase(ctx, args[1:], stdout)
	case "rejects":
		return cmdRejects(ctx, args[1:], stdout)
	case "serve":
		return cmdServe(ctx, args[1:], stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	if args[0] != "" && args[0][0] == '-' {
		return cmdOpen(ctx, args, stdout, stderr)
	}
	return usageError{fmt.Sprintf("unknown command %q", args[0])}
}
