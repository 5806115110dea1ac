package workbench

import (
	"context"
	"fmt"

	"casegraph/graph"
)

// A person's or organisation's money is on the instruments they hold: their
// page, casegraph show and their trace read it combined (store/holdings.go),
// with a toggle to one instrument (graph.TxQuery.Via).

// holderKind reports whether entities of kind k hold instruments.
func holderKind(k graph.Kind) bool { return k == graph.KindPerson || k == graph.KindOrganisation }

// Holdings implements tui.Backend: the instruments ref holds, at most limit
// of them listed, with the combined totals; zero for kinds that hold none.
func (b *Workbench) Holdings(ctx context.Context, ref graph.Ref, limit int) (graph.Holdings, error) {
	if !holderKind(ref.Kind) {
		return graph.Holdings{}, nil
	}
	if b.remote != nil {
		return readerHoldings(ctx, b.remote, ref, limit)
	}
	return b.db.Holdings(ctx, ref, limit)
}

// owners are the entities whose transactions ref's listing merges: nil
// for an entity that holds nothing (its own listing); the one held
// instrument via, when set; else ref and the graph.MaxMerged-1 held
// instruments with the most transactions, and how many were left out.
func (b *Workbench) owners(ctx context.Context, ref, via graph.Ref) ([]graph.Ref, int, error) {
	if !holderKind(ref.Kind) {
		return nil, 0, nil
	}
	limit := graph.MaxMerged - 1
	if !via.IsZero() {
		limit = 0 // find via among all of them
	}
	h, err := b.Holdings(ctx, ref, limit)
	if err != nil || h.Total == 0 {
		return nil, 0, err
	}
	if !via.IsZero() {
		for _, it := range h.Items {
			if it.Ref == via {
				return []graph.Ref{via}, 0, nil
			}
		}
		return nil, 0, fmt.Errorf("%s does not hold %s", ref, via)
	}
	owners := make([]graph.Ref, 0, len(h.Items)+1)
	owners = append(owners, ref)
	for _, it := range h.Items {
		owners = append(owners, it.Ref)
	}
	return owners, h.Total - len(h.Items), nil
}

// HolderNeighbors implements tui.Backend: ref's links and the counterparties
// of everything it holds (or of the one held instrument via), each money
// row naming the instrument it came through; an entity that holds nothing
// has its own neighbours.
func (b *Workbench) HolderNeighbors(ctx context.Context, ref, via graph.Ref, limit int) ([]graph.Neighbor, int, error) {
	owners, _, err := b.owners(ctx, ref, via)
	if err != nil {
		return nil, 0, err
	}
	if owners == nil {
		return b.Neighbors(ctx, ref, limit)
	}
	held := owners
	if via.IsZero() {
		held = owners[1:] // the holder's own rows come with its links
	}
	if b.remote != nil {
		return readerNeighborsOf(ctx, b.remote, ref, held, limit)
	}
	return b.db.NeighborsOf(ctx, ref, held, limit)
}

// HoldingRow is one held instrument in casegraph show's holdings.
type HoldingRow struct {
	Ref          string `json:"ref"`
	Name         string `json:"name,omitempty"`
	Transactions int    `json:"transactions"`
	In           string `json:"in"`
	Out          string `json:"out"`
}

// HoldingsReport is a holder's holdings in casegraph show --json: the
// combined totals (the sum of the instruments' and the holder's own) and
// the instruments with the most transactions.
type HoldingsReport struct {
	Instruments  int          `json:"instruments"`
	Listed       []HoldingRow `json:"listed"`
	Transactions int          `json:"transactions"`
	In           string       `json:"in"`
	Out          string       `json:"out"`
	Truncated    bool         `json:"truncated,omitempty"`
}

// HoldingsReportOf is h for casegraph show --json; amounts are decimals of the
// minor units ("495000.00").
func HoldingsReportOf(h graph.Holdings) HoldingsReport {
	r := HoldingsReport{Instruments: h.Total, Listed: make([]HoldingRow, 0, len(h.Items)), Transactions: h.Txns,
		In: decimal(h.In), Out: decimal(h.Out), Truncated: h.Truncated}
	for _, it := range h.Items {
		r.Listed = append(r.Listed, HoldingRow{Ref: it.Ref.String(), Name: it.Name, Transactions: it.Txns, In: decimal(it.In), Out: decimal(it.Out)})
	}
	return r
}

// HoldingsLines are the holdings as casegraph show prints them.
func HoldingsLines(h graph.Holdings) []string {
	out := []string{fmt.Sprintf("holds          %d instruments · combined %d transactions · in %s · out %s", h.Total, h.Txns,
		graph.FormatMoney(h.In, ""), graph.FormatMoney(h.Out, ""))}
	for _, it := range h.Items {
		out = append(out, fmt.Sprintf("  %-34s %6d tx · in %s · out %s", it.Ref.String(), it.Txns, graph.FormatMoney(it.In, ""), graph.FormatMoney(it.Out, "")))
	}
	if more := h.Total - len(h.Items); more > 0 {
		out = append(out, fmt.Sprintf("  +%d more", more))
	}
	if h.Truncated {
		out = append(out, fmt.Sprintf("  (more than %d instruments: the totals count the first)", graph.MaxHoldings))
	}
	return out
}

func decimal(minor int64) string {
	sign := ""
	if minor < 0 {
		sign, minor = "-", -minor
	}
	return fmt.Sprintf("%s%d.%02d", sign, minor/100, minor%100)
}
