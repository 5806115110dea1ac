package tui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"casegraph/graph"
	"casegraph/tui/list"
	"casegraph/tui/pane"
	"casegraph/tui/theme"
)

// ClusterOrder says how the Clusters screen ranks suspected groups.
type ClusterOrder string

// Cluster orders: money moving inside the group (communities of the money
// graph), or the risk of the flagged members (groups of flagged entities).
const (
	ByTurnover ClusterOrder = "turnover"
	ByRisk     ClusterOrder = "risk"
)

// ClusterMember is one entity of a cluster.
type ClusterMember struct {
	Ref     graph.Ref
	Name    string
	Risk    float64
	Flagged bool
}

// Cluster is one suspected group.
type Cluster struct {
	Members     []ClusterMember // persons first, then instruments; riskiest first within each
	Persons     int
	Instruments int
	Turnover    int64 // minor units moved inside the group; 0 when not computed
	TxCount     int
	Risk        float64 // the highest member risk
	Flagged     int     // members at or above the flag threshold
	First, Last time.Time
}

// Anchor is the member a graph of the cluster centres on: the riskiest
// person, else the riskiest member.
func (c Cluster) Anchor() (graph.Ref, bool) {
	if len(c.Members) == 0 {
		return graph.Ref{}, false
	}
	return c.Members[0].Ref, true
}

const clustersLimit = 200

type clustersView struct {
	by      ClusterOrder
	rows    []Cluster
	loaded  bool
	err     error
	nav     list.Model // over rows
	mnav    list.Model // over the selected cluster's members
	members bool       // the members pane has focus
}

func newClustersView(st theme.Styles) clustersView {
	return clustersView{nav: list.New(st), mnav: list.New(st)}
}

// rowText is what the filter matches in a group: its members' names and
// references.
func (v *clustersView) rowText(i int) string {
	var sb strings.Builder
	for _, mb := range v.rows[i].Members {
		sb.WriteString(mb.Name + " " + mb.Ref.String() + " " + refLabel(mb.Ref) + " ")
	}
	return sb.String()
}

// showMembers lists the members of the selected group.
func (v *clustersView) showMembers() {
	c, _ := v.selected()
	v.mnav.Reset(len(c.Members), len(c.Members), func(i int) string {
		mb := c.Members[i]
		return mb.Ref.Kind.String() + " " + mb.Name + " " + mb.Ref.String() + " " + refLabel(mb.Ref)
	})
}

// focused is the list that has the keys.
func (v *clustersView) focused() *list.Model {
	if v.members {
		return &v.mnav
	}
	return &v.nav
}

func (v *clustersView) order() ClusterOrder {
	if v.by == "" {
		return ByTurnover
	}
	return v.by
}

func (v *clustersView) selected() (Cluster, bool) {
	if i, ok := v.nav.Index(); ok && i < len(v.rows) {
		return v.rows[i], true
	}
	return Cluster{}, false
}

// member is the selected member of the selected group.
func (v *clustersView) member() (ClusterMember, bool) {
	c, ok := v.selected()
	if !ok {
		return ClusterMember{}, false
	}
	if i, ok := v.mnav.Index(); ok && i < len(c.Members) {
		return c.Members[i], true
	}
	return ClusterMember{}, false
}

type clustersLoadedMsg struct {
	seq  int
	by   ClusterOrder
	rows []Cluster
	err  error
}

func (m *Model) loadClusters() tea.Cmd {
	by := m.ana.clusters.order()
	ctx, seq := m.startJob("finding groups by " + string(by))
	b := m.b
	return func() tea.Msg {
		rows, err := b.Clusters(ctx, by, clustersLimit)
		if err != nil {
			err = fmt.Errorf("clusters by %s: %w", by, err)
		}
		return clustersLoadedMsg{seq: seq, by: by, rows: rows, err: err}
	}
}

func (m *Model) applyClusters(msg clustersLoadedMsg) tea.Cmd {
	if !m.endJob(msg.seq) {
		return nil
	}
	v := &m.ana.clusters
	if msg.by != v.order() {
		return nil
	}
	if m.failedJob(msg.err) {
		v.err = msg.err
		return nil
	}
	v.rows, v.loaded, v.err = msg.rows, true, nil
	v.members = false
	v.nav.Reset(len(v.rows), len(v.rows), v.rowText)
	v.showMembers()
	for _, c := range msg.rows {
		for _, mb := range c.Members {
			m.noteName(mb.Ref, mb.Name)
		}
	}
	return nil
}

