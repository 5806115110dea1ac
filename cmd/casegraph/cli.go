package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/alecthomas/kong"
	"github.com/posener/complete"
	"github.com/willabides/kongplete"

	"casegraph/dgraphdb"
	"casegraph/graph"
	"casegraph/importers/profile"
	"casegraph/internal/safetext"
)

// cli is the command line: one field per command, each a struct whose
// fields are that command's flags and arguments (kong builds the parser,
// the per-command help, the "did you mean" on a typo and the shell
// completion from them). Each command's Run calls its body, which stays
// beside its flags in the command's own file.
type cli struct {
	Open       openCmd       `cmd:"" help:"open the TUI on a database (what casegraph with no command, or only flags, does)"`
	Demo       demoCmd       `cmd:"" help:"generate a demo case (once), import it, open the TUI"`
	Generate   generateCmd   `cmd:"" help:"write a demo data set (canonical CSV + ground truth), the decoy evaluation world, or a bank statement"`
	Import     importCmd     `cmd:"" help:"import canonical CSV, FollowTheMoney JSON, goAML XML, watch lists, the AFSA register, or other CSV through a mapping profile (docs/FORMATS.md)"`
	Profile    profileCmd    `cmd:"" help:"built-in mapping profiles; propose a profile for a file"`
	Resolve    resolveCmd    `cmd:"" help:"entity resolution: list merges and proposals; write or revert same_as links"`
	Search     searchCmd     `cmd:"" help:"search names, numbers and identifiers"`
	Show       showCmd       `cmd:"" help:"show one entity: facts, neighbours, transactions"`
	Stats      statsCmd      `cmd:"" help:"count what the database holds"`
	Case       caseCmd       `cmd:"" help:"cases and bookmarks (every change is journalled)"`
	Journal    journalCmd    `cmd:"" help:"the case journal: list it, verify it, or export its head to keep elsewhere"`
	ImportCase importCaseCmd `cmd:"" name:"import-case" help:"import a colleague's exported case folder as a new case"`
	Rejects    rejectsCmd    `cmd:"" help:"list an import's rejects files, or print one (decrypted when the database is encrypted)"`
	Export     exportCmd     `cmd:"" help:"write a case file: HTML/Markdown report, CSV, GraphML, GEXF, DOT, FollowTheMoney, i2 import table, manifest with SHA-256"`
	Flags      flagsCmd      `cmd:"" help:"red-flag rules R1–R23 and ranked entity risks"`
	Verdict    verdictCmd    `cmd:"" help:"an analyst's verdict on a flagged entity (journalled)"`
	Calibrate  calibrateCmd  `cmd:"" help:"fit rule weights to the verdicts, cross-validated; --apply stores them as the database's rule config"`
	Eval       evalCmd       `cmd:"" help:"score flags and suspected groups against ground truth"`
	Clusters   clustersCmd   `cmd:"" help:"suspected groups ranked (louvain: money communities)"`
	Path       pathCmd       `cmd:"" help:"shortest paths between two entities"`
	Trace      traceCmd      `cmd:"" help:"follow the money forward (or back) from an instrument or a transaction"`
	Pull       pullCmd       `cmd:"" help:"pull a neighbourhood of a Dgraph cluster (seeds, hops, a time window) into a new folder every command works on"`
	Bench      benchCmd      `cmd:"" help:"measure start-up, search, page and memory targets"`
	Serve      serveCmd      `cmd:"" help:"serve the TUI to a team over SSH: one database, every key a user and a role (docs/SECURITY.md)"`
	Completion completionCmd `cmd:"" help:"print the shell completion script for bash, zsh or fish"`
	Help       helpCmd       `cmd:"" help:"show the help of casegraph or of one command"`
}

const description = `casegraph — link-graph workbench for financial-crime investigations.

With no command (or only flags) it opens the TUI on --db DIR, by default the demo database.

--db dgraph://HOST:PORT[,HOST:PORT…] names a Dgraph v25 cluster instead of a folder for import,
search, show, stats, bench, serve and the TUI; cases and the journal stay in a local store beside
it. flags, clusters, path and trace on a cluster pull the neighbourhood --seed/--case/--list/
--search/--hops name into a scratch folder and answer there; casegraph pull keeps one
(docs/DGRAPH.md).

Every command that opens a database takes --key-file FILE (or CASEGRAPH_KEY_FILE) for
databases encrypted at rest; the key is 16, 24 or 32 bytes, raw or hex, in a file only its
owner may read (chmod 600). --journal-key FILE (or CASEGRAPH_JOURNAL_KEY) keys the journal's
HMAC with a separate secret; without it an encrypted database's journal is keyed from --key-file.`

