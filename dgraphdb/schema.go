package dgraphdb

import (
	"context"
	"fmt"
	"hash/fnv"
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
// transactions: tx.YYYY_MM.FIELD (the attributes of the month's
// transactions) and tx.id.NN / tx.month.NN (the stable id, in one of
// txIDBuckets hash buckets, and the month the transaction is in); import
// batches: cg.batch*; month buckets: sent.YYYY_MM and recv.YYYY_MM from an
// entity to its transactions of that month. Why the transactions are cut
// this way: docs/adr/0003-dgraph-month-buckets.md.
const (
	predRef      = "cg.ref"      // "KIND:KEY", KIND the graph.Kind number: the stable external id
	predKind     = "cg.kind"     // graph.Kind
	predKey      = "cg.key"      // the canonical key: IIN, PAN, IBAN, phone… (exact)
	predName     = "cg.name"     // display name (search goes through cg.find)
	predFind     = "cg.find"     // what search matches: label (the name), terms, skeleton (trigram)
	predStub     = "cg.stub"     // true while only referenced, false once imported itself
	predEntity   = "cg.entity"   // the entity as JSON (graph.Entity), stub properties merged
	predStubRec  = "cg.stubrec"  // the stub record as JSON, kept for a full entity written later
	predBatch    = "cg.batch"    // import batch number
	predBatchSum = "cg.sha256"   // the imported file's SHA-256
	predBatchRec = "cg.batchrec" // the batch as JSON (graph.Batch)
	predMeta     = "cg.meta"     // names a node of casegraph's own: metaStats
	predStatsRec = "cg.statsrec" // the counts the last import stored (graph.Stats as JSON)
	predRisk     = "cg.risk"     // an entity's risk score, written back by an analysis of a pulled neighbourhood
	predRiskRec  = "cg.riskrec"  // that risk, its analysis run and the pull's scope as JSON
	predMonths   = "cg.months"   // the month buckets an entity has transactions in (a superset: a moved transaction leaves its old month listed)
	predMonthsOK = "cg.monthsok" // on the stats node: every entity's cg.months is complete (the cluster's first load wrote them)
	metaStats    = "stats"
	predSent     = "sent." // sent.YYYY_MM: entity → its outgoing transactions of the month
	predRecv     = "recv." // recv.YYYY_MM: entity → its incoming transactions of the month
	predLinkOut  = "l."
	predLinkIn   = "li."
)

// The attributes of a transaction, each a predicate per month:
// tx.YYYY_MM.FIELD (txPred).
const (
	fTime   = "time"    // datetime, UTC
	fAmount = "amount"  // minor units
	fChan   = "channel" // graph.Channel
	fSortID = "sortid"  // id ordered as the Badger store orders ties: length, then bytes
	fFrom   = "from"    // uid of the sending entity
	fTo     = "to"      // uid of the receiving entity
	fRec    = "rec"     // the transaction as JSON (graph.Txn)
)

// txFields are the attribute fields with their schema, in the order a
// month's schema lists them.
var txFields = []struct{ field, schema string }{
	{fTime, "datetime @index(hour)"},
	{fAmount, "int @index(int)"},
	{fChan, "int"},
	{fSortID, "string"},
	{fFrom, "uid"},
	{fTo, "uid"},
	{fRec, "string"},
}

// Hub summaries of month m (docs/adr/0003-dgraph-month-buckets.md): an
// entity with at least hubMin transactions in the month has, under
// hs.YYYY_MM, one summary node per (direction, counterparty, channel) of the
// month: h.YYYY_MM.other is the counterparty, h.YYYY_MM.row the rest
// (hubRow as JSON). Neighbors reads them instead of grouping the month's
// transactions.
const (
	predHubs  = "hs." // hs.YYYY_MM: entity → its summary nodes of the month
	hubOther  = "other"
	hubRowFld = "row"
)

// hubPred is the predicate of a summary node's field in month m:
// "h.2026_03.row".
func hubPred(m, field string) string { return "h." + m + "." + field }

// hubMin is the number of transactions (sent and received) of an entity in
// a month from which the month has hub summaries. See docs/DGRAPH.md, "Hub
// summaries", for the measurement behind it: grouping a month's raw
// transactions took 22 ms at p90 with 250 of them and 53 ms with 500, so
// from 300 on a month is read from its summaries and no grouped month comes
// near the 50 ms a neighbour summary may take.
var hubMin = 300

// txPred is the predicate of a transaction attribute in month m:
// "tx.2026_03.amount".
func txPred(m, field string) string { return "tx." + m + "." + field }

// txIDBuckets is how many hash buckets the transaction ids are spread over:
// tx.id.00 … tx.id.31, each its own tablet, so that no single predicate
// holds every id. The bucket of an id (idBucket) depends on the id only, not
// on its month, so a transaction imported again with another time is found
// where it was. The number is part of the data model: changing it changes
// every id's bucket, and a cluster loaded with another number must be
// loaded again.
const txIDBuckets = 32

// idBucket is the bucket of a transaction id: FNV-1a (32 bits) modulo
// txIDBuckets.
func idBucket(id string) int {
	h := fnv.New32a()
	h.Write([]byte(id))
	return int(h.Sum32() % txIDBuckets)
}

// predTxID is the id predicate of bucket b: "tx.id.07" (exact, upsert).
func predTxID(b int) string { return fmt.Sprintf("tx.id.%02d", b) }

// predTxMonth is the month predicate of bucket b, "tx.month.07": the
// month ("2026_03") whose tx.YYYY_MM.* attributes the transaction has.
func predTxMonth(b int) string { return fmt.Sprintf("tx.month.%02d", b) }

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
		predBatch + `: int @index(int) @upsert .`,
		predBatchSum + `: string @index(exact) .`,
		predBatchRec + `: string .`,
		predMeta + `: string @index(exact) @upsert .`,
		predMonths + `: [string] .`,
		predMonthsOK + `: bool .`,
		predStatsRec + `: string .`,
		predRisk + `: float @index(float) .`,
		predRiskRec + `: string .`,
	} {
		b.WriteString(l + "\n")
	}
	for _, t := range linkTypes {
		fmt.Fprintf(&b, "%s%s: [uid] .\n%s%s: [uid] .\n", predLinkOut, t, predLinkIn, t)
	}
	for i := 0; i < txIDBuckets; i++ {
		b.WriteString(idBucketSchema(i))
	}
	return b.String()
}

