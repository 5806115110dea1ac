package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"

	"casegraph/graph"
)

// Single-link edits for entity resolution (entity-resolution engineer). An
// analyst accepting a proposed match adds one same_as link, reverting it
// removes the link again, and rejecting a proposal records that the pair is
// not the same party so it is not proposed again. Each edit is one atomic
// db.Update: the forward and reverse link rows, the statistics, the data
// version and the journal entry commit together or not at all. Going through
// a Loader instead would rescan every entity and transaction id at Finish
// for one key.
//
// Every link edit bumps the batch sequence, so Stamp changes and snapshots
// derived from the data (the graph index) read as stale. An added link also
// gets a batch record of its own, so its provenance names a real batch.
//
// Layout:
//
//	[n][a ref][b ref] → rejection (JSON rejectionValue); a sorts before b (graph.Ref.Less)
const pfxNotSame byte = 'n'

// Journal actions of link edits and rejections.
const (
	ActLinkAdd     = "link.add"
	ActLinkRemove  = "link.remove"
	ActMatchReject = "match.reject"
)

// notSameKey: [n][a ref][b ref], the pair in Ref.Less order.
func notSameKey(a, b graph.Ref) []byte {
	if b.Less(a) {
		a, b = b, a
	}
	k := make([]byte, 0, 7+len(a.Key)+len(b.Key))
	k = appendRef(append(k, pfxNotSame), a)
	return appendRef(k, b)
}

func parseNotSameKey(k []byte) (a, b graph.Ref, err error) {
	if len(k) < 1 || k[0] != pfxNotSame {
		return a, b, fmt.Errorf("rejection key: wrong prefix")
	}
	a, rest, err := readRef(k[1:])
	if err != nil {
		return a, b, fmt.Errorf("rejection key: %w", err)
	}
	b, rest, err = readRef(rest)
	if err != nil {
		return a, b, fmt.Errorf("rejection key: %w", err)
	}
	if len(rest) != 0 {
		return a, b, fmt.Errorf("rejection key: %d trailing bytes", len(rest))
	}
	return a, b, nil
}

// Rejection records that an analyst decided two entities are not the same
// party.
type Rejection struct {
	A, B   graph.Ref // A sorts before B
	Score  float64   // the score of the rejected proposal
	Method string    // its method, e.g. "skeleton+dob"
	User   string
	Time   time.Time
}

type rejectionValue struct {
	Score  float64   `json:"score"`
	Method string    `json:"method"`
	User   string    `json:"user"`
	Time   time.Time `json:"time"`
}

type linkDetail struct {
	From  string `json:"from"`
	To    string `json:"to"`
	Type  string `json:"type"`
	Role  string `json:"role,omitempty"`
	Batch uint32 `json:"batch,omitempty"`
	Src   string `json:"src,omitempty"`
}

func linkDetailOf(l graph.Link) linkDetail {
	return linkDetail{From: l.From.String(), To: l.To.String(), Type: l.Type.String(), Role: l.Role,
		Batch: l.Src.Batch, Src: l.Src.String()}
}

// AddLink writes one link under both endpoints, counts it in the statistics
// and journals it, in one transaction. The link becomes a batch of its own:
// its Src.Batch is set to that batch (Src.File names it, "link" when empty)
// and the stored link is returned. Writing a link that exists replaces its
// role and provenance.
func (db *DB) AddLink(ctx context.Context, act Actor, l graph.Link) (graph.Link, error) {
	if err := db.checkLinkEdit(l); err != nil {
		return graph.Link{}, fmt.Errorf("add %s link: %w", l.Type, err)
	}
	if l.Src.File == "" {
		l.Src.File = "link"
	}
	db.caseMu.Lock()
	defer db.caseMu.Unlock()
	err := db.update(ctx, func(txn *badger.Txn) error {
		seq, err := bumpBatchSeq(txn)
		if err != nil {
			return err
		}
		l.Src.Batch = seq
		out := linkKey(pfxLinkOut, l.From, l.Type, l.To)
		_, err = txn.Get(out)
		existed := err == nil
		if err != nil && !errors.Is(err, badger.ErrKeyNotFound) {
			return fmt.Errorf("read link: %w", err)
		}
		v := encodeLink(l)
		if err := txn.Set(out, v); err != nil {
			return fmt.Errorf("write link: %w", err)
		}
		if err := txn.Set(linkKey(pfxLinkIn, l.To, l.Type, l.From), v); err != nil {
			return fmt.Errorf("write reverse link: %w", err)
		}
		b := graph.Batch{ID: seq, File: l.Src.File, Format: l.Type.String(), Read: 1, Imported: 1, At: act.Time.UTC()}
		bv, err := json.Marshal(b)
		if err != nil {
			return fmt.Errorf("encode batch %d: %w", seq, err)
		}
		if err := txn.Set(batchKey(seq), bv); err != nil {
			return fmt.Errorf("write batch %d: %w", seq, err)
		}
		err = editStats(txn, func(s *graph.Stats) {
			if !existed {
				s.Links[l.Type]++
			}
			s.Batches = append(s.Batches, b)
		})
		if err != nil {
			return err
		}
		_, err = db.appendJournal(txn, act, ActLinkAdd, "", linkDetailOf(l))
		return err
	})
	if err != nil {
		return graph.Link{}, fmt.Errorf("add %s link %s → %s: %w", l.Type, l.From, l.To, err)
	}
	return l, db.sync()
}