// env is what every command's Run is given: the context, the (escaping)
// output streams and stdin.
type env struct {
	ctx            context.Context
	stdout, stderr io.Writer
	stdin          io.Reader
}

// usageError is a mistake in the command line: main prints it with where to
// read the command's help, and exits 2.
type usageError struct {
	msg string
	cmd string // the command it concerns, e.g. "case add"; "" for casegraph itself
}

func (e usageError) Error() string { return e.msg }

// exitRequest carries kong's Exit (after --help, or after completing a word)
// out of the parser to run, which returns instead of exiting.
type exitRequest struct{ code int }

// printError prints a command's error, with where to find the usage after a
// usage error, and returns the exit code: 2 for a usage error, 1 otherwise.
// Errors quote references, names and file names that may hold terminal
// controls: they are shown as visible escapes.
func printError(w io.Writer, err error) int {
	var code exitCode
	if errors.As(err, &code) {
		return int(code) // the holder that ran the command printed its error
	}
	var ue usageError
	if errors.As(err, &ue) {
		help := "casegraph --help"
		if ue.cmd != "" {
			help = "casegraph " + ue.cmd + " --help"
		}
		fmt.Fprintf(w, "casegraph: %s\nsee %s\n", safetext.Text(err.Error()), help)
		return 2
	}
	fmt.Fprintf(w, "casegraph: %s\n", safetext.Text(err.Error()))
	return 1
}

// newParser builds the command line parser writing to stdout and stderr.
func newParser(stdout, stderr io.Writer) (*kong.Kong, error) {
	var c cli
	return kong.New(&c,
		kong.Name("casegraph"),
		kong.Description(description),
		kong.Writers(stdout, stderr),
		kong.Exit(func(code int) { panic(exitRequest{code}) }),
		// As with the flag package before: a flag's value may start with
		// "-" (--note "-- see above", a negative number).
		kong.WithHyphenPrefixedParameters(true),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true, WrapUpperBound: 100}),
		kong.Vars{
			"demo_db":    defaultDemoDB(),
			"db_default": defaultDemoDB(),
			"db_help":    " (default: the demo database)",
			// Defaults that live in the packages that use them.
			"max_path_hops": strconv.Itoa(graph.MaxPathHops),
			"trace_hops":    strconv.Itoa(graph.DefaultTraceHops),
			"trace_dwell":   graph.DefaultDwell.String(),
			"profiles":      strings.Join(profile.Builtins(), ", "),
			"pull_nodes":    strconv.Itoa(dgraphdb.DefaultPullNodes),
			"pull_txns":     strconv.Itoa(dgraphdb.DefaultPullTxns),
		},
	)
}

// run parses args and runs the command they name.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runWith(ctx, args, os.Stdin, stdout, stderr)
}

// runWith runs a command line. A twin on a database another process holds
// runs in that process (holdercmd.go), which printed through safetext.
func runWith(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	err := runIn(ctx, args, stdout, stderr, stdin)
	var he *heldError
	if errors.As(err, &he) && len(args) > 0 && twins[args[0]] && heldOf(ctx) == nil {
		return forward(ctx, he, args, stdin, stdout, stderr)
	}
	return err
}

func runIn(ctx context.Context, args []string, stdout, stderr io.Writer, stdin io.Reader) (err error) {
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
	parser, err := newParser(so, se)
	if err != nil {
		return err
	}
	defer func() {
		if r := recover(); r != nil {
			req, ok := r.(exitRequest)
			if !ok {
				panic(r)
			}
			if req.code != 0 {
				err = usageError{msg: fmt.Sprintf("exit %d", req.code)}
			}
		}
	}()
	if os.Getenv("COMP_LINE") != "" {
		// The shell asks for completions (see completionCmd).
		kongplete.Complete(parser, kongplete.WithPredictor("file", complete.PredictFiles("*")),
			kongplete.WithPredictor("dir", complete.PredictDirs("*")))
	}
	kctx, err := parser.Parse(singleDashFlags(parser, normalizeArgs(args)))
	if err != nil {
		var pe *kong.ParseError
		if errors.As(err, &pe) {
			return usageError{msg: err.Error(), cmd: commandPath(pe.Context)}
		}
		return err
	}
	err = kctx.Run(&env{ctx: ctx, stdout: so, stderr: se, stdin: stdin})
	var ue usageError
	if errors.As(err, &ue) && ue.cmd == "" {
		ue.cmd = commandPath(kctx)
		return ue
	}
	return err
}