// clustersUpdate takes the Clusters screen's input; ok is false for keys
// it leaves to the screen's global keys.
func (m *Model) clustersUpdate(msg tea.Msg) (tea.Cmd, bool) {
	v, k := &m.ana.clusters, m.ana.keys
	before, _ := v.nav.Index()
	if cmd, ok := v.focused().Update(msg); ok {
		if after, _ := v.nav.Index(); after != before {
			v.showMembers()
		}
		return cmd, true
	}
	kp, isKey := msg.(tea.KeyPressMsg)
	if !isKey {
		return nil, false
	}
	switch {
	case key.Matches(kp, k.List.Export) && v.members:
		c, _ := v.selected()
		rank, _ := v.nav.Index()
		return m.bookmarkListed(fmt.Sprintf("members of group %d by %s", rank+1, v.order()), &v.mnav,
			func(i int) []graph.Ref { return []graph.Ref{c.Members[i].Ref} }), true
	case key.Matches(kp, k.List.Export):
		return m.bookmarkListed("groups by "+string(v.order()), &v.nav, func(i int) []graph.Ref {
			refs := make([]graph.Ref, len(v.rows[i].Members))
			for j, mb := range v.rows[i].Members {
				refs[j] = mb.Ref
			}
			return refs
		}), true
	case key.Matches(kp, k.Focus):
		v.members = !v.members
		return nil, true
	case key.Matches(kp, k.Order):
		if v.order() == ByTurnover {
			v.by = ByRisk
		} else {
			v.by = ByTurnover
		}
		return m.loadClusters(), true
	}
	c, ok := v.selected()
	if !ok {
		return nil, false
	}
	mb, onMember := v.member()
	onMember = onMember && v.members
	rank, _ := v.nav.Index()
	switch {
	case key.Matches(kp, k.Graph) || key.Matches(kp, k.Open) && !v.members:
		return m.openGroup(c, rank+1, v.order()), true
	case key.Matches(kp, m.tkeys.Open) && onMember:
		return m.openTimeline(timelineSource{title: m.titleOf(mb.Ref), refs: []graph.Ref{mb.Ref}}), true
	case key.Matches(kp, m.tkeys.Open):
		return m.openTimeline(clusterTimeline(c, rank+1)), true
	case key.Matches(kp, k.Open) && onMember:
		return m.openEntityFromAna(mb.Ref, false), true
	case key.Matches(kp, k.Bookmark) && onMember:
		return m.bookmarkRef(mb.Ref), true
	case key.Matches(kp, k.Bookmark) && len(c.Members) > 0:
		t := clusterTarget(c, rank+1, v.order())
		return m.openBookmark(t, t.Label), true
	}
	return nil, false
}

// clusterTarget is the bookmark target of a group: its members in screen
// order, the ranking that found it as the query, and a label such as
// "cluster #3 · 12 members · 48.20M ₸".
func clusterTarget(c Cluster, rank int, by ClusterOrder) graph.Target {
	refs := make([]graph.Ref, len(c.Members))
	for i, mb := range c.Members {
		refs[i] = mb.Ref
	}
	label := fmt.Sprintf("cluster #%d · %d members", rank, len(c.Members))
	if c.TxCount > 0 {
		label += " · " + graph.FormatShortMoney(c.Turnover)
	} else {
		label += fmt.Sprintf(" · risk %.2f", c.Risk)
	}
	return graph.Target{Kind: graph.TargetCluster, Refs: refs, Query: fmt.Sprintf("clusters by %s #%d", by, rank), Label: label}
}

// memberNames lists the first members' names for the table.
func (m *Model) memberNames(c Cluster) string {
	var names []string
	for _, mb := range c.Members {
		if mb.Ref.Kind != graph.KindPerson {
			continue
		}
		n := mb.Name
		if n == "" {
			n = refLabel(mb.Ref)
		} else {
			n = shortName(n)
		}
		names = append(names, n)
		if len(names) == 4 {
			break
		}
	}
	if len(names) == 0 {
		for _, mb := range c.Members[:min(3, len(c.Members))] {
			names = append(names, m.titleOf(mb.Ref))
		}
	}
	return strings.Join(names, ", ")
}

