package store

import (
	"bytes"

	"casegraph/graph"
)

// The store keeps one version of an entity. Within one import several
// records may give the same entity (a person in persons.csv and again in a
// later file), and a later record may lack a property an earlier one gave:
// the kept version is the later record with the name and properties of the
// earlier ones that it lacks (the later record's value wins on a property
// both give; the import's conflict check has refused different values
// before, docs/SECURITY.md "Hostile input files"). The provenance is the
// later record's, as when a full entity takes what it lacks from its stub.
// The bulk merge combines the values of equal full-entity keys where it
// drops all but the last one (memRun.each, memIter, merger.each); an
// incremental import reads the version it replaces (Loader.PutEntity).

// isFullEntityKey reports whether k is the key of a full entity.
func isFullEntityKey(k []byte) bool {
	return len(k) > 1 && k[0] == pfxEntity && k[len(k)-1] == flagFull
}

// keepOlderValue returns the full entity value newer with the name and the
// properties of the earlier value older of the same key k that it lacks.
// It returns newer itself when it lacks nothing, else a new slice.
func keepOlderValue(k, older, newer []byte) ([]byte, error) {
	if bytes.Equal(older, newer) {
		return newer, nil
	}
	ref, _, err := parseEntityKey(k)
	if err != nil {
		return nil, err
	}
	o, err := decodeEntity(ref, false, older)
	if err != nil {
		return nil, err
	}
	if o.Name == "" && len(o.Props) == 0 {
		return newer, nil
	}
	n, err := decodeEntity(ref, false, newer)
	if err != nil {
		return nil, err
	}
	m, changed := withEarlier(n, o)
	if !changed {
		return newer, nil
	}
	return encodeEntity(m), nil
}

// withEarlier returns e with the name and the properties of the earlier
// version old that e lacks (an empty value is none), and whether it added
// any. It never changes e's map: it copies it when it adds.
func withEarlier(e, old graph.Entity) (graph.Entity, bool) {
	changed := false
	if e.Name == "" && old.Name != "" {
		e.Name, changed = old.Name, true
	}
	for k := range old.Props {
		if old.Props[k] != "" && e.Props[k] == "" {
			e.Props, changed = graph.WithMissingProps(e.Props, old.Props), true
			break
		}
	}
	return e, changed
}

// isStubOf reports whether k is the stub key of the full entity key full.
func isStubOf(k, full []byte) bool {
	n := len(full)
	return len(k) == n && k[n-1] == flagStub && bytes.Equal(k[:n-1], full[:n-1])
}

// withStubValue returns the full entity value fullV with the properties of
// the stub value stubV that it lacks.
func withStubValue(fullV, stubK, stubV []byte) ([]byte, error) {
	ref, _, err := parseEntityKey(stubK)
	if err != nil {
		return nil, err
	}
	stub, err := decodeEntity(ref, true, stubV)
	if err != nil || len(stub.Props) == 0 {
		return fullV, err
	}
	full, err := decodeEntity(ref, false, fullV)
	if err != nil {
		return nil, err
	}
	full.Props = graph.WithMissingProps(full.Props, stub.Props)
	return encodeEntity(full), nil
}
