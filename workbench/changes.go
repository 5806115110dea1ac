package workbench

import (
	"sync"

	"casegraph/graph"
)

// Change is one change a session made through the workbench: what the other
// sessions of a team server show at once (a bookmark, a note, a verdict, a
// status). It says who and what; a session reloads what it shows.
type Change struct {
	Session uint64    // the session that made it (Workbench.Session)
	User    string    // whom the journal names
	Action  string    // a journal action, e.g. "bookmark.add", "verdict.set"
	CaseID  string    // the case changed, if any
	Ref     graph.Ref // the entity changed (verdicts), if any
	What    string    // a short description for a status line
}

// hub hands every Change to every subscriber. A subscriber that does not
// keep up loses changes (its channel is full), never blocks the writer.
type hub struct {
	mu   sync.Mutex
	subs map[chan Change]struct{}
}

// Subscribe returns a channel of the changes every session of this
// database makes from now on, and a function that ends the subscription
// (and closes the channel).
func (b *Workbench) Subscribe() (<-chan Change, func()) {
	h := &b.hub
	ch := make(chan Change, 64)
	h.mu.Lock()
	if h.subs == nil {
		h.subs = map[chan Change]struct{}{}
	}
	h.subs[ch] = struct{}{}
	h.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			h.mu.Lock()
			delete(h.subs, ch)
			h.mu.Unlock()
			close(ch)
		})
	}
}

// publish hands c to every subscriber.
func (b *Workbench) publish(c Change) {
	c.Session, c.User = b.session, b.User()
	h := &b.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		select {
		case ch <- c:
		default:
		}
	}
}

// Session identifies this session among the subscribers' changes (0 for
// the Workbench New returns).
func (b *Workbench) Session() uint64 { return b.session }
