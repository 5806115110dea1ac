// Package theme holds every colour and style of the casegraph TUI. It is the
// only place colour literals appear; components receive a Styles value.
package theme

import (
	"image/color"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/textinput"
	"charm.land/lipgloss/v2"

	"casegraph/graph"
)

// Styles is the complete set of styles used by the TUI, built from a few
// semantic colours for a dark or a light terminal background.
type Styles struct {
	IsDark bool

	Text   lipgloss.Style // ordinary text
	Muted  lipgloss.Style // secondary text: labels, separators, facts
	Bold   lipgloss.Style // headings inside panes
	Accent lipgloss.Style // the application accent: breadcrumb head, active filter
	Err    lipgloss.Style // error messages
	Warn   lipgloss.Style // warnings: unlicensed, stub
	OK     lipgloss.Style // success messages
	Money  lipgloss.Style // amounts
	In     lipgloss.Style // incoming direction arrows
	Out    lipgloss.Style // outgoing direction arrows

	Border      lipgloss.Style // pane frame, unfocused
	BorderFocus lipgloss.Style // pane frame, focused
	Title       lipgloss.Style // pane title, unfocused
	TitleFocus  lipgloss.Style // pane title, focused

	Selected     lipgloss.Style // the selected row of a focused list
	SelectedBlur lipgloss.Style // the selected row of an unfocused list
	Match        lipgloss.Style // matched runes of a search label
	Cursor       lipgloss.Style // the text input cursor colour (foreground)

	Header    lipgloss.Style // the top line
	Status    lipgloss.Style // the bottom status bar
	StatusKey lipgloss.Style // emphasised parts of the status bar

	Help help.Styles

	kind [16]color.Color
}

// Kind returns the accent colour style of an entity kind.
func (s Styles) Kind(k graph.Kind) lipgloss.Style {
	return lipgloss.NewStyle().Foreground(s.KindColor(k))
}

// KindColor returns the accent colour of an entity kind.
func (s Styles) KindColor(k graph.Kind) color.Color {
	if int(k) < len(s.kind) && s.kind[k] != nil {
		return s.kind[k]
	}
	return s.kind[graph.KindUnknown]
}

// Badge returns the style of an upper-case KIND badge.
func (s Styles) Badge(k graph.Kind) lipgloss.Style {
	return lipgloss.NewStyle().Foreground(s.KindColor(k)).Bold(true)
}

// New builds the styles for a dark (isDark) or light terminal background.
func New(isDark bool) Styles {
	ld := lipgloss.LightDark(isDark)
	c := func(light, dark string) color.Color { return ld(lipgloss.Color(light), lipgloss.Color(dark)) }

	text := c("#1F2328", "#D8DEE9")
	muted := c("#6E7781", "#7A8394")
	faint := c("#B8BEC6", "#434C5E")
	accent := c("#0B63C4", "#88C0D0")
	errc := c("#C62828", "#FF6B6B")
	warn := c("#B26A00", "#EBCB8B")
	okc := c("#1B7F3B", "#A3BE8C")
	selBg := c("#DDE7F3", "#2E3A4E")
	selBlurBg := c("#EEF1F4", "#262C37")
	barBg := c("#E4E8EE", "#20252E")

	s := Styles{
		IsDark:       isDark,
		Text:         lipgloss.NewStyle().Foreground(text),
		Muted:        lipgloss.NewStyle().Foreground(muted),
		Bold:         lipgloss.NewStyle().Foreground(text).Bold(true),
		Accent:       lipgloss.NewStyle().Foreground(accent).Bold(true),
		Err:          lipgloss.NewStyle().Foreground(errc).Bold(true),
		Warn:         lipgloss.NewStyle().Foreground(warn),
		OK:           lipgloss.NewStyle().Foreground(okc),
		Money:        lipgloss.NewStyle().Foreground(text),
		In:           lipgloss.NewStyle().Foreground(okc),
		Out:          lipgloss.NewStyle().Foreground(warn),
		Border:       lipgloss.NewStyle().Foreground(faint),
		BorderFocus:  lipgloss.NewStyle().Foreground(accent),
		Title:        lipgloss.NewStyle().Foreground(muted).Bold(true),
		TitleFocus:   lipgloss.NewStyle().Foreground(accent).Bold(true),
		Selected:     lipgloss.NewStyle().Background(selBg).Bold(true),
		SelectedBlur: lipgloss.NewStyle().Background(selBlurBg),
		Match:        lipgloss.NewStyle().Foreground(warn).Bold(true).Underline(true),
		Cursor:       lipgloss.NewStyle().Foreground(accent),
		Header:       lipgloss.NewStyle().Foreground(text),
		Status:       lipgloss.NewStyle().Foreground(muted).Background(barBg),
		StatusKey:    lipgloss.NewStyle().Foreground(text).Background(barBg).Bold(true),
	}
	s.Help = help.Styles{
		Ellipsis:       lipgloss.NewStyle().Foreground(faint),
		ShortKey:       lipgloss.NewStyle().Foreground(accent),
		ShortDesc:      lipgloss.NewStyle().Foreground(muted),
		ShortSeparator: lipgloss.NewStyle().Foreground(faint),
		FullKey:        lipgloss.NewStyle().Foreground(accent).Bold(true),
		FullDesc:       lipgloss.NewStyle().Foreground(text),
		FullSeparator:  lipgloss.NewStyle().Foreground(faint),
	}

	s.kind[graph.KindUnknown] = muted
	s.kind[graph.KindPerson] = c("#0969DA", "#81A1C1")
	s.kind[graph.KindCard] = c("#BC4C00", "#F0A35E")
	s.kind[graph.KindAccount] = c("#0E7C86", "#7FD1C7")
	s.kind[graph.KindWallet] = c("#8250DF", "#C3A6FF")
	s.kind[graph.KindExchange] = c("#CF222E", "#FF7B72")
	s.kind[graph.KindGroup] = c("#BF3989", "#F08FC0")
	s.kind[graph.KindPhone] = c("#1A7F37", "#A3BE8C")
	s.kind[graph.KindDevice] = c("#9A6700", "#EBCB8B")
	s.kind[graph.KindIP] = c("#3E7BB6", "#8FBCBB")
	s.kind[graph.KindAddress] = c("#6E7781", "#B0B8C4")
	s.kind[graph.KindATM] = c("#953800", "#D08770")
	s.kind[graph.KindCash] = c("#2DA44E", "#B8E986")
	return s
}

// Input styles a one-line text input (search, list filters, dialog fields)
// in the theme: a steady cursor, text and placeholder colours, and the
// prompt in the accent colour while focused.
func (st Styles) Input() textinput.Styles {
	s := textinput.DefaultStyles(st.IsDark)
	s.Cursor.Blink = false
	s.Cursor.Color = st.Cursor.GetForeground()
	s.Focused.Text = st.Text
	s.Focused.Placeholder = st.Muted
	s.Blurred.Placeholder = st.Muted
	s.Focused.Prompt = st.Accent
	s.Blurred.Prompt = st.Muted
	return s
}
