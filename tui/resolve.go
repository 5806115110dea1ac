package tui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"casegraph/graph"
	"casegraph/tui/list"
	"casegraph/tui/pane"
	"casegraph/tui/theme"
)

// The Resolve screen (R) shows entity resolution's matches side by side for
// the analyst to accept (a same_as link is written) or reject (the pair is
// remembered and not proposed again), and on its second tab the same_as
// links already written, where u reverts one. Resolution runs in the
// background with progress; esc cancels it.

// MatchParty is one side of a match as the Resolve screen shows it.
type MatchParty struct {
	Ref       graph.Ref
	Name      string // display name; empty when the entity has none
	Aliases   []string
	BirthDate string // YYYY-MM-DD, or empty
	IDs       []graph.Ident
}

// Proposal is one match waiting for the analyst's decision.
type Proposal struct {
	Match       graph.Match // Match.A is Left.Ref, Match.B is Right.Ref
	Left, Right MatchParty
}

// ProposalList is one answer of Resolver.Proposals.
type ProposalList struct {
	Rows     []Proposal
	Parties  int // entities compared
	Linked   int // matches left out because a same_as link records them
	Rejected int // matches left out because an analyst rejected them
	Skipped  int // birth-date blocks too large to compare
}

// MergedLink is one same_as link with both of its ends.
type MergedLink struct {
	Link        graph.Link
	Score       float64
	Method      string
	Decision    string     // "auto", "accepted", or empty for a link imported as such
	Left, Right MatchParty // Link.From and Link.To
}

type resolveTab int

const (
	tabProposals resolveTab = iota
	tabMerged
)

// resolveState is the root model's state for the Resolve screen.
type resolveState struct {
	tab resolveTab

	list   ProposalList
	loaded bool
	err    error
	pnav   list.Model // over list.Rows

	merged  []MergedLink
	mLoaded bool
	mErr    error
	mSeq    int
	mnav    list.Model // over merged

	// The running resolution, if any.
	bgJob

	pending map[[2]graph.Ref]bool // decisions being written, by pair

	keys resolveKeys
}

type resolveKeys struct {
	List                                        list.KeyMap
	Tab                                         key.Binding
	Accept, Reject, OpenLeft, OpenRight, Revert key.Binding
	Rerun, CancelWork, Close                    key.Binding
}

func defaultResolveKeys() resolveKeys {
	return resolveKeys{
		List:       list.DefaultKeys(),
		Tab:        key.NewBinding(key.WithKeys("tab", "shift+tab"), key.WithHelp("tab", "merged/proposals")),
		Accept:     key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "accept")),
		Reject:     key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "reject")),
		OpenLeft:   key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open left")),
		OpenRight:  key.NewBinding(key.WithKeys("o"), key.WithHelp("o", "open right")),
		Revert:     key.NewBinding(key.WithKeys("u"), key.WithHelp("u", "revert link")),
		Rerun:      key.NewBinding(key.WithKeys("ctrl+r"), key.WithHelp("ctrl+r", "resolve again")),
		CancelWork: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
		Close:      key.NewBinding(key.WithKeys("esc", "left", "backspace"), key.WithHelp("esc", "close")),
	}
}

func newResolveState(st theme.Styles) resolveState {
	return resolveState{keys: defaultResolveKeys(), pending: map[[2]graph.Ref]bool{}, pnav: list.New(st), mnav: list.New(st)}
}

func (rv *resolveState) setStyles(st theme.Styles) {
	rv.pnav.SetStyles(st)
	rv.mnav.SetStyles(st)
}

// setSize gives the lists the rows of the upper pane, less the headings.
func (rv *resolveState) setSize(l layout) {
	listR, _ := splitBody(l.Body, l.Body.H*3/5)
	for _, n := range []*list.Model{&rv.pnav, &rv.mnav} {
		n.SetHeight(pane.ContentHeight(listR.H) - 1)
		n.SetWidth(pane.ContentWidth(listR.W))
	}
}

func (rv *resolveState) focused() *list.Model {
	if rv.tab == tabMerged {
		return &rv.mnav
	}
	return &rv.pnav
}

func partyText(p MatchParty) string {
	return p.Name + " " + p.Ref.String() + " " + refLabel(p.Ref) + " " + p.BirthDate + " " + strings.Join(p.Aliases, " ")
}

