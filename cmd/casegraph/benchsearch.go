package main

import (
	"context"
	"fmt"
	"time"

	tea "charm.land/bubbletea/v2"

	"casegraph/dgraphdb"
	"casegraph/tui"
	"casegraph/tui/search"
	"casegraph/tui/theme"
	"casegraph/workbench"
)

// paneKeys types the bench's words into the TUI's search pane over b (a
// workbench on a cluster), one key at a time, running the pane's commands
// concurrently as the Bubble Tea runtime does, and pausing after each key
// until the cluster's hits are merged. It returns, for the keystrokes of
// dgraphdb.MinQuery characters and more (those typeQueries measures), how
// long each took until the local hits were on the pane and until the
// cluster's were merged into them (search.Debounce included). Each word
// starts a fresh pane; the local index carries over, as in a session.
func paneKeys(ctx context.Context, b *workbench.Workbench) (local, merged []time.Duration, err error) {
	for _, w := range typedQueries {
		m := search.New(ctx, b, tui.ErrSearchNotReady, theme.New(true))
		m.SetSize(120, 40)
		m.Focus()
		msgs := make(chan tea.Msg, 64)
		for i, r := range []rune(w) {
			t0 := time.Now()
			var cmd tea.Cmd
			m, cmd = m.Update(tea.KeyPressMsg{Code: r, Text: string(r)})
			runCmds(cmd, msgs)
			measured := i+1 >= dgraphdb.MinQuery
			var gotLocal, gotServer bool
			for !gotLocal || !gotServer {
				var msg tea.Msg
				select {
				case msg = <-msgs:
				case <-ctx.Done():
					return nil, nil, ctx.Err()
				case <-time.After(time.Minute):
					return nil, nil, fmt.Errorf("bench: no answer to %q within a minute", string([]rune(w)[:i+1]))
				}
				res, ok := msg.(search.ResultsMsg)
				if !ok {
					continue
				}
				m, _ = m.Update(res)
				if res.Seq != m.Seq() {
					continue
				}
				if res.Err != nil {
					return nil, nil, res.Err
				}
				took := time.Since(t0)
				if res.Server {
					gotServer = true
					if measured {
						merged = append(merged, took)
					}
				} else {
					gotLocal = true
					if measured {
						local = append(local, took)
					}
				}
			}
		}
	}
	return local, merged, nil
}

// runCmds runs cmd and the commands of its batches concurrently, sending
// their messages to out (a blinking cursor's among them).
func runCmds(cmd tea.Cmd, out chan<- tea.Msg) {
	if cmd == nil {
		return
	}
	go func() {
		msg := cmd()
		if batch, ok := msg.(tea.BatchMsg); ok {
			for _, c := range batch {
				runCmds(c, out)
			}
			return
		}
		if msg != nil {
			select {
			case out <- msg:
			default: // nobody reads it any more (a late cursor blink)
			}
		}
	}()
}
