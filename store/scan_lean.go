package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"casegraph/graph"
)

// ScanLean streams the case like ScanAll, but decodes only what the graph
// index keeps, straight from Badger's buffers: the records handed to the
// callbacks borrow their bytes and are reused, so a callback must copy what
// it keeps. Links are read from their keys alone; transactions from the
// sender's [t] rows up to the payment reference (currency, properties and
// provenance are skipped). A nil callback skips that part; an error from a
// callback stops the scan and is returned as is.
func (db *DB) ScanLean(ctx context.Context, fe func(*graph.ScanEntity) error, fl func(*graph.ScanLink) error, ft func(*graph.ScanTxn) error) error {
	var fnErr error
	err := db.view(ctx, func(txn *badger.Txn) error {
		if fe != nil {
			if err := leanEntities(ctx, txn, func(e *graph.ScanEntity) error { fnErr = fe(e); return fnErr }); err != nil {
				return fmt.Errorf("entities: %w", err)
			}
		}
		if fl != nil {
			if err := leanLinks(ctx, txn, func(l *graph.ScanLink) error { fnErr = fl(l); return fnErr }); err != nil {
				return fmt.Errorf("links: %w", err)
			}
		}
		if ft != nil {
			if err := leanTxns(ctx, txn, func(t *graph.ScanTxn) error { fnErr = ft(t); return fnErr }); err != nil {
				return fmt.Errorf("transactions: %w", err)
			}
		}
		return nil
	})
	if fnErr != nil {
		return fnErr
	}
	if err != nil {
		return fmt.Errorf("lean scan %s: %w", db.dir, err)
	}
	return nil
}

// raw reads a length-prefixed string without copying it.
// skipProps reads past a property map without keeping it.
func (r *reader) skipProps() {
	n := r.uvarint()
	for i := uint64(0); i < n && r.err == nil; i++ {
		_, _ = r.raw(), r.raw()
	}
}

func (r *reader) raw() []byte {
	n := r.uvarint()
	if r.err != nil {
		return nil
	}
	if uint64(len(r.b)) < n {
		r.err = errShortValue
		return nil
	}
	s := r.b[:n:n]
	r.b = r.b[n:]
	return s
}

// rawRef reads a key reference ([kind][len uint16 BE][key]) without copying.
func rawRef(k []byte) (graph.ScanRef, []byte, error) {
	if len(k) < 3 {
		return graph.ScanRef{}, nil, errShortKey
	}
	n := int(binary.BigEndian.Uint16(k[1:]))
	if len(k) < 3+n {
		return graph.ScanRef{}, nil, fmt.Errorf("reference of %d bytes: %w", n, errShortKey)
	}
	return graph.ScanRef{Kind: graph.Kind(k[0]), Key: k[3 : 3+n : 3+n]}, k[3+n:], nil
}

// unixSeconds turns an encoded key time into unix seconds, floored like
// time.Time.Unix.
func unixSeconds(u uint64) int64 {
	ns := int64(u ^ (1 << 63))
	s := ns / 1e9
	if ns%1e9 < 0 {
		s--
	}
	return s
}

// leanDecoder decodes the records the lean scan reads from their keys and
// values, the store's own (ScanLean) or a bulk import's kept copy (LeanLog):
// one decoding for both. It skips a stub that follows its full record, so
// it must see every entity key in key order.
type leanDecoder struct {
	last []byte // [e][ref] of the previous entity: a stub after its full record is skipped
	e    graph.ScanEntity
	l    graph.ScanLink
	t    graph.ScanTxn
}

func (d *leanDecoder) entity(k, v []byte, fn func(*graph.ScanEntity) error) error {
	if len(k) < 2 || k[0] != pfxEntity {
		return fmt.Errorf("entity key: wrong prefix")
	}
	ref, rest, err := rawRef(k[1:])
	if err != nil {
		return fmt.Errorf("entity key: %w", err)
	}
	if len(rest) != 1 || rest[0] > flagStub {
		return fmt.Errorf("entity key %s: bad flag", ref.Key)
	}
	if d.last != nil && bytes.Equal(k[:len(k)-1], d.last) {
		return nil
	}
	d.last = append(d.last[:0], k[:len(k)-1]...)
	e := &d.e
	*e = graph.ScanEntity{Ref: ref, Stub: rest[0] == flagStub}
	r := reader{b: v}
	e.Name = r.raw()
	n := r.uvarint()
	for i := uint64(0); i < n && r.err == nil; i++ {
		key, val := r.raw(), r.raw()
		if slot, ok := graph.IndexPropSlot(key); ok {
			e.Props[slot] = val
			e.HasProps |= 1 << slot
		}
	}
	if r.err != nil {
		return fmt.Errorf("decode entity %d:%s: %w", ref.Kind, ref.Key, r.err)
	}
	return fn(e)
}

