package importers

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"strconv"
	"strings"

	"casegraph/graph"
)

// Conflicting duplicates (docs/SECURITY.md, "Hostile input files"): the
// same id given twice with different data is never an unseen overwrite. The
// first is kept and the second is rejected with a reason that names both
// places; an identical repeat passes, so a re-import changes nothing. One
// mechanism serves every path:
//
//   - within a file, the importer checks each row (canonical CSV: the row's
//     values; profiles: their transactions and entities; FtM: the record of
//     an id; goAML: the transaction element of a number) with an IDGuard
//     before it sends anything;
//   - across the files of one run and against earlier imports, the
//     workbench's sink checks every transaction and full entity with an
//     IDGuard that spans the run, and the store, and refuses a conflicting
//     record with a RecordError, which every importer turns into a reject
//     of the row that carried it.

// maxIDs bounds the ids (or, for records, the id and field pairs) a guard
// remembers: about 24 bytes each with the map's overhead, some 25 MB. Beyond
// it, ids not seen yet are no longer remembered: a conflict between two rows
// past the first maxIDs distinct ids goes unreported.
const maxIDs = 1 << 20

// Place is where a record was read: its file and line (or element number).
type Place struct {
	File string
	Line int
}

func (p Place) String() string { return p.File + ":" + strconv.Itoa(p.Line) }

// firstRow is where an id was first seen and a 32-bit hash of its data.
type firstRow struct {
	sum  uint32
	line uint32
	file uint32 // index into IDGuard.files
}

type pendingID struct {
	k   uint64
	row firstRow
}

// IDGuard finds conflicting duplicates: the same id given twice with
// different data. Check a row's id (or a record: CheckTxn, CheckEntity);
// once the row is imported, Remember it (a rejected row holds no id). The
// first is kept, a conflicting one is rejected naming both places; an
// identical repeat passes. A guard may span files: places carry the file.
type IDGuard struct {
	seed    maphash.Seed
	ids     map[uint64]firstRow
	files   []string
	fileIdx map[string]uint32
	pending []pendingID
}

// NewIDGuard returns an empty guard.
func NewIDGuard() *IDGuard {
	return &IDGuard{seed: maphash.MakeSeed(), ids: make(map[uint64]firstRow), fileIdx: make(map[string]uint32)}
}

// Seed is the seed to hash a row's data with (maphash).
func (g *IDGuard) Seed() maphash.Seed { return g.seed }

func (g *IDGuard) file(name string) uint32 {
	i, ok := g.fileIdx[name]
	if !ok {
		i = uint32(len(g.files))
		g.files = append(g.files, name)
		g.fileIdx[name] = i
	}
	return i
}

func fold(sum uint64) uint32 { return uint32(sum>>32) ^ uint32(sum) }

// check looks key k up: a conflict returns where it was first seen; a new
// key is added to the pending ones.
func (g *IDGuard) check(k, sum uint64, file string, line int) (Place, bool) {
	s := fold(sum)
	if first, ok := g.ids[k]; ok {
		if first.sum == s {
			return Place{}, false
		}
		return Place{File: g.files[first.file], Line: int(first.line)}, true
	}
	g.pending = append(g.pending, pendingID{k: k, row: firstRow{sum: s, line: uint32(line), file: g.file(file)}})
	return Place{}, false
}

// Check reports the line of the row that gave id first, when it gave it
// with data of another hash; otherwise it notes id for Remember. It is the
// single-file form: the guard's places carry no file name.
func (g *IDGuard) Check(id string, sum uint64, line int) (firstLine int, conflict bool) {
	g.pending = g.pending[:0]
	first, bad := g.check(maphash.String(g.seed, id), sum, "", line)
	return first.Line, bad
}

// Remember records what the last check noted, once its row is imported.
func (g *IDGuard) Remember() {
	for _, p := range g.pending {
		if len(g.ids) >= maxIDs {
			break
		}
		g.ids[p.k] = p.row
	}
	g.pending = g.pending[:0]
}

// ConflictReason is the reject reason of a conflicting duplicate within one
// file.
func ConflictReason(column, id, file string, line, firstLine int) string {
	return PlacesReason(column, id, "different data", Place{file, line}, Place{file, firstLine})
}

// PlacesReason is the reject reason of a conflicting duplicate: what (e.g.
// "different data", "a different name") differs at this place from the
// first.
func PlacesReason(column, id, what string, at, first Place) string {
	return fmt.Sprintf("conflicting duplicate: %s %s at %s has %s than at %s (the first is kept)",
		column, Preview(id), at, what, first)
}

