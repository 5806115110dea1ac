package workbench

import (
	"context"
	"fmt"

	"casegraph/graph"
)

// A person's or organisation's money is on the instruments they hold: their
// page, casegraph show and their trace read it combined (store/holdings.go;
// on a cluster holdmerge.go), with a toggle to one instrument
// (graph.TxQuery.Via).

// holderKind reports whether entities of kind k hold instruments.
func holderKind(k graph.Kind) bool { return k == graph.KindPerson || k == graph.KindOrganisation }

// holderStore is what a holder's page is read from: the Badger store,
// which merges the instruments' rows itself (store/holdings.go), or a
// backend.Reader with the merge put together here (readerMerge,
// holdmerge.go).
type holderStore interface {
	Holdings(ctx context.Context, ref graph.Ref, limit int) (graph.Holdings, error)
	Neighbors(ctx context.Context, ref graph.Ref, limit int) ([]graph.Neighbor, int, error)
	NeighborsOf(ctx context.Context, ref graph.Ref, held []graph.Ref, limit int) ([]graph.Neighbor, int, error)
	Transactions(ctx context.Context, ref graph.Ref, q graph.TxQuery) (graph.TxPage, error)
	TransactionsOf(ctx context.Context, owners []graph.Ref, q graph.TxQuery) (graph.TxPage, error)
}

// HolderPages are a person's or organisation's holdings, counterparties and
// transactions over everything they hold; every other entity's are its
// own. The workbench is one (tui.Backend); ClusterHolderPages reads them
// straight from a cluster.
type HolderPages interface {
	Holdings(ctx context.Context, ref graph.Ref, limit int) (graph.Holdings, error)
	HolderNeighbors(ctx context.Context, ref, via graph.Ref, limit int) ([]graph.Neighbor, int, error)
	Transactions(ctx context.Context, ref graph.Ref, q graph.TxQuery) (graph.TxPage, error)
}

// holderPages answers HolderPages from st.
type holderPages struct{ st holderStore }

// holders is where the workbench reads a holder's page.
func (b *Workbench) holders() holderPages {
	if b.remote != nil {
		return holderPages{readerMerge{b.remote}}
	}
	return holderPages{b.db}
}

// Holdings implements tui.Backend: the instruments ref holds, at most limit
// of them listed, with the combined totals; zero for kinds that hold none.
func (b *Workbench) Holdings(ctx context.Context, ref graph.Ref, limit int) (graph.Holdings, error) {
	return b.holders().Holdings(ctx, ref, limit)
}

// HolderNeighbors implements tui.Backend: ref's links and the counterparties
// of everything it holds (or of the one held instrument via), each money
// row naming the instrument it came through; an entity that holds nothing
// has its own neighbours.
func (b *Workbench) HolderNeighbors(ctx context.Context, ref, via graph.Ref, limit int) ([]graph.Neighbor, int, error) {
	return b.holders().HolderNeighbors(ctx, ref, via, limit)
}

// Transactions implements tui.Backend: a person's or organisation's are
// those of everything they hold.
func (b *Workbench) Transactions(ctx context.Context, ref graph.Ref, q graph.TxQuery) (graph.TxPage, error) {
	return b.holders().Transactions(ctx, ref, q)
}

func (h holderPages) Holdings(ctx context.Context, ref graph.Ref, limit int) (graph.Holdings, error) {
	if !holderKind(ref.Kind) {
		return graph.Holdings{}, nil
	}
	return h.st.Holdings(ctx, ref, limit)
}

// owners are the entities whose transactions ref's listing merges: nil
// for an entity that holds nothing (its own listing); the one held
// instrument via, when set; else ref and the graph.MaxMerged-1 held
// instruments with the most transactions, and how many were left out.
func (h holderPages) owners(ctx context.Context, ref, via graph.Ref) ([]graph.Ref, int, error) {
	if !holderKind(ref.Kind) {
		return nil, 0, nil
	}
	limit := graph.MaxMerged - 1
	if !via.IsZero() {
		limit = 0 // find via among all of them
	}
	held, err := h.Holdings(ctx, ref, limit)
	if err != nil || held.Total == 0 {
		return nil, 0, err
	}
	if !via.IsZero() {
		for _, it := range held.Items {
			if it.Ref == via {
				return []graph.Ref{via}, 0, nil
			}
		}
		return nil, 0, fmt.Errorf("%s does not hold %s", ref, via)
	}
	owners := make([]graph.Ref, 0, len(held.Items)+1)
	owners = append(owners, ref)
	for _, it := range held.Items {
		owners = append(owners, it.Ref)
	}
	return owners, held.Total - len(held.Items), nil
}

func (h holderPages) HolderNeighbors(ctx context.Context, ref, via graph.Ref, limit int) ([]graph.Neighbor, int, error) {
	owners, _, err := h.owners(ctx, ref, via)
	if err != nil {
		return nil, 0, err
	}
	if owners == nil {
		return h.st.Neighbors(ctx, ref, limit)
	}
	held := owners
	if via.IsZero() {
		held = owners[1:] // the holder's own rows come with its links
	}
	return h.st.NeighborsOf(ctx, ref, held, limit)
}

func (h holderPages) Transactions(ctx context.Context, ref graph.Ref, q graph.TxQuery) (graph.TxPage, error) {
	owners, omitted, err := h.owners(ctx, ref, q.Via)
	if err != nil {
		return graph.TxPage{}, err
	}
	q.Via = graph.Ref{}
	if owners == nil {
		return h.st.Transactions(ctx, ref, q)
	}
	page, err := h.st.TransactionsOf(ctx, owners, q)
	page.Omitted = omitted
	return page, err
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
