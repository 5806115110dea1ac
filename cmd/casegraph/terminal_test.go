package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// hostileName clears the screen, writes the clipboard (OSC 52), sends an
// 8-bit CSI and reverses the rest of the line.
const hostileName = "Evil\x1b]52;c;cm0gLXJmIH4K\a\x1b[2J\u009b31m\u202egpj.exe Name"

// hostileDB imports a person with hostileName, a card and a transaction
// whose reference carries escapes.
func hostileDB(t *testing.T) string {
	t.Helper()
	data := t.TempDir()
	files := map[string]string{
		"persons.csv": "iin,name,birth_date,phone,address,nationality\n" +
			"850312300002,\"" + hostileName + "\",1985-03-12,+7 701 555 1234,\"\x1b[31mAlmaty\u202e\",KZ\n",
		"cards.csv": "holder_iin,pan,bank,iban,issued,status,product\n" +
			"850312300002,4400430000000015,\"Bank\x1b[2J\",,2025-01-10,active,\n" +
			"850312300002,4003031234567893,Halyk,,2025-01-10,active,\n",
		"transactions.csv": "tx_id,time,from,to,amount,currency,channel,atm_id,device_id,ip,iin_provided,app_confirmed,reference,city\n" +
			"T000001,2025-03-13 10:22:00,card:4400430000000015,card:4003031234567893,495000,KZT,transfer,,,,,,\"\x1b]0;pwned\a ref\",\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(data, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	db := filepath.Join(t.TempDir(), "db")
	out, errOut, err := runBoth(t, "import", "--db", db, data)
	if err != nil {
		t.Fatalf("import: %v\n%s", err, errOut)
	}
	if bad := rawControls(out + errOut); bad != nil {
		t.Errorf("import printed raw %q:\n%s%s", bad, out, errOut)
	}
	return db
}

// rawControls reports the terminal controls and bidi overrides left in s.
func rawControls(s string) []string {
	var out []string
	for _, bad := range []string{"\x1b", "\a", "\u009b", "\u202e", "\r"} {
		if strings.Contains(s, bad) {
			out = append(out, strings.ToValidUTF8(bad, "?"))
		}
	}
	return out
}

// runBoth runs a command and returns its stdout and stderr.
func runBoth(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, &out, &errOut)
	return out.String(), errOut.String(), err
}

// TestCLIOutputIsInert: search, show, case, path and trace print names with
// every control shown as a visible escape; their JSON keeps the name exact
// but holds no raw control either.
func TestCLIOutputIsInert(t *testing.T) {
	db := hostileDB(t)
	runCmd(t, "case", "new", "--db", db, "Ring\x1b[2J\u202e")
	runCmd(t, "case", "add", "--db", db, "Ring\x1b[2J\u202e", "iin:850312300002", "--note", "see \x1b]52;c;eA==\a")
	cmds := [][]string{
		{"search", "--db", db, "Evil"},
		{"show", "--db", db, "iin:850312300002"},
		{"show", "--db", db, "card:4400430000000015"},
		{"case", "list", "--db", db},
		{"case", "show", "--db", db, "Ring\x1b[2J\u202e"},
		{"path", "--db", db, "iin:850312300002", "card:4003031234567893"},
		{"trace", "--db", db, "card:4400430000000015"},
		{"stats", "--db", db},
		{"journal", "--db", db},
	}
	sawName := false
	for _, args := range cmds {
		out, errOut, err := runBoth(t, args...)
		if err != nil {
			t.Errorf("%s: %v\n%s", args[0], err, errOut)
			continue
		}
		if bad := rawControls(out + errOut); bad != nil {
			t.Errorf("%s %s: raw %q in\n%s", args[0], args[len(args)-1], bad, out)
		}
		sawName = sawName || strings.Contains(out, `Evil␛]52;c;cm0gLXJmIH4K␇␛[2J\u009b31m\u202egpj.exe Name`)
	}
	if !sawName {
		t.Error("no command showed the hostile name with visible escapes")
	}
	for _, args := range [][]string{
		{"search", "--db", db, "--json", "Evil"},
		{"show", "--db", db, "--json", "iin:850312300002"},
		{"case", "show", "--db", db, "--json", "Ring\x1b[2J\u202e"},
	} {
		out, errOut, err := runBoth(t, args...)
		if err != nil {
			t.Errorf("%s --json: %v\n%s", args[0], err, errOut)
			continue
		}
		if bad := rawControls(out); bad != nil {
			t.Errorf("%s --json: raw %q", args[0], bad)
		}
		var v any
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Errorf("%s --json: not JSON: %v", args[0], err)
		}
		if args[0] != "case" && !strings.Contains(jsonStrings(v), hostileName) {
			t.Errorf("%s --json does not round-trip the name", args[0])
		}
	}
	// Errors name what the user typed or what a file held: main prints
	// them escaped too.
	for _, args := range [][]string{
		{"show", "--db", db, "card:\x1b[2J\u202e"},
		{"case", "show", "--db", db, "\x1b]52;c;eA==\a"},
		{"import", "--db", db, filepath.Join(t.TempDir(), "\x1b[2Jmissing.csv")},
	} {
		_, _, err := runBoth(t, args...)
		if err == nil {
			t.Errorf("%s: no error", args[0])
			continue
		}
		var buf bytes.Buffer
		printError(&buf, err)
		if bad := rawControls(buf.String()); bad != nil {
			t.Errorf("%s error: raw %q in %q", args[0], bad, buf.String())
		}
	}
}

// jsonStrings joins every string in a decoded JSON value.
func jsonStrings(v any) string {
	var b strings.Builder
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			b.WriteString(x + "\n")
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	return b.String()
}