// RemoveLink deletes the link from l.From to l.To of type l.Type (role and
// provenance are not compared): both rows, its count in the statistics, and
// journals the removed link with its role and provenance, in one
// transaction. It returns the link as it was stored, or an error wrapping
// ErrNotFound.
func (db *DB) RemoveLink(ctx context.Context, act Actor, l graph.Link) (graph.Link, error) {
	if err := db.checkLinkEdit(l); err != nil {
		return graph.Link{}, fmt.Errorf("remove %s link: %w", l.Type, err)
	}
	db.caseMu.Lock()
	defer db.caseMu.Unlock()
	var old graph.Link
	err := db.update(ctx, func(txn *badger.Txn) error {
		out := linkKey(pfxLinkOut, l.From, l.Type, l.To)
		item, err := txn.Get(out)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("read link: %w", err)
		}
		old = graph.Link{From: l.From, To: l.To, Type: l.Type}
		if err := item.Value(func(v []byte) error {
			old.Role, old.Src, err = decodeLink(v)
			return err
		}); err != nil {
			return fmt.Errorf("decode link: %w", err)
		}
		if err := txn.Delete(out); err != nil {
			return fmt.Errorf("delete link: %w", err)
		}
		if err := txn.Delete(linkKey(pfxLinkIn, l.To, l.Type, l.From)); err != nil {
			return fmt.Errorf("delete reverse link: %w", err)
		}
		// No batch record for a removal, but a new data version all the same.
		if _, err := bumpBatchSeq(txn); err != nil {
			return err
		}
		err = editStats(txn, func(s *graph.Stats) {
			if s.Links[l.Type]--; s.Links[l.Type] <= 0 {
				delete(s.Links, l.Type)
			}
		})
		if err != nil {
			return err
		}
		_, err = db.appendJournal(txn, act, ActLinkRemove, "", linkDetailOf(old))
		return err
	})
	if err != nil {
		return graph.Link{}, fmt.Errorf("remove %s link %s → %s: %w", l.Type, l.From, l.To, err)
	}
	return old, db.sync()
}

func (db *DB) checkLinkEdit(l graph.Link) error {
	if db.readOnly {
		return fmt.Errorf("database %s is open read-only", db.dir)
	}
	if err := checkRef(l.From); err != nil {
		return fmt.Errorf("from: %w", err)
	}
	if err := checkRef(l.To); err != nil {
		return fmt.Errorf("to: %w", err)
	}
	if _, err := graph.ParseLinkType(l.Type.String()); err != nil {
		return err
	}
	return nil
}

// bumpBatchSeq hands out the next batch id inside txn.
func bumpBatchSeq(txn *badger.Txn) (uint32, error) {
	var seq uint32
	item, err := txn.Get(metaKey(metaBatchSeq))
	switch {
	case err == nil:
		err = item.Value(func(v []byte) error {
			if len(v) != 4 {
				return fmt.Errorf("batch sequence is %d bytes, want 4", len(v))
			}
			seq = binary.BigEndian.Uint32(v)
			return nil
		})
		if err != nil {
			return 0, err
		}
	case !errors.Is(err, badger.ErrKeyNotFound):
		return 0, fmt.Errorf("read batch sequence: %w", err)
	}
	seq++
	if err := txn.Set(metaKey(metaBatchSeq), seqValue(seq)); err != nil {
		return 0, fmt.Errorf("write batch sequence: %w", err)
	}
	return seq, nil
}

// editStats rewrites the persisted statistics inside txn.
func editStats(txn *badger.Txn, fn func(s *graph.Stats)) error {
	s := newStats()
	item, err := txn.Get(metaKey(metaStats))
	switch {
	case err == nil:
		if err := item.Value(func(v []byte) error { return json.Unmarshal(v, &s) }); err != nil {
			return fmt.Errorf("decode stats: %w", err)
		}
		if s.Links == nil {
			s.Links = map[graph.LinkType]int{}
		}
	case !errors.Is(err, badger.ErrKeyNotFound):
		return fmt.Errorf("read stats: %w", err)
	}
	fn(&s)
	v, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("encode stats: %w", err)
	}
	if err := txn.Set(metaKey(metaStats), v); err != nil {
		return fmt.Errorf("write stats: %w", err)
	}
	return nil
}

