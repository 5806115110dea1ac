package tui

import (
	"context"
	"fmt"
	"go/ast"
	"reflect"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"casegraph/graph"

	_ "time/tzdata"
)

// run delivers msg and then every message its commands produce, depth
// first, flattening batches. Quit and unexported runtime requests stop there.
func run(t *testing.T, m *Model, msg tea.Msg) {
	t.Helper()
	queue := []tea.Msg{msg}
	for steps := 0; len(queue) > 0; steps++ {
		if steps > 500 {
			t.Fatal("message loop did not settle")
		}
		msg := queue[0]
		queue = queue[1:]
		if _, ok := msg.(tea.QuitMsg); ok {
			continue
		}
		_, cmd := m.Update(msg)
		queue = append(expand(cmd), queue...)
	}
}

// expand runs a command and flattens batches into messages.
func expand(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	msg := cmd()
	if b, ok := msg.(tea.BatchMsg); ok {
		var out []tea.Msg
		for _, c := range b {
			out = append(out, expand(c)...)
		}
		return out
	}
	if msg == nil {
		return nil
	}
	// Bubble Tea's own requests (background colour, window size) are
	// answered by the runtime, not by the model.
	if typ := reflect.TypeOf(msg); strings.HasPrefix(typ.PkgPath(), "charm.land/bubbletea") && !ast.IsExported(typ.Name()) {
		return nil
	}
	return []tea.Msg{msg}
}

func keyPress(s string) tea.KeyPressMsg {
	switch s {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "shift+tab":
		return tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "left":
		return tea.KeyPressMsg{Code: tea.KeyLeft}
	case "right":
		return tea.KeyPressMsg{Code: tea.KeyRight}
	case "backspace":
		return tea.KeyPressMsg{Code: tea.KeyBackspace}
	case "pgdown":
		return tea.KeyPressMsg{Code: tea.KeyPgDown}
	case "pgup":
		return tea.KeyPressMsg{Code: tea.KeyPgUp}
	case "ctrl+c":
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	}
	r := []rune(s)[0]
	return tea.KeyPressMsg{Code: r, Text: s}
}

func press(t *testing.T, m *Model, keys ...string) {
	t.Helper()
	for _, k := range keys {
		run(t, m, keyPress(k))
	}
}