// relist hands the rows to the lists, keeping the selection.
func (rv *resolveState) relist() {
	rv.pnav.SetRows(len(rv.list.Rows), func(i int) string {
		p := rv.list.Rows[i]
		return p.Match.Method + " " + partyText(p.Left) + " " + partyText(p.Right) + " " +
			strings.Join(sharedFacts(p.Left, p.Right, p.Match.Names), " ")
	})
	rv.mnav.SetRows(len(rv.merged), func(i int) string {
		l := rv.merged[i]
		return l.Method + " " + l.Decision + " " + partyText(l.Left) + " " + partyText(l.Right)
	})
}

func pairOf(a, b graph.Ref) [2]graph.Ref {
	if b.Less(a) {
		a, b = b, a
	}
	return [2]graph.Ref{a, b}
}

func (rv *resolveState) proposal() (Proposal, bool) {
	if i, ok := rv.pnav.Index(); ok && rv.tab == tabProposals && i < len(rv.list.Rows) {
		return rv.list.Rows[i], true
	}
	return Proposal{}, false
}

func (rv *resolveState) mergedLink() (MergedLink, bool) {
	if i, ok := rv.mnav.Index(); ok && rv.tab == tabMerged && i < len(rv.merged) {
		return rv.merged[i], true
	}
	return MergedLink{}, false
}

// Messages of the Resolve screen.
type (
	resolveProgressMsg struct {
		ch chan progressUpdate
		p  progressUpdate
	}
	proposalsLoadedMsg struct {
		seq  int
		list ProposalList
		err  error
	}
	mergedLoadedMsg struct {
		seq   int
		links []MergedLink
		err   error
	}
	matchDecidedMsg struct {
		p      Proposal
		accept bool
		link   graph.Link // the link written, when accepted
		err    error
	}
	linkRevertedMsg struct {
		l   MergedLink
		err error
	}
)

// runProposals runs Resolver.Proposals, forwarding progress to ch without
// ever blocking resolution: a report not read yet is replaced.
func runProposals(ctx context.Context, b Backend, seq int, ch chan progressUpdate) tea.Cmd {
	return func() tea.Msg {
		l, err := b.Proposals(ctx, progressTo(ch))
		close(ch)
		if err != nil {
			err = fmt.Errorf("resolve: %w", err)
		}
		return proposalsLoadedMsg{seq: seq, list: l, err: err}
	}
}

func waitResolveProgress(ch chan progressUpdate) tea.Cmd {
	return waitFor(ch, func(ch chan progressUpdate, p progressUpdate) tea.Msg { return resolveProgressMsg{ch: ch, p: p} })
}

func loadMerged(ctx context.Context, b Backend, seq int) tea.Cmd {
	return func() tea.Msg {
		ls, err := b.Merged(ctx)
		if err != nil {
			err = fmt.Errorf("load same_as links: %w", err)
		}
		return mergedLoadedMsg{seq: seq, links: ls, err: err}
	}
}

func decideMatch(ctx context.Context, b Backend, p Proposal, accept bool) tea.Cmd {
	return func() tea.Msg {
		msg := matchDecidedMsg{p: p, accept: accept}
		if accept {
			msg.link, msg.err = b.Accept(ctx, p)
		} else {
			msg.err = b.Reject(ctx, p)
		}
		if msg.err != nil {
			verb := "reject"
			if accept {
				verb = "accept"
			}
			msg.err = fmt.Errorf("%s %s ~ %s: %w", verb, p.Match.A, p.Match.B, msg.err)
		}
		return msg
	}
}

func revertLink(ctx context.Context, b Backend, l MergedLink) tea.Cmd {
	return func() tea.Msg {
		err := b.Revert(ctx, l.Link)
		if err != nil {
			err = fmt.Errorf("revert same_as %s → %s: %w", l.Link.From, l.Link.To, err)
		}
		return linkRevertedMsg{l: l, err: err}
	}
}

// startResolve cancels a running resolution and starts a new one.
func (m *Model) startResolve() tea.Cmd {
	ctx, seq := m.rv.start(m.ctx)
	ch := m.rv.reportTo("starting")
	return tea.Batch(runProposals(ctx, m.b, seq, ch), waitResolveProgress(ch))
}

func (m *Model) reloadMerged() tea.Cmd {
	m.rv.mSeq++
	return loadMerged(m.ctx, m.b, m.rv.mSeq)
}