// TxnSum hashes what a transaction says (not where it was read).
func TxnSum(seed maphash.Seed, t *graph.Txn) uint64 {
	var h maphash.Hash
	h.SetSeed(seed)
	for _, s := range [...]string{t.From.Key, t.To.Key, t.Currency, t.ATM, t.Device, t.IP, t.Reference} {
		h.WriteString(s)
		h.WriteByte(0)
	}
	var b [8 * 5]byte
	binary.LittleEndian.PutUint64(b[0:], uint64(t.Time.UnixNano()))
	binary.LittleEndian.PutUint64(b[8:], uint64(t.Amount))
	binary.LittleEndian.PutUint64(b[16:], uint64(t.From.Kind)<<8|uint64(t.To.Kind))
	binary.LittleEndian.PutUint64(b[24:], uint64(t.Channel))
	if t.DateOnly {
		b[32] = 1
	}
	h.Write(b[:])
	return h.Sum64()
}

// CheckTxn checks a transaction by its id; a conflict is a RecordError
// naming t.Src and the first place. Without one, Remember records it.
func (g *IDGuard) CheckTxn(t *graph.Txn) *RecordError {
	g.pending = g.pending[:0]
	var h maphash.Hash
	h.SetSeed(g.seed)
	h.WriteByte(0xff)
	h.WriteString(t.ID)
	at := Place{t.Src.File, t.Src.Line}
	if first, bad := g.check(h.Sum64(), TxnSum(g.seed, t), at.File, at.Line); bad {
		return &RecordError{Column: "tx_id", Value: t.ID,
			Reason: PlacesReason("tx_id", t.ID, "different data", at, first)}
	}
	return nil
}

// ConflictIgnored reports the properties that say where an entity was read
// or how a list rates it, not what it is: they may change from file to file
// (a list's status is updated on purpose) and are not compared.
func ConflictIgnored(prop string) bool {
	switch prop {
	case "list_status", "goaml_report", "goaml_report_code", "ftm_id", "ftm_schema", "name_truncated":
		return true
	}
	return strings.HasPrefix(prop, "sanction_")
}

// CheckEntity checks a full entity field by field: its name and each
// property against what the guard remembers of the same entity. An entity
// may gain a name or properties it lacked (an empty value is none); a value
// given before and now different is a conflict, a RecordError naming the
// field, e.Src and the first place. Stubs never conflict.
func (g *IDGuard) CheckEntity(e *graph.Entity) *RecordError {
	g.pending = g.pending[:0]
	if e.Stub {
		return nil
	}
	at := Place{e.Src.File, e.Src.Line}
	field := func(name, v string) *RecordError {
		if v == "" {
			return nil
		}
		var h maphash.Hash
		h.SetSeed(g.seed)
		h.WriteByte(byte(e.Ref.Kind))
		h.WriteString(e.Ref.Key)
		h.WriteByte(0)
		h.WriteString(name)
		if first, bad := g.check(h.Sum64(), maphash.String(g.seed, v), at.File, at.Line); bad {
			what, col := "a different "+name, name
			if name == "" {
				what, col = "a different name", "name"
			}
			return &RecordError{Column: col, Value: e.Ref.Key,
				Reason: PlacesReason(e.Ref.Kind.String(), e.Ref.Key, what, at, first)}
		}
		return nil
	}
	if ce := field("", e.Name); ce != nil {
		g.pending = g.pending[:0]
		return ce
	}
	for k, v := range e.Props {
		if ConflictIgnored(k) {
			continue
		}
		if ce := field(k, v); ce != nil {
			g.pending = g.pending[:0]
			return ce
		}
	}
	return nil
}

// EntitySum hashes what an entity says, as CheckEntity compares it (its
// name and the properties not ConflictIgnored, empty values left out), in
// any order of its properties: equal sums mean an identical repeat, which a
// caller may pass without CheckEntity's field-by-field lookups.
func EntitySum(seed maphash.Seed, e *graph.Entity) uint64 {
	sum := maphash.String(seed, e.Name)
	for k, v := range e.Props {
		if v == "" || ConflictIgnored(k) {
			continue
		}
		var h maphash.Hash
		h.SetSeed(seed)
		h.WriteString(k)
		h.WriteByte(0)
		h.WriteString(v)
		sum += h.Sum64()
	}
	return sum
}

// RecordError is what a Sink (or the books of the non-CSV importers)
// returns for one record that is refused, not for a failure of the sink: a
// conflicting duplicate (its id another file or an earlier import gave other
// data), or a key or field that no record may hold (longer than
// MaxFieldBytes, not UTF-8, a NUL byte). Every importer rejects the row that
// carried it instead of stopping.
type RecordError struct {
	Column, Value string
	Reason        string // a conflict names both places: this row and the first one
}

func (e *RecordError) Error() string { return e.Reason }

// AsRecordError unwraps a RecordError from a sink error.
func AsRecordError(err error) (*RecordError, bool) {
	var ce *RecordError
	ok := errors.As(err, &ce)
	return ce, ok
}