// idBucketSchema is the schema of id bucket i.
func idBucketSchema(i int) string {
	return fmt.Sprintf("%s: string @index(exact) @upsert .\n%s: string .\n", predTxID(i), predTxMonth(i))
}

// monthSchema is the schema of month m: its adjacency (sent, recv) and its
// transactions' attributes.
func monthSchema(m string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s%s: [uid] .\n%s%s: [uid] .\n", predSent, m, predRecv, m)
	for _, f := range txFields {
		fmt.Fprintf(&b, "%s: %s .\n", txPred(m, f.field), f.schema)
	}
	fmt.Fprintf(&b, "%s%s: [uid] .\n%s: uid .\n%s: string .\n", predHubs, m, hubPred(m, hubOther), hubPred(m, hubRowFld))
	return b.String()
}

// Schema writes casegraph's schema (all but the month buckets, which
// EnsureMonth adds as data needs them). The id buckets are written through
// alpha i%alphas of the URL, as the months are (EnsureMonth), so that each
// group the URL names serves its share of them. Writing it again changes
// nothing.
func (db *DB) Schema(ctx context.Context) error {
	var base strings.Builder
	for _, l := range strings.SplitAfter(baseSchema(), "\n") {
		if !strings.HasPrefix(l, "tx.") {
			base.WriteString(l)
		}
	}
	if err := alter(ctx, db.dg, base.String()); err != nil {
		return fmt.Errorf("dgraph %s: write schema: %w", db.url, err)
	}
	each := make([]strings.Builder, len(db.each))
	for i := 0; i < txIDBuckets; i++ {
		each[i%len(db.each)].WriteString(idBucketSchema(i))
	}
	for i, c := range db.each {
		if each[i].Len() == 0 {
			continue
		}
		if err := alter(ctx, c, each[i].String()); err != nil {
			return fmt.Errorf("dgraph %s: write the id buckets' schema: %w", db.url, err)
		}
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

// monthName is the bucket of a monthIndex.
func monthName(i int) string { return fmt.Sprintf("%04d_%02d", i/12, i%12+1) }

// monthIndex numbers months consecutively (year*12 + month - 1).
func monthIndex(m string) int {
	y, _ := strconv.Atoi(m[:4])
	mo, _ := strconv.Atoi(m[5:])
	return y*12 + mo - 1
}

// EnsureMonth adds the predicates of a month bucket (monthSchema: the
// adjacency and the transactions' attributes) unless the cluster has them.
// They are written through alpha monthIndex%alphas of the URL: Dgraph gives
// a new predicate to the group of the alpha that first asks for it, so
// consecutive months go to the groups of consecutive alphas in the URL and
// a month's edges and attributes go to the same group.
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
	if err := alter(ctx, c, monthSchema(m)); err != nil {
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
