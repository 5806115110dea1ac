package store

import (
	"context"
	"errors"
	"testing"
)

// TestRetainKeepsTheDatabaseOpen: a borrower's Close (a command the holder
// runs) releases its share and leaves the database open for the holder;
// the holder's Close, past every share, closes it and frees the lock.
func TestRetainKeepsTheDatabaseOpen(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for range 2 {
		if err := db.Retain().Close(); err != nil {
			t.Fatalf("a borrower's close: %v", err)
		}
		if _, err := db.Stats(ctx); err != nil {
			t.Fatalf("the database after a borrower closed it: %v", err)
		}
	}
	if _, err := Open(dir, Options{ReadOnly: true}); !errors.Is(err, ErrLocked) {
		t.Fatalf("the holder still has it: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	ro, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("after the holder's close: %v", err)
	}
	ro.Close()
}
