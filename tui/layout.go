package tui

// Minimum terminal size; below it the TUI shows a "too small" screen.
const (
	MinWidth  = 60
	MinHeight = 16
)

// rect is a screen rectangle in cells.
type rect struct{ X, Y, W, H int }

// layout is the geometry of every pane for one terminal size.
type layout struct {
	TooSmall bool
	Header   rect // breadcrumb and global hints
	Body     rect // the active screen
	Footer   rect // key hints of the active screen
	Status   rect // database, counts, latest message

	// Entity screen panes, inside Body.
	Props, Neighbors, Txns rect
}

// computeLayout splits a w×h terminal into panes. It is pure so it can be
// tested for every size.
func computeLayout(w, h int) layout {
	if w < MinWidth || h < MinHeight {
		return layout{TooSmall: true, Body: rect{0, 0, max(w, 0), max(h, 0)}}
	}
	l := layout{
		Header: rect{0, 0, w, 1},
		Body:   rect{0, 1, w, h - 3},
		Footer: rect{0, h - 2, w, 1},
		Status: rect{0, h - 1, w, 1},
	}
	b := l.Body
	// The upper band holds properties and neighbours; transactions get the
	// rest, which is where the paging happens.
	top := max(8, b.H*9/20)
	propsW := max(36, b.W*2/5)
	if b.W-propsW < 30 {
		propsW = b.W / 2
	}
	l.Props = rect{b.X, b.Y, propsW, top}
	l.Neighbors = rect{b.X + propsW, b.Y, b.W - propsW, top}
	l.Txns = rect{b.X, b.Y + top, b.W, b.H - top}
	return l
}