func (d *leanDecoder) link(k []byte, fn func(*graph.ScanLink) error) error {
	if len(k) < 2 || k[0] != pfxLinkOut {
		return fmt.Errorf("link key: wrong prefix")
	}
	from, rest, err := rawRef(k[1:])
	if err != nil {
		return fmt.Errorf("link key source: %w", err)
	}
	if len(rest) < 1 {
		return fmt.Errorf("link key type: %w", errShortKey)
	}
	typ := graph.LinkType(rest[0])
	to, rest, err := rawRef(rest[1:])
	if err != nil {
		return fmt.Errorf("link key target: %w", err)
	}
	if len(rest) != 0 {
		return fmt.Errorf("link key: %d trailing bytes", len(rest))
	}
	d.l = graph.ScanLink{From: from, To: to, Type: typ}
	return fn(&d.l)
}

// senderRow reads a sender's [t] key: the owner, the time and the id. It
// reports false for a receiver's row, which the lean scan does not read.
func senderRow(k []byte) (owner graph.ScanRef, at int64, id []byte, out bool, err error) {
	// The direction byte ends the key; only the sender's row is read.
	if len(k) < 2 || k[len(k)-1] != byte(graph.DirOut) {
		return owner, 0, nil, false, nil
	}
	owner, rest, err := rawRef(k[1:])
	if err != nil {
		return owner, 0, nil, false, fmt.Errorf("transaction key owner: %w", err)
	}
	if len(rest) < 8+2+1 {
		return owner, 0, nil, false, fmt.Errorf("transaction key: %w", errShortKey)
	}
	at = unixSeconds(binary.BigEndian.Uint64(rest))
	idLen := int(binary.BigEndian.Uint16(rest[8:]))
	if len(rest) != 8+2+idLen+1 {
		return owner, 0, nil, false, fmt.Errorf("transaction key id: %w", errShortKey)
	}
	return owner, at, rest[10 : 10+idLen : 10+idLen], true, nil
}

// txn decodes a sender's transaction row whose key senderRow read.
func (d *leanDecoder) txn(owner graph.ScanRef, at int64, id, v []byte, fn func(*graph.ScanTxn) error) error {
	if len(v) < txnFixed {
		return fmt.Errorf("decode transaction %s: %w", id, errShortValue)
	}
	t := &d.t
	*t = graph.ScanTxn{ID: id, Time: at, From: owner,
		Amount:  int64(binary.BigEndian.Uint64(v)),
		Channel: graph.Channel(v[8]), IINProvided: graph.Tri(v[9]), AppConfirmed: graph.Tri(v[10])}
	r := reader{b: v[txnFixed:]}
	t.To.Kind = graph.Kind(r.byte())
	t.To.Key = r.raw()
	t.Currency = r.raw()
	t.ATM, t.Device, t.IP, t.Reference = r.raw(), r.raw(), r.raw(), r.raw()
	r.skipProps()
	_ = r.raw() // provenance: file
	_ = r.uvarint()
	t.Batch = uint32(r.uvarint())
	if r.err == nil && len(r.b) > 0 {
		t.DateOnly = r.byte()&timeDateOnly != 0
	}
	if r.err != nil {
		return fmt.Errorf("decode transaction %s: %w", id, r.err)
	}
	return fn(t)
}

func leanEntities(ctx context.Context, txn *badger.Txn, fn func(*graph.ScanEntity) error) error {
	var d leanDecoder
	return scan(ctx, txn, []byte{pfxEntity}, true, func(k, v []byte) error { return d.entity(k, v, fn) })
}

func leanLinks(ctx context.Context, txn *badger.Txn, fn func(*graph.ScanLink) error) error {
	var d leanDecoder
	return scan(ctx, txn, []byte{pfxLinkOut}, false, func(k, _ []byte) error { return d.link(k, fn) })
}

func leanTxns(ctx context.Context, txn *badger.Txn, fn func(*graph.ScanTxn) error) error {
	var d leanDecoder
	return scanItems(ctx, txn, []byte{pfxTxn}, func(item *badger.Item) error {
		owner, at, id, out, err := senderRow(item.Key())
		if err != nil || !out {
			return err
		}
		return item.Value(func(v []byte) error { return d.txn(owner, at, id, v, fn) })
	})
}
