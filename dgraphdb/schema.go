package dgraphdb

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dgraph-io/dgo/v250"
	"github.com/dgraph-io/dgo/v250/protos/api"

	"casegraph/graph"
)

// Predicates. Entities: cg.*; link types: l.TYPE (outgoing, with the link's
// role as a facet) and li.TYPE (the same link seen from its target);
// transactions: tx.*; import batches: cg.batch*; month buckets: sent.YYYY_MM
// and recv.YYYY_MM from an entity to its transactions of that month.
const (
	predRef      = "cg.ref"      // "KIND:KEY", KIND the graph.Kind number: the stable external id
	predKind     = "cg.kind"     // graph.Kind
	predKey      = "cg.key"      // the canonical key: IIN, PAN, IBAN, phone… (exact)
	predName     = "cg.name"     // display name (search goes through cg.find)
	predFind     = "cg.find"     // what search matches: label (the name), terms, skeleton (trigram)
	predStub     = "cg.stub"     // true while only referenced, false once imported itself
	predEntity   = "cg.entity"   // the entity as JSON (graph.Entity), stub properties merged
	predStubRec  = "cg.stubrec"  // the stub record as JSON, kept for a full entity written later
	predTxID     = "tx.id"       // transaction id: the stable external id
	predTxTime   = "tx.time"     // datetime, UTC
	predTxAmount = "tx.amount"   // minor units
	predTxChan   = "tx.channel"  // graph.Channel
	predTxSortID = "tx.sortid"   // id ordered as the Badger store orders ties: length, then bytes
	predTxFrom   = "tx.from"     // uid of the sending entity
	predTxTo     = "tx.to"       // uid of the receiving entity
	predTxRec    = "tx.rec"      // the transaction as JSON (graph.Txn)
	predBatch    = "cg.batch"    // import batch number
	predBatchSum = "cg.sha256"   // the imported file's SHA-256
	predBatchRec = "cg.batchrec" // the batch as JSON (graph.Batch)
	predMeta     = "cg.meta"     // names a node of casegraph's own: metaStats
	predStatsRec = "cg.statsrec" // the counts the last import stored (graph.Stats as JSON)
	predRisk     = "cg.risk"     // an entity's risk score, written back by an analysis of a pulled neighbourhood
	predRiskRec  = "cg.riskrec"  // that risk, its analysis run and the pull's scope as JSON
	metaStats    = "stats"
	predSent     = "sent." // sent.YYYY_MM: entity → its outgoing transactions of the month
	predRecv     = "recv." // recv.YYYY_MM: entity → its incoming transactions of the month
	predLinkOut  = "l."
	predLinkIn   = "li."
)

// linkTypes are the link types that have predicates.
var linkTypes = func() []graph.LinkType {
	var out []graph.LinkType
	for t := graph.LinkHolds; ; t++ {
		if strings.HasPrefix(t.String(), "link(") {
			return out
		}
		out = append(out, t)
	}
}()

// baseSchema is everything but the month buckets: trigram indexes for name
// search, exact ones for identifiers and ids, and the time and amount
// indexes transaction pages sort by.
func baseSchema() string {
	var b strings.Builder
	for _, l := range []string{
		predRef + `: string @index(exact) @upsert .`,
		predKind + `: int @index(int) .`,
		predKey + `: string @index(exact) .`,
		predName + `: string .`,
		predFind + `: string @index(trigram) .`,
		predStub + `: bool @index(bool) .`,
		predEntity + `: string .`,
		predStubRec + `: string .`,
		predTxID + `: string @index(exact) @upsert .`,
		predTxTime + `: datetime @index(hour) .`,
		predTxAmount + `: int @index(int) .`,
		predTxChan + `: int @index(int) .`,
		predTxSortID + `: string .`,
		predTxFrom + `: uid .`,
		predTxTo + `: uid .`,
		predTxRec + `: string .`,
		predBatch + `: int @index(int) @upsert .`,
		predBatchSum + `: string @index(exact) .`,
		predBatchRec + `: string .`,
		predMeta + `: string @index(exact) @upsert .`,
		predStatsRec + `: string .`,
		predRisk + `: float @index(float) .`,
		predRiskRec + `: string .`,
	} {
		b.WriteString(l + "\n")
	}
	for _, t := range linkTypes {
		fmt.Fprintf(&b, "%s%s: [uid] .\n%s%s: [uid] .\n", predLinkOut, t, predLinkIn, t)
	}
	return b.String()
}

