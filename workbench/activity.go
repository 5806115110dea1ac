package workbench

import (
	"context"

	"casegraph/graph"
)

// Activity implements tui.Backend: q's transactions bucketed by time and
// by amount (store.DB.Activity), the amounts read against the reporting
// thresholds of the database's rule configuration unless q names its own.
func (b *Workbench) Activity(ctx context.Context, q graph.ActivityQuery) (graph.Activity, error) {
	if q.Thresholds == nil {
		cfg, _, err := b.RuleConfig(ctx)
		if err != nil {
			return graph.Activity{}, err
		}
		q.Thresholds = cfg.ReportingThresholdMap()
	}
	return b.db.Activity(ctx, q)
}