// normalizeArgs keeps the command line of before: no command, or flags
// first, opens the TUI ("casegraph --db DIR"); "casegraph help" and
// "casegraph case help" print the help.
func normalizeArgs(args []string) []string {
	if len(args) == 0 || (strings.HasPrefix(args[0], "-") && args[0] != "-h" && args[0] != "--help") {
		return append([]string{"open"}, args...)
	}
	if len(args) == 2 && args[1] == "help" {
		switch args[0] {
		case "case", "verdict", "profile":
			return []string{args[0], "--help"}
		}
	}
	if len(args) == 1 && args[0] == "verdict" {
		return []string{"verdict", "--help"}
	}
	return args
}

// singleDashFlags rewrites "-db DIR" and "-json" as "--db DIR" and
// "--json": the flag package casegraph used before took a long flag with
// one dash, kong takes it with two. Only names of casegraph's flags are
// rewritten, never the value of a flag that takes one, nor anything after
// "--".
func singleDashFlags(parser *kong.Kong, args []string) []string {
	takesValue := map[string]bool{}
	var walk func(*kong.Node)
	walk = func(n *kong.Node) {
		for _, f := range n.Flags {
			takesValue[f.Name] = !f.IsBool()
		}
		for _, c := range n.Children {
			walk(c)
		}
	}
	walk(parser.Model.Node)
	out := make([]string, len(args))
	copy(out, args)
	value := false // the previous argument is a flag that takes a value
	for i, a := range out {
		if a == "--" {
			break
		}
		if value {
			value = false
			continue
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		dashes := len(a) - len(strings.TrimLeft(a, "-"))
		tv, known := takesValue[name]
		if !known || dashes == 0 || dashes > 2 {
			continue
		}
		if dashes == 1 && len(name) > 1 {
			out[i] = "-" + a
		}
		value = tv && !hasValue
	}
	return out
}

// commandPath is the selected command's words ("case add"), or "".
func commandPath(kctx *kong.Context) string {
	if kctx == nil {
		return ""
	}
	n := kctx.Selected()
	if n == nil {
		return ""
	}
	var words []string
	for ; n != nil && n.Parent != nil; n = n.Parent {
		words = append([]string{n.Name}, words...)
	}
	return strings.Join(words, " ")
}

// helpCmd prints the help of casegraph, or of the command it names
// ("casegraph help case add").
type helpCmd struct {
	Command []string `arg:"" optional:"" help:"the command to explain, e.g. case add"`
}

func (h *helpCmd) Run(kctx *kong.Context) error {
	hctx, err := kong.Trace(kctx.Kong, h.Command)
	if err != nil {
		return err
	}
	if hctx.Error != nil {
		return usageError{msg: hctx.Error.Error()}
	}
	return hctx.PrintUsage(false)
}

// completionCmd prints the line that wires the shell's completion to
// casegraph itself: the shell runs casegraph with COMP_LINE set, and run
// answers with the candidates (kongplete, built from the same definitions
// as the parser). bash and zsh use complete -C; fish a function.
type completionCmd struct {
	Shell string `arg:"" enum:"bash,zsh,fish" help:"bash, zsh or fish"`
}

func (c *completionCmd) Run(e *env) error {
	bin, err := os.Executable()
	if err != nil || strings.Contains(bin, "go-build") {
		// go run builds into a temporary folder: name the installed command.
		bin = "casegraph"
	}
	_, err = io.WriteString(e.stdout, completionScript(c.Shell, bin))
	return err
}

// completionScript is the shell code that completes casegraph through bin;
// it is to be evaluated by the shell (eval "$(casegraph completion bash)",
// or casegraph completion fish | source).
func completionScript(shell, bin string) string {
	q := shellQuote(bin)
	switch shell {
	case "zsh":
		return "autoload -U +X bashcompinit && bashcompinit\ncomplete -o default -C " + q + " casegraph\n"
	case "fish":
		return `function __complete_casegraph
    set -lx COMP_LINE (commandline -cp)
    test -z (commandline -ct)
    and set COMP_LINE "$COMP_LINE "
    ` + q + `
end
complete -f -c casegraph -a "(__complete_casegraph)"
`
	}
	return "complete -o default -C " + q + " casegraph\n"
}

// shellQuote quotes s for bash, zsh and fish.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