// openResolve shows the Resolve screen, resolving on the first visit.
func (m *Model) openResolve() tea.Cmd {
	rv := &m.rv
	m.push(&resolveScreen{m: m})
	cmds := []tea.Cmd{m.reloadMerged()}
	if !rv.loaded && !rv.busy {
		cmds = append(cmds, m.startResolve())
	}
	return tea.Batch(cmds...)
}

// closeResolve leaves the screen; the entity underneath reloads if a
// decision changed its links.
func (m *Model) closeResolve() tea.Cmd {
	return m.show()
}

// forgetEntity makes the entity view reload when it shows a or b: a
// decision added or removed one of its links.
func (m *Model) forgetEntity(a, b graph.Ref) {
	if m.ent.ref == a || m.ent.ref == b {
		m.ent = newEntityView(graph.Ref{}, m.st)
	}
}

// updateResolve handles the Resolve screen's messages; ok reports whether
// msg was one.
func (m *Model) updateResolve(msg tea.Msg) (tea.Cmd, bool) {
	rv := &m.rv
	switch msg := msg.(type) {
	case resolveProgressMsg:
		if !rv.current(msg.ch) {
			return nil, true
		}
		rv.prog = msg.p
		return waitResolveProgress(msg.ch), true
	case proposalsLoadedMsg:
		if !rv.end(msg.seq) {
			return nil, true // cancelled or replaced by a newer run
		}
		if msg.err != nil {
			if errors.Is(msg.err, context.Canceled) {
				m.setStatus("resolution cancelled", false)
			} else {
				rv.err = msg.err
				m.setStatus(msg.err.Error(), true)
			}
			return nil, true
		}
		rv.list, rv.loaded, rv.err = msg.list, true, nil
		rv.pnav.Reset(0, 0, nil)
		rv.relist()
		for _, p := range msg.list.Rows {
			m.noteName(p.Left.Ref, p.Left.Name)
			m.noteName(p.Right.Ref, p.Right.Name)
		}
		m.setStatus(fmt.Sprintf("resolution ready · %d to decide · %d entities compared", len(msg.list.Rows), msg.list.Parties), false)
		return nil, true
	case mergedLoadedMsg:
		if msg.seq != rv.mSeq {
			return nil, true
		}
		rv.mLoaded, rv.mErr = true, msg.err
		if msg.err != nil {
			m.setStatus(msg.err.Error(), true)
			return nil, true
		}
		rv.merged = msg.links
		rv.relist()
		for _, l := range msg.links {
			m.noteName(l.Left.Ref, l.Left.Name)
			m.noteName(l.Right.Ref, l.Right.Name)
		}
		return nil, true
	case matchDecidedMsg:
		pair := pairOf(msg.p.Match.A, msg.p.Match.B)
		delete(rv.pending, pair)
		if msg.err != nil {
			m.setStatus(msg.err.Error(), true)
			return nil, true
		}
		i := slices.IndexFunc(rv.list.Rows, func(p Proposal) bool { return pairOf(p.Match.A, p.Match.B) == pair })
		if i >= 0 {
			sel, _ := rv.pnav.Index()
			rv.list.Rows = slices.Delete(rv.list.Rows, i, i+1)
			rv.relist()
			if sel > i {
				rv.pnav.Select(sel - 1)
			}
		}
		names := m.titleOf(msg.p.Match.A) + " ~ " + m.titleOf(msg.p.Match.B)
		if !msg.accept {
			rv.list.Rejected++
			m.setStatus("rejected "+names+" · not proposed again", false)
			return nil, true
		}
		rv.list.Linked++
		m.forgetEntity(msg.p.Match.A, msg.p.Match.B)
		m.setStatus(fmt.Sprintf("accepted %s · same_as written (import #%d) · tab lists it", names, msg.link.Src.Batch), false)
		return tea.Batch(m.reloadMerged(), loadStats(m.ctx, m.b)), true
	case linkRevertedMsg:
		pair := pairOf(msg.l.Link.From, msg.l.Link.To)
		delete(rv.pending, pair)
		if msg.err != nil {
			m.setStatus(msg.err.Error(), true)
			return nil, true
		}
		m.forgetEntity(msg.l.Link.From, msg.l.Link.To)
		m.setStatus("reverted same_as "+m.titleOf(msg.l.Link.From)+" ~ "+m.titleOf(msg.l.Link.To)+" · ctrl+r proposes it again", false)
		return tea.Batch(m.reloadMerged(), loadStats(m.ctx, m.b)), true
	}
	return nil, false
}

