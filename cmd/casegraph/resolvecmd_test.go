package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"casegraph/graph"
	"casegraph/store"
	"casegraph/tui"
)

// ftmResolveFixture are three FtM persons without Kazakh ids (so they are
// keyed ftm:…) that match persons of the canonical fixtures: one by phone
// (a deterministic merge with Сейткали Айгерім), two by name and birth date.
const ftmResolveFixture = `{"id":"p1","schema":"Person","properties":{"name":["Akhmetov Zhanbolat Serikuly"],"birthDate":["1985-03-12"]}}
{"id":"p2","schema":"Person","properties":{"name":["S. Aigerim"],"phone":["+7 702 111 22 33"]}}
{"id":"p3","schema":"Person","properties":{"name":["Иванова Марина"],"birthDate":["1992-07-11"]}}
`

var (
	refAkhmetovIIN = graph.Ref{Kind: graph.KindPerson, Key: "850312300002"}
	refSeitkali    = graph.Ref{Kind: graph.KindPerson, Key: "900515300008"}
	refIvanova     = graph.Ref{Kind: graph.KindPerson, Key: "920711400122"}
	refFtmP1       = graph.Ref{Kind: graph.KindPerson, Key: "ftm:p1"}
	refFtmP2       = graph.Ref{Kind: graph.KindPerson, Key: "ftm:p2"}
	refFtmP3       = graph.Ref{Kind: graph.KindPerson, Key: "ftm:p3"}
)

// resolveDB is the canonical fixtures plus the FtM persons above.
func resolveDB(t *testing.T) string {
	t.Helper()
	db := fixtureDB(t)
	f := filepath.Join(t.TempDir(), "persons.ftm.json")
	if err := os.WriteFile(f, []byte(ftmResolveFixture), 0o600); err != nil {
		t.Fatal(err)
	}
	runCmd(t, "import", "--db", db, f)
	return db
}

type resolveOut struct {
	Merges, Proposals []matchJSON
	Entities          int
	Linked, Rejected  int
}

