package graph

import "errors"

// ErrNotFound is returned (wrapped) when an entity, transaction or case does
// not exist.
var ErrNotFound = errors.New("not found")
