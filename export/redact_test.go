package export

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"casegraph/graph"
)

func TestScrub(t *testing.T) {
	cases := []struct{ in, want string }{
		{"card " + panA, "card 440043******0015"},
		{"card:" + panA, "card:440043******0015"},
		{"4400 4300 0000 0015 and 4003-0312-3456-7893", "440043******0015 and 400303******7893"},
		{"IIN " + iinA + ",", "IIN ********0002,"},
		{"ИИН850312300002", "ИИН********0002"},
		{"850312 300002", "********0002"},
		{"+77015551234", "+7********34"},
		{"звоните +7 (701) 555-12-34!", "звоните +7********34!"},
		{"8 701 555 12 34", "+7********34"},
		{"87470001122", "+7********22"},
		// Not identifiers: left alone.
		{iban, iban},
		{"T000001 order 8841 amount 495000.00", "T000001 order 8841 amount 495000.00"},
		{"4400430000000016", "4400430000000016"}, // fails Luhn
		{"850312300003", "850312300003"},         // fails the IIN checksum
		{"sha 1a2b850312300002ff", "sha 1a2b850312300002ff"},
		{"Ахметов Жанболат", "Ахметов Жанболат"},
	}
	for _, c := range cases {
		if got := scrub(c.in); got != c.want {
			t.Errorf("scrub(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// leaks are patterns of unmasked identifiers: a full PAN, an IIN or a phone
// number in any of the forms the fixture uses.
func leaks(s string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`\d[\d \-()]{10,24}\d`).FindAllString(s, -1) {
		dg := onlyDigits(m)
		for i := 0; i < len(dg); i++ {
			for j := i + 11; j <= len(dg) && j <= i+19; j++ {
				run := dg[i:j]
				switch {
				case len(run) == 12 && iinValid(run) && (run == iinA || run == iinB || run == iinC):
					out = append(out, "IIN "+m)
				case len(run) >= 13 && luhnValid(run) && (run == panA || run == panB || run == panC):
					out = append(out, "PAN "+m)
				case len(run) == 11 && (run[1:] == phoneA[2:] || run[1:] == phoneB[2:]):
					out = append(out, "phone "+m)
				}
			}
		}
	}
	return out
}

func TestRedactionLeavesNoIdentifier(t *testing.T) {
	plain, _ := export(t, fixture(), false)
	red, _ := export(t, fixture(), true)
	// The scan must find the identifiers in an unredacted export, or it
	// proves nothing about the redacted one.
	found := map[string]bool{}
	for _, b := range readAll(t, plain) {
		for _, l := range leaks(string(b)) {
			found[strings.Fields(l)[0]] = true
		}
	}
	if !found["IIN"] || !found["PAN"] || !found["phone"] {
		t.Fatalf("leak scan does not see the plain identifiers: %v", found)
	}
	files := readAll(t, red)
	for _, name := range sortedKeys(files) {
		s := string(files[name])
		for _, l := range leaks(s) {
			t.Errorf("%s: unmasked %s", name, l)
		}
		for _, raw := range []string{iinA, iinB, iinC, panA, panB, panC, phoneA, phoneB, "1985-03-12"} {
			if strings.Contains(s, raw) {
				t.Errorf("%s contains %s", name, raw)
			}
		}
	}
	// The same identifier reads the same pseudonym in every file.
	for _, name := range []string{"entities.csv", "transactions.csv", "graph.graphml", "graph.gexf", "entities.ftm.json",
		"report.html", "report.md", "i2_import.csv", "case.json", "links.csv"} {
		if !bytes.Contains(files[name], []byte(psOf(graph.KindCard, panA))) {
			t.Errorf("%s does not show card %s as its pseudonym", name, panA)
		}
	}
	for _, name := range []string{"entities.csv", "graph.graphml", "case.json", "entities.ftm.json"} {
		if !bytes.Contains(files[name], []byte(psOf(graph.KindPerson, iinA))) {
			t.Errorf("%s does not show IIN %s as its pseudonym", name, iinA)
		}
	}
	// The holder of card A is person A: one pseudonym for both.
	if !bytes.Contains(files["entities.csv"], []byte("holder_iin="+psOf(graph.KindPerson, iinA))) ||
		!bytes.Contains(files["entities.csv"], []byte("phone="+psOf(graph.KindPhone, phoneA))) {
		t.Errorf("entities.csv does not give the holder and the phone their pseudonyms")
	}
	if !bytes.Contains(files["manifest.json"], []byte(`"redacted": true`)) ||
		!bytes.Contains(files["manifest.json"], []byte("bookmark card:"+psOf(graph.KindCard, panB))) {
		t.Errorf("manifest does not record redacted queries")
	}
	// Names, addresses, IBANs, devices, IPs, wallets and domains go too.
	for _, name := range sortedKeys(files) {
		for _, gone := range []string{iban, "KZ45 722S", "Ахметов", "Жанболат", "Иванова", "Sarsenov", "Абая", "ТенгеОбмен24",
			"tengeobmen24", "DEV-9F3A", "10.1.2.3", "TXYZ9fGh2kLmN", "EX-0001"} {
			if bytes.Contains(bytes.ToLower(files[name]), bytes.ToLower([]byte(gone))) {
				t.Errorf("%s still holds %s", name, gone)
			}
		}
	}
	// Redaction keeps what is not an identifier.
	for _, keep := range []string{"T000005", "KZT", "ATM-ALA-0042", "Kaspi Bank", "G-ALA-3"} {
		if !bytes.Contains(files["transactions.csv"], []byte(keep)) && !bytes.Contains(files["entities.csv"], []byte(keep)) {
			t.Errorf("redaction removed %s", keep)
		}
	}
}

// Pseudonyms do not link two exports unless they share a key.
func TestPseudonymsDoNotLinkExports(t *testing.T) {
	ps := func(opts Options) []byte {
		dir := filepath.Join(t.TempDir(), "x")
		if _, err := Write(dir, fixture(), opts); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dir, "entities.csv"))
		if err != nil {
			t.Fatal(err)
		}
		return pseudonymShape.FindAll(b, -1)[0]
	}
	a, b := ps(Options{Redact: true}), ps(Options{Redact: true})
	if bytes.Equal(a, b) {
		t.Errorf("two exports without a key share the pseudonym %s", a)
	}
	k := []byte("shared key")
	if a, b := ps(Options{Redact: true, PseudonymKey: k}), ps(Options{Redact: true, PseudonymKey: k}); !bytes.Equal(a, b) {
		t.Errorf("a shared key gave %s and %s", a, b)
	}
}

// TestHTMLRendersInChromium opens report.html in headless Chromium and
// checks that a screenshot of the first page comes out.
func TestHTMLRendersInChromium(t *testing.T) {
	var bin string
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		t.Skip("chromium not installed (apt-get install -y chromium): HTML screenshot test skipped")
	}
	dir, _ := export(t, fixture(), true)
	shot := filepath.Join(t.TempDir(), "report.png")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(), "--screenshot="+shot, "--window-size=1200,900",
		"file://"+filepath.Join(dir, "report.html"))
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	png, err := os.ReadFile(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v\n%s", err, out)
	}
	if len(png) < 10_000 || !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("screenshot is not a plausible PNG (%d bytes)", len(png))
	}
	if keep := os.Getenv("CASEGRAPH_KEEP_SCREENSHOT"); keep != "" {
		if err := os.WriteFile(keep, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// spellings are the ways investigators and banks write the fixture's card
// panA, IIN iinA and phone phoneA (and a second phone and IIN written only
// loosely): grouped by spaces, no-break spaces, dots, slashes, hyphens,
// parentheses, with and without country or trunk code.
var spellings = []string{
	"4400430000000015", "4400 4300 0000 0015", "4400-4300-0000-0015", "4400.4300.0000.0015", "4400/4300/0000/0015",
	"4400 430000000015", "440043 0000000015", "4400\u00a04300\u00a00000\u00a00015", "card4400430000000015",
	"850312300002", "850312 300002", "850312-300002", "850312.300002", "850312/300002", "850 312 300 002",
	"850312-050003",
	"+77015551234", "+7 701 555 12 34", "+7 (701) 555-12-34", "87015551234", "8 701 555 12 34", "8(701)555-12-34",
	"7015551234", "701 555 12 34", "(701) 555-12-34", "+7.701.555.12.34", "7778945477", "8 778 894 54 77",
	"+7-778-894-54-77",
}

// secretDigits are the digits that must not survive redaction, however
// they are grouped: the PAN, the IINs, and the phones without their
// country or trunk digit.
var secretDigits = []string{panA, iinA, "850312050003", "7015551234", "7778945477"}

// spelledInput puts every spelling into every kind of free text and into
// the source file names.
func spelledInput() Input {
	in := fixture()
	all := strings.Join(spellings, "; ")
	in.Case.Description = "Spellings: " + all
	in.Case.Notes = append(in.Case.Notes, Note{Time: at("2025-03-18T09:00:00Z"), Text: all})
	for i := range in.Entities {
		s := spellings[i%len(spellings)]
		e := &in.Entities[i]
		if e.Name != "" {
			e.Name += " " + s
		}
		if e.Props != nil {
			e.Props["remark"] = "see " + spellings[(i+7)%len(spellings)]
		}
		e.Src.File = "in/" + spellings[(i+3)%len(spellings)] + "_" + strings.ReplaceAll(spellings[(i+11)%len(spellings)], " ", "") + ".csv"
	}
	for i := range in.Txns {
		in.Txns[i].Reference = "ref " + spellings[(i*5)%len(spellings)] + " / " + spellings[(i*5+2)%len(spellings)]
		in.Txns[i].Src.File = "statement_" + spellings[(i*3)%len(spellings)] + ".csv"
	}
	for i := range in.Links {
		in.Links[i].Src.File = spellings[(i*2)%len(spellings)] + ".csv"
	}
	in.Flags[0].Reason += " " + spellings[5] + " " + spellings[13]
	in.Sources = append(in.Sources, graph.Batch{ID: 7, File: "data/card4400430000000015/iin 850312-300002 tel 8 778 894 54 77.csv",
		SHA256: "77", Format: "transactions"})
	in.Queries = append(in.Queries, "search "+all)
	return in
}

// TestRedactionCatchesEverySpelling scans every file of a redacted export
// for the secret digits in any grouping, glued to letters or not.
func TestRedactionCatchesEverySpelling(t *testing.T) {
	cluster := regexp.MustCompile(`[0-9](?:[0-9 \x{00a0}.\-/()+]*[0-9])?`)
	scan := func(files map[string][]byte) map[string][]string {
		found := map[string][]string{}
		for _, name := range sortedKeys(files) {
			for _, m := range cluster.FindAllString(string(files[name]), -1) {
				dg := onlyDigits(m)
				for _, secret := range secretDigits {
					if strings.Contains(dg, secret) {
						found[secret] = append(found[secret], name+": "+m)
					}
				}
			}
		}
		return found
	}
	plain, _ := export(t, spelledInput(), false)
	if found := scan(readAll(t, plain)); len(found) != len(secretDigits) {
		t.Fatalf("the scan does not see every identifier in the plain export: %v", found)
	}
	red, _ := export(t, spelledInput(), true)
	for secret, where := range scan(readAll(t, red)) {
		for _, w := range where {
			t.Errorf("%s survives redaction in %s", secret, w)
		}
	}
	// Every spelling of each identifier is masked the same way.
	for _, s := range spellings {
		got := scrub("x " + s + " x")
		if strings.HasPrefix(s, "card") {
			got = scrubFileName(s)
		}
		switch {
		case strings.Contains(got, "440043******0015"), strings.Contains(got, "********0002"),
			strings.Contains(got, "********0003"), strings.Contains(got, "+7********34"), strings.Contains(got, "+7********77"):
		default:
			t.Errorf("%q redacts to %q", s, got)
		}
	}
}