func typeText(t *testing.T, m *Model, s string) {
	t.Helper()
	for _, r := range s {
		run(t, m, tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

func newModel(t *testing.T, w, h int, opts Options) (*Model, *fakeBackend) {
	t.Helper()
	f := newFake()
	m := New(f, opts)
	fixed := time.Date(2025, 3, 20, 9, 0, 0, 0, time.UTC)
	m.search.SetClock(func() time.Time { return fixed })
	run(t, m, tea.WindowSizeMsg{Width: w, Height: h})
	for _, msg := range expand(m.Init()) {
		run(t, m, msg)
	}
	return m, f
}

func screenText(m *Model) string { return ansi.Strip(m.View().Content) }

func requireContains(t *testing.T, m *Model, want ...string) {
	t.Helper()
	s := screenText(m)
	for _, w := range want {
		if !strings.Contains(s, w) {
			t.Fatalf("screen lacks %q:\n%s", w, s)
		}
	}
}

func TestLayoutFitsEverySize(t *testing.T) {
	for w := 40; w <= 220; w += 7 {
		for h := 10; h <= 70; h += 5 {
			l := computeLayout(w, h)
			if w < MinWidth || h < MinHeight {
				if !l.TooSmall {
					t.Fatalf("%d×%d: want too small", w, h)
				}
				continue
			}
			if l.Header.H+l.Body.H+l.Footer.H+l.Status.H != h {
				t.Fatalf("%d×%d: rows do not add up: %+v", w, h, l)
			}
			if l.Props.W+l.Neighbors.W != w || l.Props.H != l.Neighbors.H || l.Props.H+l.Txns.H != l.Body.H {
				t.Fatalf("%d×%d: entity panes do not tile the body: %+v", w, h, l)
			}
			if l.Txns.H < 5 || l.Props.H < 8 || l.Neighbors.W < 26 {
				t.Fatalf("%d×%d: a pane is too small: %+v", w, h, l)
			}
		}
	}
}

func TestEveryLineFitsTheTerminal(t *testing.T) {
	for _, sz := range [][2]int{{80, 24}, {120, 40}, {200, 60}, {61, 17}} {
		m, _ := newModel(t, sz[0], sz[1], Options{Start: &refCard})
		for _, step := range [][]string{nil, {"g"}, {"esc", "/"}} {
			press(t, m, step...)
			lines := strings.Split(m.View().Content, "\n")
			if len(lines) != sz[1] {
				t.Fatalf("%v after %v: %d lines, want %d", sz, step, len(lines), sz[1])
			}
			for i, l := range lines {
				if w := ansi.StringWidth(l); w > sz[0] {
					t.Fatalf("%v after %v: line %d is %d wide: %q", sz, step, i, w, ansi.Strip(l))
				}
			}
		}
	}
}

func TestHomeShowsStats(t *testing.T) {
	m, _ := newModel(t, 120, 40, Options{})
	requireContains(t, m, "casegraph", "home", "person", "total", "topup", "cash_out",
		"txns.csv", "131", "press / to search", "demo.db · 11 entities · 130 tx")
}

func TestSearchOpensEntity(t *testing.T) {
	m, _ := newModel(t, 120, 40, Options{})
	press(t, m, "/")
	if m.screenName() != "search" {
		t.Fatal("/ did not open search")
	}
	typeText(t, m, "жанбол")
	res := m.search.Result()
	if len(res.Hits) != 2 {
		t.Fatalf("hits = %+v, want Ахметов Жанболат and the group", res.Hits)
	}
	requireContains(t, m, "PERSON", "Ахметов Жанболат Серікұлы", "GROUP", "2 of 2 matches")
	// q is typed, not a quit, while the input has focus.
	typeText(t, m, "q")
	if m.search.Query() != "жанболq" {
		t.Fatalf("query = %q", m.search.Query())
	}
	press(t, m, "backspace", "enter")
	if (m.screenName() == "search") || m.screenName() != "entity" || m.ent.ref != refAkhmetov {
		t.Fatalf("enter did not open the person: open=%v screen=%v ref=%v", (m.screenName() == "search"), m.screenName(), m.ent.ref)
	}
	requireContains(t, m, "IIN 850312 300002", "holds", "member_of", "Жанболат & Co", "source", "persons.csv:2 · import #1")
}

func TestSearchMatchInTerm(t *testing.T) {
	m, _ := newModel(t, 120, 40, Options{})
	press(t, m, "/")
	typeText(t, m, "850312300002")
	requireContains(t, m, "PERSON", "Ахметов Жанболат Серікұлы", "matched: 850312300002", "IIN 850312 300002")
}

func TestSearchDropsStaleResults(t *testing.T) {
	m, _ := newModel(t, 120, 40, Options{})
	press(t, m, "/")
	_, c1 := m.Update(keyPress("а")) // "а" (Cyrillic): many matches
	_, c2 := m.Update(keyPress("х")) // "ах": only Ахметов
	newer := expand(c2)
	older := expand(c1)
	for _, msg := range newer {
		run(t, m, msg)
	}
	for _, msg := range older {
		run(t, m, msg) // arrives late and must be ignored
	}
	if got := m.search.Result().Query; got != "ах" {
		t.Fatalf("applied result for %q, want the latest query", got)
	}
	if n := len(m.search.Result().Hits); n != 1 {
		t.Fatalf("%d hits, want 1", n)
	}
}

func TestSearchKindFilter(t *testing.T) {
	m, _ := newModel(t, 120, 40, Options{})
	press(t, m, "/")
	typeText(t, m, "жанбол")
	press(t, m, "tab") // person
	if k := m.search.Kind(); k != graph.KindPerson {
		t.Fatalf("kind = %v", k)
	}
	for _, h := range m.search.Result().Hits {
		if h.Doc.Ref.Kind != graph.KindPerson {
			t.Fatalf("hit %v is not a person", h.Doc.Ref)
		}
	}
	requireContains(t, m, "[person]", "1 of 1 matches")
	press(t, m, "shift+tab")
	if m.search.Kind() != graph.KindUnknown || len(m.search.Result().Hits) != 2 {
		t.Fatalf("shift+tab did not return to all: %v %d", m.search.Kind(), len(m.search.Result().Hits))
	}
	press(t, m, "esc")
	if (m.screenName() == "search") || m.screenName() != "home" {
		t.Fatal("esc did not close search")
	}
}

func TestSearchWaitsForIndex(t *testing.T) {
	m, f := newModel(t, 120, 40, Options{})
	f.notReady = true
	press(t, m, "/")
	typeText(t, m, "ахм")
	requireContains(t, m, "search index loading…")
	f.notReady = false
	before := f.searches
	run(t, m, SearchReadyMsg{Docs: 11, Took: 3 * time.Millisecond})
	if f.searches != before+1 {
		t.Fatalf("ready did not re-run the query")
	}
	if len(m.search.Result().Hits) != 1 {
		t.Fatalf("hits after ready = %d", len(m.search.Result().Hits))
	}
	requireContains(t, m, "search index ready", "1 of 1 matches")
}

// TestSearchServedByDatabase: a database that answers search itself (a
// Dgraph cluster) is named in the status bar, not "0 documents".
func TestSearchServedByDatabase(t *testing.T) {
	m, _ := newModel(t, 120, 40, Options{})
	run(t, m, SearchReadyMsg{Server: true})
	requireContains(t, m, "search served by demo.db")
	press(t, m, "/")
	typeText(t, m, "ахм")
	requireContains(t, m, "1 of 1 matches")
}

func TestTransactionsPagingAndSort(t *testing.T) {
	m, _ := newModel(t, 120, 40, Options{Start: &refCard})
	rows := m.ent.txList.Rows()
	requireContains(t, m, "Transactions 130", "sort time ↓", fmt.Sprintf("1–%d of 130 · 50 loaded", rows))
	first := m.ent.tx.Txns[0]
	if !first.Time.Equal(time.Date(2025, 3, 1, 4, 0, 0, 0, time.UTC).Add(129 * 3 * time.Hour)) {
		t.Fatalf("first row %v is not the newest", first.Time)
	}
	press(t, m, "tab") // the transactions pane
	press(t, m, "pgdown")
	requireContains(t, m, fmt.Sprintf("%d–%d of 130", rows+1, 2*rows))
	// end goes to the last loaded row and asks for the next page.
	press(t, m, "end", "end", "end")
	if got := len(m.ent.tx.Txns); got != 130 {
		t.Fatalf("end three times: %d rows loaded", got)
	}
	if i, _ := m.ent.txList.Index(); i != 129 {
		t.Fatalf("end: row %d, want 129", i)
	}
	press(t, m, "pgdown") // already on the last row
	requireContains(t, m, fmt.Sprintf("%d–130 of 130", 131-rows))
	press(t, m, "home")
	requireContains(t, m, fmt.Sprintf("1–%d of 130", rows))
	press(t, m, "s")
	requireContains(t, m, "sort time ↑", "50 loaded")
	if got := m.ent.tx.Txns[0].ID; got != "T0001" {
		t.Fatalf("time ↑ starts with %s", got)
	}
	press(t, m, "s")
	requireContains(t, m, "sort amount ↓")
	tx := m.ent.tx.Txns
	for i := 1; i < len(tx); i++ {
		if tx[i].Amount > tx[i-1].Amount {
			t.Fatalf("amount ↓ not sorted at %d", i)
		}
	}
	press(t, m, "s", "s")
	requireContains(t, m, "sort time ↓")
}

// TestPageDownReachesEveryTransaction is the row-loss bug: the backend
// pages hold 50 rows but about 15 fit at 80×24; pgdn used to jump from row
// 15 to row 51. Now every pgdn moves one screenful and the next page is
// fetched before the loaded rows run out, so every row is seen once.
func TestPageDownReachesEveryTransaction(t *testing.T) {
	m, _ := newModel(t, 80, 24, Options{Start: &refCard})
	press(t, m, "tab")
	seen := map[string]bool{}
	for range 40 {
		for _, i := range m.ent.txList.Visible() {
			id := m.ent.tx.Txns[i].ID
			if !strings.Contains(screenText(m), m.ent.tx.Txns[i].Time.In(m.loc).Format("2006-01-02 15:04")) {
				t.Fatalf("row %d (%s) is listed but not drawn", i, id)
			}
			seen[id] = true
		}
		press(t, m, "pgdown")
	}
	if len(seen) != 130 {
		t.Fatalf("paging down saw %d of 130 transactions", len(seen))
	}
	for i := 1; i <= 130; i++ {
		if id := fmt.Sprintf("T%04d", i); !seen[id] {
			t.Fatalf("%s was never on screen", id)
		}
	}
}

func TestTransactionTimesInAlmaty(t *testing.T) {
	m, _ := newModel(t, 120, 40, Options{Start: &refCard})
	press(t, m, "s") // oldest first: 2025-03-01 04:00 UTC is 09:00 in Almaty
	requireContains(t, m, "2025-03-01 09:00 topup", "495,000 ₸", "no IIN · not confirmed")
}

func TestStaleEntityResultsDropped(t *testing.T) {
	m, f := newModel(t, 120, 40, Options{Start: &refCard})
	rows, total, _ := f.Neighbors(context.Background(), refAkhmetov, 10)
	run(t, m, neighborsLoadedMsg{ref: refAkhmetov, rows: rows, total: total})
	for _, n := range m.ent.nbrs {
		if n.Ref == refGroup {
			t.Fatal("the card view shows the person's group")
		}
	}
	old := graph.TxQuery{Sort: graph.SortAmountAsc, Limit: txPageSize}
	run(t, m, txnsLoadedMsg{ref: refCard, q: old, page: graph.TxPage{Total: 1}})
	if m.ent.tx.Total != 130 {
		t.Fatal("a page for another query was applied")
	}
}

func TestHistoryBackForward(t *testing.T) {
	m, _ := newModel(t, 120, 40, Options{Start: &refAkhmetov})
	// Neighbours of the person, ordered by relation: holds (card) first.
	if m.ent.nbrs[0].Ref != refCard {
		t.Fatalf("first neighbour = %v", m.ent.nbrs[0].Ref)
	}
	press(t, m, "enter")
	if m.ent.ref != refCard {
		t.Fatalf("enter opened %v", m.ent.ref)
	}
	requireContains(t, m, "casegraph › Ахметов Ж. › card 4400 43•• •••• 7894")
	press(t, m, "tab", "enter") // counterparty of the newest transaction
	cp := m.ent.ref
	if cp == refCard {
		t.Fatal("enter on a transaction did not open its counterparty")
	}
	press(t, m, "left")
	if m.ent.ref != refCard {
		t.Fatalf("back went to %v", m.ent.ref)
	}
	press(t, m, "backspace")
	if m.ent.ref != refAkhmetov {
		t.Fatalf("second back went to %v", m.ent.ref)
	}
	requireContains(t, m, "(2 forward)")
	press(t, m, "right", "right")
	if m.ent.ref != cp {
		t.Fatalf("forward went to %v, want %v", m.ent.ref, cp)
	}
	press(t, m, "left", "left", "left")
	if m.screenName() != "home" {
		t.Fatal("back from the first entity should reach home")
	}
	// Opening something new drops the forward entries.
	press(t, m, "right")
	press(t, m, "down", "enter")
	if len(m.hist) != 2 {
		t.Fatalf("history = %+v", m.hist)
	}
}

func TestHelpToggles(t *testing.T) {
	m, _ := newModel(t, 120, 40, Options{Start: &refCard})
	press(t, m, "?")
	requireContains(t, m, "Keys — entity", "switch pane", "page down", "filter", "force quit")
	if n := len(strings.Split(m.View().Content, "\n")); n != 40 {
		t.Fatalf("help overlay has %d lines, want 40", n)
	}
	press(t, m, "j") // swallowed by the overlay
	if m.ent.nbrList.Cursor() != 0 {
		t.Fatal("keys leaked through the help overlay")
	}
	press(t, m, "esc")
	if m.screenName() == "help" {
		t.Fatal("esc did not close help")
	}
	press(t, m, "g", "?")
	requireContains(t, m, "Keys — graph", "re-centre", "more hops")
	press(t, m, "?")
	if m.screenName() == "help" {
		t.Fatal("? did not close help")
	}
}

func TestTooSmall(t *testing.T) {
	m, _ := newModel(t, 50, 12, Options{Start: &refCard})
	requireContains(t, m, "terminal too small: need 60×16, have 50×12")
	run(t, m, tea.WindowSizeMsg{Width: 80, Height: 24})
	requireContains(t, m, "Transactions 130")
}

func TestQuit(t *testing.T) {
	m, _ := newModel(t, 80, 24, Options{})
	_, cmd := m.Update(keyPress("q"))
	if cmd == nil {
		t.Fatal("q returned no command")
	}
	if _, ok := cmd().(tea.QuitMsg); !ok {
		t.Fatal("q did not quit")
	}
	press(t, m, "/")
	_, cmd = m.Update(keyPress("ctrl+c"))
	if cmd == nil {
		t.Fatal("ctrl+c returned no command while searching")
	}
	if _, ok := cmd().(tea.QuitMsg); !ok {
		t.Fatal("ctrl+c did not quit")
	}
}

func TestGraphView(t *testing.T) {
	m, _ := newModel(t, 120, 40, Options{Start: &refCard})
	press(t, m, "g")
	if m.screenName() != "graph" || m.gv.Hops() != 2 {
		t.Fatalf("g: screen %v hops %d", m.screenName(), m.gv.Hops())
	}
	requireContains(t, m, "CARD 4400 43•• 7894", "ТенгеОбмен24", "Graph of CARD 4400 43•• •••• 7894 · 2 hops · all kinds")
	if n := len(m.gv.Layout().Nodes); n < 6 {
		t.Fatalf("%d nodes drawn", n)
	}
	press(t, m, "-")
	if m.gv.Hops() != 1 {
		t.Fatal("- did not reduce hops")
	}
	requireContains(t, m, "1 hop ·")
	press(t, m, "+", "+", "+")
	if m.gv.Hops() != 3 {
		t.Fatalf("hops = %d, want capped at 3", m.gv.Hops())
	}
	press(t, m, "-")
	// Move right to the exchange side and re-centre there.
	press(t, m, "l")
	sel, _ := m.gv.Selected()
	if sel.Col != 1 {
		t.Fatalf("l selected column %d", sel.Col)
	}
	press(t, m, "enter")
	if cur, _ := m.current(); cur.Ref != sel.Node.Ref || !cur.Graph {
		t.Fatalf("enter did not re-centre on %v: %+v", sel.Node.Ref, cur)
	}
	press(t, m, "o")
	if m.screenName() != "entity" || m.ent.ref != sel.Node.Ref {
		t.Fatal("o did not open the entity view")
	}
	press(t, m, "left")
	if m.screenName() != "graph" {
		t.Fatal("back did not return to the graph")
	}
	press(t, m, "esc")
	if m.screenName() != "entity" {
		t.Fatal("esc did not leave the graph")
	}
}

func TestGraphKindFilter(t *testing.T) {
	m, _ := newModel(t, 120, 40, Options{Start: &refCard})
	press(t, m, "g", "f")
	name := m.gv.FilterName()
	if name == "all kinds" {
		t.Fatal("f did not filter")
	}
	kind := strings.TrimSuffix(name, " only")
	// Nodes of the kind, and the nodes on the way to them.
	nodes := m.gv.Layout().Nodes
	for i, n := range nodes[1:] {
		if n.Node.Ref.Kind.String() == kind {
			continue
		}
		onPath := false
		for _, o := range nodes {
			onPath = onPath || o.Parent == i+1
		}
		if !onPath {
			t.Fatalf("%s filter shows %v, on no path to a %s", kind, n.Node.Ref, kind)
		}
	}
	requireContains(t, m, name)
}

func TestGolden(t *testing.T) {
	sizes := [][2]int{{80, 24}, {120, 40}, {50, 12}}
	screens := []struct {
		name string
		opts Options
		keys []string
		text string
	}{
		{name: "home"},
		{name: "search", keys: []string{"/"}, text: "жанбол"},
		{name: "entity", opts: Options{Start: &refCard}},
		{name: "graph", opts: Options{Start: &refCard}, keys: []string{"g"}},
	}
	for _, sc := range screens {
		for _, sz := range sizes {
			t.Run(fmt.Sprintf("%s_%dx%d", sc.name, sz[0], sz[1]), func(t *testing.T) {
				m, _ := newModel(t, sz[0], sz[1], sc.opts)
				press(t, m, sc.keys...)
				typeText(t, m, sc.text)
				golden.RequireEqual(t, []byte(screenText(m)))
			})
		}
	}
}

// A person's page lists the money of everything they hold: the combined
// turnover, the counterparties with the instrument each came through, the
// transactions of all their instruments merged by time with the instrument
// of each row, and i steps through the instruments one at a time.
func TestPersonPageShowsTheMoneyOfWhatTheyHold(t *testing.T) {
	for _, sz := range [][2]int{{80, 24}, {160, 45}} {
		t.Run(fmt.Sprintf("%dx%d", sz[0], sz[1]), func(t *testing.T) {
			f := newFake()
			f.links = append(f.links, graph.Link{From: refAkhmetov, To: refCard2, Type: graph.LinkHolds})
			m := New(f, Options{Start: &refAkhmetov})
			run(t, m, tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
			for _, msg := range expand(m.Init()) {
				run(t, m, msg)
			}
			ctx := context.Background()
			one, _ := f.Transactions(ctx, refCard, graph.TxQuery{})
			two, _ := f.Transactions(ctx, refCard2, graph.TxQuery{})
			total := one.Total + two.Total
			requireContains(t, m, "2 instruments", fmtInt(total)+" tx · in", "Transactions of 2 instruments", "of "+fmtInt(total))
			if sz[0] >= 160 {
				requireContains(t, m, "via", "card ·7894", "card ·0016", "tx id")
			} else {
				requireContains(t, m, "tx id", m.ent.tx.Txns[0].ID)
			}
			if s := screenText(m); strings.Contains(s, "no transactions") {
				t.Fatalf("the person's page has no money:\n%s", s)
			}
			// The merged rows are in time order, each on one of the cards.
			rows := m.ent.tx.Txns
			for i, tx := range rows {
				if tx.Via != refCard && tx.Via != refCard2 {
					t.Fatalf("row %d (%s) is on %s", i, tx.ID, tx.Via)
				}
				if i > 0 && tx.Time.After(rows[i-1].Time) {
					t.Fatalf("row %d out of time order", i)
				}
			}

			press(t, m, "i")
			requireContains(t, m, "Transactions of "+refLabel(refCard), "of "+fmtInt(one.Total))
			press(t, m, "i")
			requireContains(t, m, "Transactions of "+refLabel(refCard2), "of "+fmtInt(two.Total))
			press(t, m, "i")
			requireContains(t, m, "Transactions of 2 instruments", "of "+fmtInt(total))

			// Paging down the merged list loses no row.
			m.ent.focus = focusTxns
			for range 40 {
				press(t, m, "pgdown")
			}
			if n := len(m.ent.tx.Txns); n != total {
				t.Errorf("%d rows loaded after paging to the end, want %d", n, total)
			}
			seen := map[string]bool{}
			for _, tx := range m.ent.tx.Txns {
				k := tx.ID + tx.Via.String()
				if seen[k] {
					t.Fatalf("row %s listed twice", k)
				}
				seen[k] = true
			}
		})
	}
	// A person who holds nothing says so.
	m, _ := newModel(t, 120, 40, Options{Start: &refAigerim})
	requireContains(t, m, "holds no card, account or wallet")
	m, _ = newModel(t, 120, 40, Options{Start: &refCard})
	if s := screenText(m); strings.Contains(s, "instruments") {
		t.Fatalf("a card's page speaks of instruments:\n%s", s)
	}
}

// A profile import's skipped metadata and total rows show beside its batch,
// so the home screen's counts reconcile too.
func TestHomeShowsSkippedRows(t *testing.T) {
	m, f := newModel(t, 120, 40, Options{})
	f.batches = []graph.Batch{{ID: 7, File: "/cases/ala/statement.csv", Format: "bank-statement", Read: 10, Imported: 4, Skipped: 6}}
	run(t, m, loadStats(context.Background(), f)())
	if s := screenText(m); !strings.Contains(s, "+6 skipped") {
		t.Fatalf("home does not show the skipped rows:\n%s", s)
	}
}

// A transaction's id is what a bank request names: a column where the
// window has room for it, else the selected row's id in the list's footer.
func TestTransactionIDAtEveryWidth(t *testing.T) {
	for _, sz := range [][2]int{{80, 24}, {160, 45}} {
		t.Run(fmt.Sprintf("%dx%d", sz[0], sz[1]), func(t *testing.T) {
			f := newFake()
			for i := range f.txns {
				f.txns[i].ID = fmt.Sprintf("KASPI-2025-03-%012d", i+1)
			}
			m := New(f, Options{Start: &refCard})
			run(t, m, tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
			for _, msg := range expand(m.Init()) {
				run(t, m, msg)
			}
			m.ent.focus = focusTxns
			first := m.ent.tx.Txns[0].ID
			if sz[0] >= 160 {
				requireContains(t, m, "tx id", first)
				return
			}
			requireContains(t, m, "tx "+first+" · 1–")
			press(t, m, "down")
			requireContains(t, m, "tx "+m.ent.tx.Txns[1].ID+" · 1–")
		})
	}
}