func resolveJSON(t *testing.T, db string) resolveOut {
	t.Helper()
	var out resolveOut
	if err := json.Unmarshal([]byte(runCmd(t, "resolve", "--db", db, "--json")), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func proposalNumber(t *testing.T, r resolveOut, a, b graph.Ref) int {
	t.Helper()
	for i, p := range r.Proposals {
		if p.A == a.String() && p.B == b.String() {
			return i + 1
		}
	}
	t.Fatalf("no proposal %s ~ %s in %+v", a, b, r.Proposals)
	return 0
}

func sameAsOf(t *testing.T, db string, ref graph.Ref) []string {
	t.Helper()
	d, err := store.Open(db, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	rows, _, err := d.Neighbors(context.Background(), ref, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rows {
		if r.Relation == "same_as" {
			out = append(out, r.Dir.Arrow()+r.Ref.String())
		}
	}
	return out
}

func TestResolveCommandApplyRejectRevert(t *testing.T) {
	db := resolveDB(t)
	r := resolveJSON(t, db)
	if len(r.Merges) != 1 || r.Merges[0].A != refSeitkali.String() || r.Merges[0].B != refFtmP2.String() || r.Merges[0].Method != "phone" {
		t.Fatalf("merges: %+v", r.Merges)
	}
	if len(r.Proposals) != 2 || r.Linked != 0 || r.Rejected != 0 {
		t.Fatalf("proposals: %+v", r)
	}
	nAkh := proposalNumber(t, r, refAkhmetovIIN, refFtmP1)
	nIva := proposalNumber(t, r, refIvanova, refFtmP3)
	if r.Proposals[nAkh-1].Method != "skeleton+dob" || r.Proposals[nAkh-1].Score < 0.85 {
		t.Errorf("Akhmetov proposal: %+v", r.Proposals[nAkh-1])
	}
	text := runCmd(t, "resolve", "--db", db)
	if !strings.Contains(text, "deterministic merges: 1") || !strings.Contains(text, "proposals: 2") || !strings.Contains(text, `"Иванова Марина"`) {
		t.Errorf("text output:\n%s", text)
	}

	// Apply the merge, accept Akhmetov, reject Ivanova.
	out := runCmd(t, "resolve", "--db", db, "--apply", "--accept", strconv.Itoa(nAkh), "--reject", strconv.Itoa(nIva))
	if !strings.Contains(out, "wrote 2 same_as links") || !strings.Contains(out, "rejected 1 proposals") {
		t.Fatalf("apply: %s", out)
	}
	if got := sameAsOf(t, db, refAkhmetovIIN); len(got) != 1 || got[0] != "→"+refFtmP1.String() {
		t.Errorf("same_as of Akhmetov: %v", got)
	}
	if got := sameAsOf(t, db, refFtmP2); len(got) != 1 || got[0] != "←"+refSeitkali.String() {
		t.Errorf("same_as of ftm:p2: %v", got)
	}
	show := runCmd(t, "show", "--db", db, refAkhmetovIIN.String())
	if !strings.Contains(show, "same_as") {
		t.Errorf("show lists no same_as link:\n%s", show)
	}
	// Nothing is proposed twice: the decided pairs are left out.
	r = resolveJSON(t, db)
	if len(r.Merges) != 0 || len(r.Proposals) != 0 || r.Linked != 2 || r.Rejected != 1 {
		t.Fatalf("after apply: %+v", r)
	}
	if out := runCmd(t, "resolve", "--db", db, "--apply"); !strings.Contains(out, "nothing to write") {
		t.Errorf("second apply: %s", out)
	}

	// --revert removes the link (given in either order) and the pair is
	// proposed again.
	out = runCmd(t, "resolve", "--db", db, "--revert", refFtmP1.String()+"="+refAkhmetovIIN.String())
	if !strings.Contains(out, "removed same_as") {
		t.Fatalf("revert: %s", out)
	}
	if got := sameAsOf(t, db, refAkhmetovIIN); len(got) != 0 {
		t.Errorf("same_as of Akhmetov after revert: %v", got)
	}
	r = resolveJSON(t, db)
	if len(r.Proposals) != 1 || r.Proposals[0].A != refAkhmetovIIN.String() || r.Linked != 1 || r.Rejected != 1 {
		t.Fatalf("after revert: %+v", r)
	}
	err := runErr("resolve", "--db", db, "--revert", refFtmP1.String()+"="+refAkhmetovIIN.String())
	if !errors.Is(err, graph.ErrNotFound) {
		t.Errorf("revert of a missing link: %v", err)
	}

	// The decisions are journalled with the user.
	d, err := store.Open(db, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	j, err := d.Journal(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	var acts []string
	for _, e := range j {
		acts = append(acts, e.Action)
		if e.User == "" {
			t.Errorf("journal entry %d has no user", e.Seq)
		}
	}
	if strings.Join(acts, ",") != "match.reject,link.remove" {
		t.Errorf("journal: %v", acts)
	}
}

func TestResolveCommandUsageErrors(t *testing.T) {
	db := resolveDB(t)
	for _, args := range [][]string{
		{"--accept", "1"},
		{"--apply", "--accept", "x"},
		{"--apply", "--accept", "1", "--reject", "1"},
		{"--apply", "--accept", "9"},
		{"--revert", "iin:850312300002"},
		{"--revert", "bogus=iin:850312300002"},
		{"--apply", "--revert", "iin:850312300002=iin:ftm:p1"},
		{"extra"},
	} {
		var ue usageError
		err := runErr(append([]string{"resolve", "--db", db}, args...)...)
		if !errors.As(err, &ue) {
			t.Errorf("resolve %v: %v, want a usage error", args, err)
		}
	}
	// A failed --apply writes nothing.
	if r := resolveJSON(t, db); r.Linked != 0 || r.Rejected != 0 {
		t.Errorf("usage errors changed the database: %+v", r)
	}
}

func TestResolveBackend(t *testing.T) {
	ctx := context.Background()
	dir := resolveDB(t)
	db, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	b := newBackend(db)
	var stages []string
	list, err := b.Proposals(ctx, func(stage string, done, total int) {
		if len(stages) == 0 || stages[len(stages)-1] != stage {
			stages = append(stages, stage)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Rows) != 3 || !list.Rows[0].Match.Deterministic || list.Parties < 9 {
		t.Fatalf("proposals: %+v", list)
	}
	if stages[0] != "reading entities" || len(stages) < 3 {
		t.Errorf("progress stages: %v", stages)
	}
	var akh tui.Proposal
	for _, p := range list.Rows {
		if p.Match.A == refAkhmetovIIN {
			akh = p
		}
	}
	if akh.Left.Name != "Ахметов Жанболат Серікұлы" || akh.Left.BirthDate != "1985-03-12" || akh.Right.Name != "Akhmetov Zhanbolat Serikuly" {
		t.Fatalf("Akhmetov proposal sides: %+v", akh)
	}
	l, err := b.Accept(ctx, akh)
	if err != nil {
		t.Fatal(err)
	}
	if l.From != refAkhmetovIIN || l.To != refFtmP1 || !strings.HasSuffix(l.Role, ";decision=accepted") || l.Src.Batch == 0 {
		t.Errorf("accepted link: %+v", l)
	}
	if err := b.Reject(ctx, list.Rows[0]); err != nil {
		t.Fatal(err)
	}
	merged, err := b.Merged(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(merged) != 1 || merged[0].Method != "skeleton+dob" || merged[0].Decision != "accepted" || merged[0].Right.Name != "Akhmetov Zhanbolat Serikuly" {
		t.Fatalf("merged: %+v", merged)
	}
	list, err = b.Proposals(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Rows) != 1 || list.Linked != 1 || list.Rejected != 1 {
		t.Fatalf("after decisions: %+v", list)
	}
	// The link is reverted whichever way round it is named.
	if err := b.Revert(ctx, graph.Link{From: refFtmP1, To: refAkhmetovIIN, Type: graph.LinkSameAs}); err != nil {
		t.Fatal(err)
	}
	if merged, _ := b.Merged(ctx); len(merged) != 0 {
		t.Fatalf("merged after revert: %+v", merged)
	}
	if err := b.Revert(ctx, merged[0].Link); !errors.Is(err, graph.ErrNotFound) {
		t.Errorf("second revert: %v", err)
	}
	st, _ := b.Stats(ctx)
	if st.Links[graph.LinkSameAs] != 0 {
		t.Errorf("stats count %d same_as links", st.Links[graph.LinkSameAs])
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := b.Proposals(cctx, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled resolution: %v", err)
	}
}
