// Package rectest holds a recording importers.Sink for the importer tests.
package rectest

import (
	"errors"
	"testing"

	"casegraph/graph"
	"casegraph/internal/shareddata"
)

// Sink records everything it is sent.
type Sink struct {
	Entities []graph.Entity
	Links    []graph.Link
	Txns     []graph.Txn
	FailOn   int // when > 0, the FailOn-th record of any kind is refused
	n        int
}

// ErrRefused is what a Sink with FailOn returns.
var ErrRefused = errors.New("sink refused")

func (s *Sink) step() error {
	s.n++
	if s.FailOn > 0 && s.n == s.FailOn {
		return ErrRefused
	}
	return nil
}

// PutEntity records e.
func (s *Sink) PutEntity(e graph.Entity) error {
	if err := s.step(); err != nil {
		return err
	}
	s.Entities = append(s.Entities, e)
	return nil
}

// PutLink records l.
func (s *Sink) PutLink(l graph.Link) error {
	if err := s.step(); err != nil {
		return err
	}
	s.Links = append(s.Links, l)
	return nil
}

// PutTxn records t.
func (s *Sink) PutTxn(t graph.Txn) error {
	if err := s.step(); err != nil {
		return err
	}
	s.Txns = append(s.Txns, t)
	return nil
}

// Entity returns the last full entity sent with ref, or a stub.
func (s *Sink) Entity(ref graph.Ref) (graph.Entity, bool) {
	var found graph.Entity
	ok := false
	for _, e := range s.Entities {
		if e.Ref == ref && (!ok || found.Stub || !e.Stub) {
			found, ok = e, true
		}
	}
	return found, ok
}

// Count counts the full (non-stub) entities of kind k.
func (s *Sink) Count(k graph.Kind) int {
	seen := map[graph.Ref]bool{}
	for _, e := range s.Entities {
		if e.Ref.Kind == k && !e.Stub {
			seen[e.Ref] = true
		}
	}
	return len(seen)
}

// SharedData returns the path of a shared public data set
// ($CASEGRAPH_SHARED_DATA, ../shared/data beside the module, or
// /work/shared/data), skipping the test when it is absent.
func SharedData(t testing.TB, rel string) string {
	t.Helper()
	return shareddata.Dir(t, rel)
}