// resolveScreen is the Resolve screen; it takes every key.
type resolveScreen struct{ m *Model }

func (s *resolveScreen) isLayer()                  {}
func (s *resolveScreen) Title() string             { return "resolve" }
func (s *resolveScreen) SetSize(w, h int)          { s.m.rv.setSize(s.m.lay) }
func (s *resolveScreen) View() []string            { return s.m.renderResolve() }
func (s *resolveScreen) ShortHelp() []key.Binding  { return s.m.resolveHelp().ShortHelp() }
func (s *resolveScreen) FullHelp() [][]key.Binding { return s.m.resolveHelp().FullHelp() }

func (s *resolveScreen) Update(msg tea.Msg) tea.Cmd {
	m, rv := s.m, &s.m.rv
	kp, isKey := msg.(tea.KeyPressMsg)
	if isKey && rv.busy && key.Matches(kp, rv.keys.CancelWork) {
		cmd, _ := m.resolveKey(kp)
		return cmd
	}
	if cmd, ok := rv.focused().Update(msg); ok || !isKey {
		return cmd
	}
	cmd, _ := m.resolveKey(kp)
	return cmd
}

// resolveKey handles the keys of the Resolve screen.
func (m *Model) resolveKey(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	rv, k := &m.rv, m.rv.keys
	if cmd, ok := m.commonKey(msg); ok {
		return cmd, true
	}
	switch {
	case rv.busy && key.Matches(msg, k.CancelWork):
		rv.abandon()
		m.setStatus("resolution cancelled", false)
		if !rv.loaded {
			return m.closeResolve(), true
		}
		return nil, true
	case key.Matches(msg, k.Close):
		return m.closeResolve(), true
	case key.Matches(msg, k.Rerun):
		return m.startResolve(), true
	case key.Matches(msg, k.Tab):
		if rv.tab == tabProposals {
			rv.tab = tabMerged
			return m.reloadMerged(), true
		}
		rv.tab = tabProposals
		return nil, true
	}
	if p, ok := rv.proposal(); ok && !rv.busy {
		pair := pairOf(p.Match.A, p.Match.B)
		switch {
		case key.Matches(msg, k.Accept, k.Reject) && rv.pending[pair]:
			m.setStatus("still writing the last decision on this pair", false)
		case key.Matches(msg, k.Accept):
			rv.pending[pair] = true
			return decideMatch(m.ctx, m.b, p, true), true
		case key.Matches(msg, k.Reject):
			rv.pending[pair] = true
			return decideMatch(m.ctx, m.b, p, false), true
		case key.Matches(msg, k.OpenLeft):
			return m.open(p.Left.Ref, false), true
		case key.Matches(msg, k.OpenRight):
			return m.open(p.Right.Ref, false), true
		}
	}
	if l, ok := rv.mergedLink(); ok {
		pair := pairOf(l.Link.From, l.Link.To)
		switch {
		case key.Matches(msg, k.Revert) && !rv.pending[pair]:
			rv.pending[pair] = true
			return revertLink(m.ctx, m.b, l), true
		case key.Matches(msg, k.OpenLeft):
			return m.open(l.Left.Ref, false), true
		case key.Matches(msg, k.OpenRight):
			return m.open(l.Right.Ref, false), true
		}
	}
	return nil, true
}

// resolveHelp is the key map of the Resolve screen.
func (m *Model) resolveHelp() help.KeyMap {
	k, g, rv := m.rv.keys, m.keys, &m.rv
	nav := append(k.List.Bindings(), k.Tab)
	own := []key.Binding{k.Accept, k.Reject, k.Revert, k.OpenLeft, k.OpenRight}
	global := []key.Binding{k.Rerun, k.CancelWork, k.Close, g.Help, g.Quit, g.ForceQuit}
	short := []key.Binding{k.Accept, k.Reject, k.OpenLeft, k.OpenRight, k.Tab, k.Close}
	if rv.tab == tabMerged {
		short = []key.Binding{k.Revert, k.OpenLeft, k.OpenRight, k.Tab, k.Rerun, k.Close}
	}
	if rv.busy {
		short = []key.Binding{k.CancelWork, g.Quit}
	}
	return keyHelp{short: short, full: [][]key.Binding{nav, own, global}}
}