func (m *Model) renderClusters(b rect) []string {
	st, v := m.st, &m.ana.clusters
	listR, memR := splitBody(b, b.H*11/20)
	title := "Clusters · suspected groups by " + string(v.order())
	cw := pane.ContentWidth(listR.W)
	var body []string
	footer := ""
	if line, ok := m.anaNotice(v.err, v.loaded, len(v.rows) == 0, "loading…", "no suspected groups"); ok {
		body = append(body, line)
	} else {
		const rankW, persW, instW, txW, riskW, flagW = 4, 7, 5, 6, 4, 7
		turnW := 12
		namesW := max(cw-rankW-persW-instW-turnW-txW-riskW-flagW-7, 0)
		widths := []int{-rankW, -persW, -instW, -turnW, -txW, riskW, -flagW, namesW}
		body = append(body, st.Muted.Render(fitCols([]string{"#", "persons", "instr", "turnover", "tx", "risk", "flagged", "members"}, widths)))
		body = append(body, v.nav.Lines(func(i int, selected bool) string {
			c := v.rows[i]
			rank := fmt.Sprint(i + 1)
			names := st.Text.Render(m.memberNames(c))
			if selected {
				rank = st.Accent.Render("▸") + rank
				if v.members {
					names = st.Text.Inherit(st.SelectedBlur).Render(m.memberNames(c))
				} else {
					names = st.Text.Inherit(st.Selected).Render(m.memberNames(c))
				}
			}
			turn, tx := "", ""
			if c.TxCount > 0 {
				turn, tx = graph.FormatShortMoney(c.Turnover), fmtInt(c.TxCount)
			}
			riskSt := st.Muted
			if c.Flagged > 0 {
				riskSt = st.Warn
			}
			return fitCols([]string{rank, fmt.Sprint(c.Persons), fmt.Sprint(c.Instruments),
				st.Money.Render(turn), tx, riskSt.Render(fmt.Sprintf("%.2f", c.Risk)), fmt.Sprint(c.Flagged), names}, widths)
		})...)
		filterFirst(&v.nav, body)
		footer = v.nav.Footer()
	}
	out := pane.Box(st, title, footer, body, listR.W, listR.H, !v.members)
	return append(out, m.renderClusterMembers(memR)...)
}

func (m *Model) renderClusterMembers(r rect) []string {
	st, v := m.st, &m.ana.clusters
	c, ok := v.selected()
	if !ok || !v.loaded || m.ana.busy {
		return pane.Box(st, "Members", "", nil, r.W, r.H, v.members)
	}
	rank, _ := v.nav.Index()
	title := fmt.Sprintf("Members of group %d · %d persons · %d instruments", rank+1, c.Persons, c.Instruments)
	if !c.First.IsZero() {
		title += " · " + c.First.In(m.loc).Format("2006-01-02") + "…" + c.Last.In(m.loc).Format("2006-01-02")
	}
	body := v.mnav.Lines(func(i int, selected bool) string {
		mb := c.Members[i]
		name := mb.Name
		if name == "" {
			name = refLabel(mb.Ref)
		}
		nameSt := st.Kind(mb.Ref.Kind)
		mark := " "
		if v.members && selected {
			nameSt = nameSt.Inherit(st.Selected)
			mark = st.Accent.Render("▸")
		}
		flag := "  "
		if mb.Flagged {
			flag = st.Warn.Render("⚑ ")
		}
		risk := ""
		if mb.Risk > 0 {
			risk = st.Muted.Render(fmt.Sprintf("%.2f", mb.Risk))
		}
		head := mark + flag + pane.Fit(st.Badge(mb.Ref.Kind).Render(mb.Ref.Kind.String()), 9) + pane.Right(risk, 4) + "  "
		// The identifier keeps its room: the name is cut before it is.
		nameW := pane.ContentWidth(r.W) - ansi.StringWidth(head)
		if id := identOf(mb.Ref, mb.Name); id != "" && nameW-ansi.StringWidth(id)-2 >= 8 {
			return head + pane.Fit(nameSt.Render(name), nameW-ansi.StringWidth(id)-2) + "  " + st.Muted.Render(id)
		}
		return head + nameSt.Render(name)
	})
	footer := "enter on a group opens it as a graph · b bookmarks it · tab to the members"
	return pane.Box(st, title, footer, body, r.W, r.H, v.members)
}

// openGroup draws a suspected group as a graph: all its members and the
// links between them, centred on its anchor (graphview.ShowGroup).
func (m *Model) openGroup(c Cluster, rank int, by ClusterOrder) tea.Cmd {
	anchor, ok := c.Anchor()
	if !ok {
		return nil
	}
	refs := make([]graph.Ref, len(c.Members))
	for i, mb := range c.Members {
		refs[i] = mb.Ref
	}
	key := graph.Target{Kind: graph.TargetCluster, Refs: refs}.Key()
	m.groups[key] = groupDef{name: fmt.Sprintf("Group %d by %s", rank, by), members: refs}
	m.hist = append(m.hist[:m.pos+1], histEntry{Ref: anchor, Graph: true, Group: key})
	m.pos = len(m.hist) - 1
	return m.show()
}
