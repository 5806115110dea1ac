package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// runAll runs casegraph and returns stdout, stderr, the error and the exit
// code main would give.
func runAll(t *testing.T, args ...string) (string, string, error, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, &out, &errOut)
	code := 0
	if err != nil {
		code = printError(&errOut, err)
	}
	return out.String(), errOut.String(), err, code
}

// TestTypoSuggests: a mistyped command, subcommand or flag is a usage
// error (exit 2) that names what was meant and where the help is.
func TestTypoSuggests(t *testing.T) {
	db := filepath.Join(t.TempDir(), "db")
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"serch", "x"}, []string{`did you mean one of "search"`, "see casegraph --help"}},
		{[]string{"stat"}, []string{`did you mean`, `"stats"`}},
		{[]string{"search", "--db", db, "--jsno", "x"}, []string{`unknown flag --jsno, did you mean "--json"?`, "see casegraph search --help"}},
		{[]string{"case", "lsit"}, []string{`did you mean "list"`, "see casegraph case --help"}},
		{[]string{"case", "add", "--db", db, "c", "card:1", "--targte", "path"}, []string{`did you mean "--target"`, "see casegraph case add --help"}},
		{[]string{"verdict", "confrim", "card:1"}, []string{`did you mean "confirm"`}},
	} {
		out, errOut, err, code := runAll(t, tc.args...)
		var ue usageError
		if !errors.As(err, &ue) || code != 2 {
			t.Errorf("%v: err %v, exit %d; want a usage error, exit 2", tc.args, err, code)
		}
		for _, w := range tc.want {
			if !strings.Contains(errOut, w) {
				t.Errorf("%v: stderr %q lacks %q", tc.args, errOut, w)
			}
		}
		if out != "" {
			t.Errorf("%v: stdout %q, want nothing", tc.args, out)
		}
		// The short hint, not a page of usage.
		if n := strings.Count(errOut, "\n"); n > 2 {
			t.Errorf("%v: %d lines on stderr:\n%s", tc.args, n, errOut)
		}
	}
}

// TestPerCommandHelp: --help (and casegraph help CMD) prints that
// command's own arguments and flags, on stdout, exit 0.
func TestPerCommandHelp(t *testing.T) {
	for _, tc := range []struct {
		args      []string
		want, not []string
	}{
		{[]string{"search", "--help"}, []string{"Usage: casegraph search", "--kind=KIND", "--limit=N", "--db=DIR", "<query>"}, []string{"--tag", "--authorized-keys"}},
		{[]string{"case", "add", "--help"}, []string{"Usage: casegraph case add <case> <ref> ...", "--tag=TAG", "--target=", "--force"}, []string{"--remove", "--json"}},
		{[]string{"case", "tag", "-h"}, []string{"casegraph case tag", "--remove"}, []string{"--tag=", "--force"}},
		{[]string{"case", "list", "--help"}, []string{"--json"}, []string{"--note", "--remove"}},
		{[]string{"help", "verdict", "confirm"}, []string{"casegraph verdict confirm", "--note=TEXT", "<ref>"}, []string{"--json"}},
		{[]string{"import", "--help"}, []string{"--db=DIR", "(required)", "--profile=NAME|FILE", "bank-statement"}, nil},
		{[]string{"path", "--help"}, []string{"--max-hops=N", "(1–6)"}, nil},
		{[]string{"case", "help"}, []string{"case add", "case undo"}, nil},
		{[]string{"verdict"}, []string{"verdict confirm", "verdict list"}, nil},
		{[]string{"help"}, []string{"Usage: casegraph", "search", "completion", "--key-file FILE"}, nil},
	} {
		out, errOut, err, code := runAll(t, tc.args...)
		if err != nil || code != 0 {
			t.Errorf("%v: %v (exit %d) %s", tc.args, err, code, errOut)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%v: help lacks %q:\n%s", tc.args, w, out)
			}
		}
		for _, w := range tc.not {
			if strings.Contains(out, w) {
				t.Errorf("%v: help shows another command's %q:\n%s", tc.args, w, out)
			}
		}
	}
}

// TestCaseSubcommandsOwnFlags: a case subcommand refuses a flag of
// another (they shared one flag set before).
func TestCaseSubcommandsOwnFlags(t *testing.T) {
	db := filepath.Join(t.TempDir(), "db")
	runCmd(t, "import", "--db", db, filepath.Join("..", "..", "testdata", "canonical"))
	runCmd(t, "case", "new", "--db", db, "x")
	for _, args := range [][]string{
		{"case", "list", "--db", db, "--tag", "t"},
		{"case", "new", "--db", db, "y", "--force"},
		{"case", "rm", "--db", db, "x", "--json"},
		{"verdict", "clear", "--db", db, "card:4400430000000015", "--note", "n"},
	} {
		if _, _, err, code := runAll(t, args...); code != 2 || !strings.Contains(err.Error(), "unknown flag") {
			t.Errorf("%v: %v (exit %d), want unknown flag, exit 2", args, err, code)
		}
	}
	// What is the same as before: flags after arguments, --flag=value,
	// a value that starts with "-".
	runCmd(t, "case", "add", "x", "card:4400430000000015", "--db="+db, "--tag", "-odd-", "--note", "-- see the statement")
	out := runCmd(t, "case", "show", "--db", db, "--json", "x")
	if !strings.Contains(out, "-odd-") || !strings.Contains(out, "-- see the statement") {
		t.Errorf("tag or note starting with '-' lost:\n%s", out)
	}
}

