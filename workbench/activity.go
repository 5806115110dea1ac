package workbench

import (
	"context"

	"casegraph/graph"
)

// Activity implements tui.Backend: q's transactions bucketed by time and
// by amount (store.DB.Activity), the amounts read against the reporting
// thresholds of the database's rule configuration unless q names its own.
// Money moves between instruments, so a person (or organisation) in
// q.Refs stands for the cards, accounts and wallets they hold; each
// instrument counts once however many of q.Refs hold it.
func (b *Workbench) Activity(ctx context.Context, q graph.ActivityQuery) (graph.Activity, error) {
	if b.remote != nil {
		return b.remoteActivity(ctx, q)
	}
	if q.Thresholds == nil {
		cfg, _, err := b.RuleConfig(ctx)
		if err != nil {
			return graph.Activity{}, err
		}
		q.Thresholds = cfg.ReportingThresholdMap()
	}
	refs, err := b.instrumentsOf(ctx, q.Refs)
	if err != nil {
		return graph.Activity{}, err
	}
	q.Refs = refs
	return b.db.Activity(ctx, q)
}

// holderLimit bounds the instruments read for one holder.
const holderLimit = 1000

// instrumentsOf replaces each person and organisation of refs by what they
// hold, keeping every other reference, each once, in order.
func (b *Workbench) instrumentsOf(ctx context.Context, refs []graph.Ref) ([]graph.Ref, error) {
	seen := make(map[graph.Ref]bool, len(refs))
	out := make([]graph.Ref, 0, len(refs))
	add := func(r graph.Ref) {
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	for _, r := range refs {
		if r.Kind != graph.KindPerson && r.Kind != graph.KindOrganisation {
			add(r)
			continue
		}
		add(r) // its own rows, if any
		rows, _, err := b.db.Neighbors(ctx, r, holderLimit)
		if err != nil {
			return nil, err
		}
		for _, n := range rows {
			if n.Relation == graph.LinkHolds.String() && n.Dir == graph.DirOut {
				add(n.Ref)
			}
		}
	}
	return out, nil
}