// Links returns every link of one type, in key order (by source). Only the
// keys of other types are read, and their type is checked before anything
// is decoded: a database holds many more links than same_as ones.
func (db *DB) Links(ctx context.Context, typ graph.LinkType) ([]graph.Link, error) {
	var out []graph.Link
	err := db.view(ctx, func(txn *badger.Txn) error {
		return scanItems(ctx, txn, []byte{pfxLinkOut}, func(item *badger.Item) error {
			k := item.Key()
			// [l][kind][len uint16][from key][type]…
			if len(k) >= 4 {
				if at := 4 + int(binary.BigEndian.Uint16(k[2:4])); at < len(k) && graph.LinkType(k[at]) != typ {
					return nil
				}
			}
			_, from, t, to, err := parseLinkKey(k)
			if err != nil {
				return err
			}
			if t != typ {
				return nil
			}
			var role string
			var src graph.Provenance
			if err := item.Value(func(v []byte) error {
				role, src, err = decodeLink(v)
				return err
			}); err != nil {
				return fmt.Errorf("decode link %s %s %s: %w", from, t, to, err)
			}
			out = append(out, graph.Link{From: from, To: to, Type: t, Role: role, Src: src})
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read %s links of %s: %w", typ, db.dir, err)
	}
	return out, nil
}

// EntitiesOf calls fn with every entity of the given kinds (the full record
// when there is one, else the stub), kind by kind in key order. Entity keys
// start with the kind, so only those kinds' keys are read.
func (db *DB) EntitiesOf(ctx context.Context, kinds []graph.Kind, fn func(graph.Entity) error) error {
	var fnErr error
	err := db.view(ctx, func(txn *badger.Txn) error {
		var last []byte // [e][ref] of the previous record: a stub after its full record is skipped
		for _, kind := range kinds {
			err := scan(ctx, txn, []byte{pfxEntity, byte(kind)}, true, func(k, v []byte) error {
				ref, stub, err := parseEntityKey(k)
				if err != nil {
					return err
				}
				if last != nil && bytes.Equal(k[:len(k)-1], last) {
					return nil
				}
				last = append(last[:0], k[:len(k)-1]...)
				e, err := decodeEntity(ref, stub, v)
				if err != nil {
					return err
				}
				fnErr = fn(e)
				return fnErr
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if fnErr != nil {
		return fnErr
	}
	if err != nil {
		return fmt.Errorf("read entities of %s: %w", db.dir, err)
	}
	return nil
}

// RejectMatch records that r.A and r.B are not the same party, with the
// actor's name and time, and journals it. Rejecting a pair again replaces
// the record.
func (db *DB) RejectMatch(ctx context.Context, act Actor, r Rejection) (Rejection, error) {
	if db.readOnly {
		return Rejection{}, fmt.Errorf("reject match: database %s is open read-only", db.dir)
	}
	if err := checkRef(r.A); err != nil {
		return Rejection{}, fmt.Errorf("reject match: %w", err)
	}
	if err := checkRef(r.B); err != nil {
		return Rejection{}, fmt.Errorf("reject match: %w", err)
	}
	if r.B.Less(r.A) {
		r.A, r.B = r.B, r.A
	}
	r.User, r.Time = act.User, act.Time.UTC()
	v, err := json.Marshal(rejectionValue{Score: r.Score, Method: r.Method, User: r.User, Time: r.Time})
	if err != nil {
		return Rejection{}, fmt.Errorf("reject match: encode: %w", err)
	}
	db.caseMu.Lock()
	defer db.caseMu.Unlock()
	err = db.update(ctx, func(txn *badger.Txn) error {
		if err := txn.Set(notSameKey(r.A, r.B), v); err != nil {
			return err
		}
		_, err := db.appendJournalRecord(txn, act, ActMatchReject, notSameKey(r.A, r.B), v, map[string]any{
			"a": r.A.String(), "b": r.B.String(), "score": r.Score, "method": r.Method})
		return err
	})
	if err != nil {
		return Rejection{}, fmt.Errorf("reject match %s ~ %s: %w", r.A, r.B, err)
	}
	return r, db.sync()
}

// Rejections returns every rejected pair, in key order.
func (db *DB) Rejections(ctx context.Context) ([]Rejection, error) {
	var out []Rejection
	err := db.view(ctx, func(txn *badger.Txn) error {
		return scan(ctx, txn, []byte{pfxNotSame}, true, func(k, v []byte) error {
			a, b, err := parseNotSameKey(k)
			if err != nil {
				return err
			}
			var rv rejectionValue
			if err := json.Unmarshal(v, &rv); err != nil {
				return fmt.Errorf("decode rejection %s ~ %s: %w", a, b, err)
			}
			out = append(out, Rejection{A: a, B: b, Score: rv.Score, Method: rv.Method, User: rv.User, Time: rv.Time})
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read rejections of %s: %w", db.dir, err)
	}
	return out, nil
}
