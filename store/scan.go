package store

import (
	"bytes"
	"context"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"casegraph/graph"
)

// ScanAll streams the whole case in key order, for building the in-memory
// graph index: every entity once (the full record when one exists, else the
// stub), every link once (its forward row), and every transaction once (the
// sender's row). A nil callback skips that part. An error from a callback
// stops the scan and is returned as is.
//
// Transactions are read from the sender's [t] rows rather than through the
// [i] id keys: the rows are one sequential prefix scan, while the id keys
// would cost a random read per transaction.
func (db *DB) ScanAll(ctx context.Context, fe func(graph.Entity) error, fl func(graph.Link) error, ft func(graph.Txn) error) error {
	var fnErr error
	err := db.view(ctx, func(txn *badger.Txn) error {
		if fe != nil {
			if err := scanEntities(ctx, txn, func(e graph.Entity) error { fnErr = fe(e); return fnErr }); err != nil {
				return fmt.Errorf("entities: %w", err)
			}
		}
		if fl != nil {
			if err := scanLinks(ctx, txn, func(l graph.Link) error { fnErr = fl(l); return fnErr }); err != nil {
				return fmt.Errorf("links: %w", err)
			}
		}
		if ft != nil {
			if err := scanTxns(ctx, txn, func(t graph.Txn) error { fnErr = ft(t); return fnErr }); err != nil {
				return fmt.Errorf("transactions: %w", err)
			}
		}
		return nil
	})
	if fnErr != nil {
		return fnErr
	}
	if err != nil {
		return fmt.Errorf("scan %s: %w", db.dir, err)
	}
	return nil
}

func scanEntities(ctx context.Context, txn *badger.Txn, fn func(graph.Entity) error) error {
	var last []byte // [e][ref] of the previous record: a stub after its full record is skipped
	return scan(ctx, txn, []byte{pfxEntity}, true, func(k, v []byte) error {
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
		return fn(e)
	})
}

func scanLinks(ctx context.Context, txn *badger.Txn, fn func(graph.Link) error) error {
	return scan(ctx, txn, []byte{pfxLinkOut}, true, func(k, v []byte) error {
		_, from, typ, to, err := parseLinkKey(k)
		if err != nil {
			return err
		}
		role, src, err := decodeLink(v)
		if err != nil {
			return fmt.Errorf("decode link %s %s %s: %w", from, typ, to, err)
		}
		return fn(graph.Link{From: from, To: to, Type: typ, Role: role, Src: src})
	})
}

func scanTxns(ctx context.Context, txn *badger.Txn, fn func(graph.Txn) error) error {
	return scanItems(ctx, txn, []byte{pfxTxn}, func(item *badger.Item) error {
		k := item.Key()
		// The direction byte ends the key; only the sender's row is read.
		if k[len(k)-1] != byte(graph.DirOut) {
			return nil
		}
		var t graph.Txn
		err := item.Value(func(v []byte) error {
			var err error
			t, err = decodeTxn(k, v)
			return err
		})
		if err != nil {
			return err
		}
		return fn(t)
	})
}