// TestExitCodes: a failure exits 1, a usage error 2, help 0.
func TestExitCodes(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope")
	if _, _, _, code := runAll(t, "stats", "--db", missing); code != 1 {
		t.Errorf("missing database: exit %d, want 1", code)
	}
	if _, _, _, code := runAll(t, "search", "--db", missing); code != 2 {
		t.Errorf("search without a query: exit %d, want 2", code)
	}
	if _, _, _, code := runAll(t, "stats", "--help"); code != 0 {
		t.Errorf("stats --help: exit %d, want 0", code)
	}
}

// TestCompletion: the shell asks with COMP_LINE set; casegraph answers
// with the commands, subcommands and flags that fit, from the same
// definitions as the parser. completion SHELL prints the wiring.
func TestCompletion(t *testing.T) {
	for _, tc := range []struct {
		line      string
		want, not []string
	}{
		{"casegraph ca", []string{"calibrate", "case"}, []string{"search"}},
		{"casegraph case ", []string{"add", "list", "undo"}, []string{"search"}},
		{"casegraph search --", []string{"--db", "--json", "--kind", "--limit"}, []string{"--tag"}},
		{"casegraph case add --t", []string{"--tag", "--target"}, []string{"--remove"}},
		{"casegraph completion ", []string{"bash", "fish", "zsh"}, nil},
	} {
		t.Setenv("COMP_LINE", tc.line)
		t.Setenv("COMP_POINT", "")
		out, errOut, err, _ := runAll(t)
		if err != nil {
			t.Errorf("%q: %v %s", tc.line, err, errOut)
			continue
		}
		got := strings.Fields(out)
		for _, w := range tc.want {
			if !slices.Contains(got, w) {
				t.Errorf("%q: candidates %v lack %q", tc.line, got, w)
			}
		}
		for _, w := range tc.not {
			if slices.Contains(got, w) {
				t.Errorf("%q: candidates %v hold %q", tc.line, got, w)
			}
		}
	}
	os.Unsetenv("COMP_LINE")
	for shell, want := range map[string]string{
		"bash": "complete -o default -C ",
		"zsh":  "bashcompinit",
		"fish": "complete -f -c casegraph -a \"(__complete_casegraph)\"",
	} {
		out, errOut, err, _ := runAll(t, "completion", shell)
		if err != nil || !strings.Contains(out, want) {
			t.Errorf("completion %s: %v %s\n%s", shell, err, errOut, out)
		}
	}
	if _, _, _, code := runAll(t, "completion", "tcsh"); code != 2 {
		t.Errorf("completion tcsh: exit %d, want 2", code)
	}
	if got := shellQuote("/a b/it's"); got != `'/a b/it'\''s'` {
		t.Errorf("shellQuote: %s", got)
	}
}

// TestSingleDashFlags: "-db DIR -json", as the flag package took them,
// still work; a value that looks like a flag stays a value.
func TestSingleDashFlags(t *testing.T) {
	parser, err := newParser(&bytes.Buffer{}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ in, want []string }{
		{[]string{"search", "-db", "x", "-json", "q"}, []string{"search", "--db", "x", "--json", "q"}},
		{[]string{"search", "-limit=5", "-h"}, []string{"search", "--limit=5", "-h"}},
		{[]string{"case", "add", "--note", "-json", "c", "r"}, []string{"case", "add", "--note", "-json", "c", "r"}},
		{[]string{"case", "note", "c", "-", "--", "-db"}, []string{"case", "note", "c", "-", "--", "-db"}},
		{[]string{"search", "-nosuchflag"}, []string{"search", "-nosuchflag"}},
	} {
		if got := singleDashFlags(parser, tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("%v: %v, want %v", tc.in, got, tc.want)
		}
	}
	db := filepath.Join(t.TempDir(), "db")
	runCmd(t, "import", "-db", db, filepath.Join("..", "..", "testdata", "canonical"))
	if out := runCmd(t, "stats", "-db", db, "-json"); !strings.HasPrefix(strings.TrimSpace(out), "{") {
		t.Errorf("stats -db -json: %s", out)
	}
}
