package export

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"casegraph/graph"
)

func readCase(t *testing.T, dir string) (graph.Case, []byte) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "case.json"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte(`"format"`)) {
		t.Errorf("case.json still has the old format field")
	}
	var c graph.Case
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatalf("case.json is not a graph.Case: %v", err)
	}
	return c, b
}

func TestCaseJSONOfLooseExport(t *testing.T) {
	dir, _ := export(t, fixture(), false)
	c, _ := readCase(t, dir)
	// Three bookmarks, plus the dated note on a person nobody bookmarked.
	if c.Name != fixture().Case.Name || c.Status != graph.CaseOpen || len(c.Bookmarks) != 4 {
		t.Fatalf("case.json: %+v", c)
	}
	first := c.Bookmarks[0]
	if first.Target.Kind != graph.TargetEntity || first.Target.Refs[0] != ref(graph.KindPerson, iinA) ||
		first.Note != "organiser, IIN "+iinA || strings.Join(first.Tags, ",") != "organiser" {
		t.Errorf("first bookmark %+v", first)
	}
	last := c.Bookmarks[3]
	if last.Target.Refs[0] != ref(graph.KindPerson, iinB) || !strings.HasPrefix(last.Note, "2025-03-15T08:00:00Z  Dropper says") {
		t.Errorf("note on an entity: %+v", last)
	}
	if !strings.HasPrefix(c.Notes, "Dropper network") || !strings.Contains(c.Notes, "2025-03-16T09:00:00Z  Card 4400") {
		t.Errorf("case notes: %q", c.Notes)
	}
}

// storedCase is a case as the store keeps it: a cluster, an entity and a
// path bookmark, with times in a non-UTC zone.
func storedCase() graph.Case {
	pA, pB := ref(graph.KindPerson, iinA), ref(graph.KindPerson, iinB)
	cA, cB := ref(graph.KindCard, panA), ref(graph.KindCard, panB)
	ex := ref(graph.KindExchange, "EX-0001")
	t0 := at("2025-04-01T05:00:00Z").In(almatyForTest())
	return graph.Case{ID: "c-7f3a", Name: "AFM-2025-0813", Status: graph.CaseReferred, Notes: "handed over",
		Tags: []string{"droppers"}, Created: t0, Updated: t0.Add(90 * 60e9),
		Bookmarks: []graph.Bookmark{
			{ID: "b-1", Target: graph.Target{Kind: graph.TargetCluster, Refs: []graph.Ref{pA, cA, cB},
				Query: "clusters by turnover #3", Label: "cluster #3 · 3 members · 48.20M ₸"},
				Tags: []string{"ring"}, Note: "cash-out ring", Created: t0, Updated: t0},
			{ID: "b-2", Target: graph.EntityTarget(cB, ""), Note: "dropper card", Created: t0, Updated: t0},
			{ID: "b-3", Target: graph.Target{Kind: graph.TargetPath, Refs: []graph.Ref{pB, cB, ex},
				Query: "path iin:" + iinB + " → exchange:EX-0001 ≤ 4 hops"}, Created: t0, Updated: t0},
		}}
}

func almatyForTest() *time.Location {
	loc, err := time.LoadLocation("Asia/Almaty")
	if err != nil {
		panic(err)
	}
	return loc
}

func TestFromCaseFlattensMembers(t *testing.T) {
	c := FromCase(storedCase())
	if c.Record == nil || c.Record.ID != "c-7f3a" || c.Name != "AFM-2025-0813" || len(c.Notes) != 1 {
		t.Fatalf("FromCase: %+v", c)
	}
	// pA, cA, cB (cluster; cB also bookmarked alone), then pB and ex (path).
	var refs []string
	for _, b := range c.Bookmarks {
		refs = append(refs, b.Ref.String())
	}
	want := []string{"iin:" + iinA, "card:" + panA, "card:" + panB, "iin:" + iinB, "exchange:EX-0001"}
	if strings.Join(refs, " ") != strings.Join(want, " ") {
		t.Fatalf("bookmarked entities %v, want %v", refs, want)
	}
	cb := c.Bookmarks[2]
	if !strings.Contains(cb.Note, "in cluster cluster #3") || !strings.Contains(cb.Note, "cash-out ring") ||
		!strings.Contains(cb.Note, "dropper card") || strings.Join(cb.Tags, ",") != "ring" {
		t.Errorf("card in a cluster and bookmarked alone: %+v", cb)
	}
}

func TestCaseJSONIsTheStoredCase(t *testing.T) {
	in := fixture()
	in.Case = FromCase(storedCase())
	dir, _ := export(t, in, false)
	c, raw := readCase(t, dir)
	want := storedCase()
	if c.ID != want.ID || c.Status != graph.CaseReferred || !c.Created.Equal(want.Created) ||
		!c.Updated.Equal(want.Updated) || len(c.Bookmarks) != 3 {
		t.Fatalf("case.json: %+v", c)
	}
	if !bytes.Contains(raw, []byte(`"created": "2025-04-01T05:00:00Z"`)) {
		t.Errorf("times not written in UTC:\n%s", raw)
	}
	cl := c.Bookmarks[0]
	if cl.ID != "b-1" || cl.Target.Kind != graph.TargetCluster || len(cl.Target.Refs) != 3 ||
		cl.Target.Query != "clusters by turnover #3" || cl.Target.Label != want.Bookmarks[0].Target.Label {
		t.Errorf("cluster bookmark: %+v", cl)
	}
	if p := c.Bookmarks[2]; p.Target.Kind != graph.TargetPath || p.Target.Refs[2] != ref(graph.KindExchange, "EX-0001") {
		t.Errorf("path bookmark: %+v", p)
	}
	// The same case exported again, its input shuffled, is byte-identical.
	in2 := shuffled()
	in2.Case = FromCase(storedCase())
	dir2, _ := export(t, in2, false)
	if _, raw2 := readCase(t, dir2); !bytes.Equal(raw, raw2) {
		t.Error("case.json differs between two exports of the same case")
	}

	red, _ := export(t, in, true)
	rc, rraw := readCase(t, red)
	for _, s := range []string{iinA, iinB, panA, panB} {
		if bytes.Contains(rraw, []byte(s)) {
			t.Errorf("redacted case.json contains %s", s)
		}
	}
	if got := rc.Bookmarks[0].Target.Refs[1].Key; got != psOf(graph.KindCard, panA) {
		t.Errorf("redacted cluster member %q", got)
	}
}
