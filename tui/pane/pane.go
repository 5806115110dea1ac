// Package pane draws the titled, rounded frames that every casegraph screen is
// built from, and cuts styled text to exact cell widths.
package pane

import (
	"strings"

	"github.com/charmbracelet/x/ansi"

	"casegraph/tui/theme"
)

// Fit cuts s (which may contain styles) to exactly w cells: truncated with an
// ellipsis when too long, padded with spaces when too short.
func Fit(s string, w int) string {
	if w <= 0 {
		return ""
	}
	sw := ansi.StringWidth(s)
	if sw > w {
		return ansi.Truncate(s, w, "…")
	}
	return s + strings.Repeat(" ", w-sw)
}

// FitMiddle cuts s (which may contain styles) to exactly w cells like Fit,
// but takes the cut from the middle: an identifier keeps its distinguishing
// end (a masked PAN its last four digits, an IBAN its account digits, a
// device id its tail) and a little of its start. Free text is cut with Fit.
func FitMiddle(s string, w int) string {
	if w <= 0 {
		return ""
	}
	sw := ansi.StringWidth(s)
	if sw <= w {
		return s + strings.Repeat(" ", w-sw)
	}
	if w < 3 {
		return ansi.TruncateLeft(s, sw-w, "")
	}
	head := (w - 1) / 3
	tail := w - 1 - head
	return ansi.Truncate(s, head, "") + "…" + ansi.TruncateLeft(s, sw-tail, "")
}

// Right right-aligns s in w cells, truncating it when too long.
func Right(s string, w int) string {
	if w <= 0 {
		return ""
	}
	sw := ansi.StringWidth(s)
	if sw > w {
		return ansi.Truncate(s, w, "…")
	}
	return strings.Repeat(" ", w-sw) + s
}

// Center centres s in w cells.
func Center(s string, w int) string {
	sw := ansi.StringWidth(s)
	if sw >= w {
		return Fit(s, w)
	}
	left := (w - sw) / 2
	return strings.Repeat(" ", left) + s + strings.Repeat(" ", w-sw-left)
}

// Spread puts left and right on one line of w cells, the gap filled with
// spaces; the left part is cut first when both do not fit.
func Spread(left, right string, w int) string {
	rw := ansi.StringWidth(right)
	if rw >= w {
		return Fit(right, w)
	}
	lw := w - rw - 1
	if lw < 1 {
		return Right(right, w)
	}
	return Fit(left, lw) + " " + right
}

// ContentWidth is the width left for content inside a frame of width w.
func ContentWidth(w int) int { return max(0, w-4) }

// ContentHeight is the number of content lines inside a frame of height h.
func ContentHeight(h int) int { return max(0, h-2) }

// Box draws a rounded frame of exactly w×h cells with title embedded in the
// top edge and footer in the bottom edge (right-aligned). body lines are cut
// or padded to the content width; missing lines are blank.
func Box(st theme.Styles, title, footer string, body []string, w, h int, focused bool) []string {
	if w < 4 || h < 2 {
		out := make([]string, max(h, 0))
		for i := range out {
			out[i] = strings.Repeat(" ", max(w, 0))
		}
		return out
	}
	border, titleSt := st.Border, st.Title
	if focused {
		border, titleSt = st.BorderFocus, st.TitleFocus
	}
	inner := w - 2
	out := make([]string, 0, h)

	top := border.Render("╭─")
	used := 1
	if title != "" {
		t := ansi.Truncate(" "+title+" ", inner-2, "…")
		top += titleSt.Render(t)
		used += ansi.StringWidth(t)
	}
	top += border.Render(strings.Repeat("─", max(0, inner-used)) + "╮")
	out = append(out, top)

	cw := ContentWidth(w)
	side := border.Render("│")
	for i := 0; i < h-2; i++ {
		line := ""
		if i < len(body) {
			line = body[i]
		}
		out = append(out, side+" "+Fit(line, cw)+" "+side)
	}

	bottom := ""
	if footer != "" {
		f := " " + footer + " "
		f = ansi.Truncate(f, inner-2, "…")
		fw := ansi.StringWidth(f)
		bottom = border.Render(strings.Repeat("─", inner-fw-1)) + st.Muted.Render(f) + border.Render("─")
	} else {
		bottom = border.Render(strings.Repeat("─", inner))
	}
	out = append(out, border.Render("╰")+bottom+border.Render("╯"))
	return out
}

// Join places blocks of lines side by side; every block must have the same
// number of lines (the first block decides).
func Join(blocks ...[]string) []string {
	if len(blocks) == 0 {
		return nil
	}
	out := make([]string, len(blocks[0]))
	for i := range out {
		var b strings.Builder
		for _, blk := range blocks {
			if i < len(blk) {
				b.WriteString(blk[i])
			}
		}
		out[i] = b.String()
	}
	return out
}