// Schema writes casegraph's schema (all but the month buckets, which
// EnsureMonth adds as data needs them). Writing it again changes nothing.
func (db *DB) Schema(ctx context.Context) error {
	if err := alter(ctx, db.dg, baseSchema()); err != nil {
		return fmt.Errorf("dgraph %s: write schema: %w", db.url, err)
	}
	return nil
}

// alter writes schema; see alterOp.
func alter(ctx context.Context, c *dgo.Dgraph, schema string) error {
	return alterOp(ctx, c, &api.Operation{Schema: schema})
}

// alterOp runs a schema operation, again for up to 30 s while the cluster
// answers that it is not ready ("Please retry": an alpha that has just
// joined; "No connection exists": its connection to the other group's
// alpha is not up yet).
func alterOp(ctx context.Context, c *dgo.Dgraph, op *api.Operation) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := c.Alter(ctx, op)
		if err == nil || !notReady(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// notReady reports whether err says the cluster is not ready yet.
func notReady(err error) bool {
	return strings.Contains(err.Error(), "Please retry") || strings.Contains(err.Error(), "No connection exists")
}

// Month is the bucket of a time: "2026_03" (UTC).
func Month(t time.Time) string {
	t = t.UTC()
	return fmt.Sprintf("%04d_%02d", t.Year(), int(t.Month()))
}

// isMonth reports whether s is a bucket name written by Month.
func isMonth(s string) bool {
	if len(s) != 7 || s[4] != '_' {
		return false
	}
	y, err1 := strconv.Atoi(s[:4])
	m, err2 := strconv.Atoi(s[5:])
	return err1 == nil && err2 == nil && y >= 0 && m >= 1 && m <= 12
}

// monthIndex numbers months consecutively (year*12 + month - 1).
func monthIndex(m string) int {
	y, _ := strconv.Atoi(m[:4])
	mo, _ := strconv.Atoi(m[5:])
	return y*12 + mo - 1
}

// EnsureMonth adds the predicates of a month bucket unless the cluster has
// them. They are written through alpha monthIndex%alphas of the URL: Dgraph
// gives a new predicate to the group of the alpha that first asks for it,
// so consecutive months go to the groups of consecutive alphas in the URL.
func (db *DB) EnsureMonth(ctx context.Context, m string) error {
	if !isMonth(m) {
		return fmt.Errorf("month bucket %q: want YYYY_MM", m)
	}
	if _, err := db.Months(ctx); err != nil {
		return err
	}
	db.mu.Lock()
	_, known := slices.BinarySearch(db.months, m)
	db.mu.Unlock()
	if known {
		return nil
	}
	c := db.each[monthIndex(m)%len(db.each)]
	s := fmt.Sprintf("%s%s: [uid] .\n%s%s: [uid] .\n", predSent, m, predRecv, m)
	if err := alter(ctx, c, s); err != nil {
		return fmt.Errorf("dgraph %s: add month %s: %w", db.url, m, err)
	}
	db.mu.Lock()
	if i, found := slices.BinarySearch(db.months, m); !found {
		db.months = slices.Insert(db.months, i, m)
	}
	db.mu.Unlock()
	return nil
}

// refID is the stable external id of an entity: "KIND:KEY".
func refID(r graph.Ref) string { return strconv.Itoa(int(r.Kind)) + ":" + r.Key }

// sortID orders transaction ids as the Badger store's keys do: by byte
// length, then bytes.
func sortID(id string) string { return fmt.Sprintf("%05d", len(id)) + id }

// quote writes s as a DQL string literal (the parser unquotes with Go's
// rules).
func quote(s string) string { return strconv.Quote(s) }
