//go:build tools

// Package tools pins the Dgraph server at the version in go.mod so that .ci/dgraph/build can
// `go build` its real main package (github.com/dgraph-io/dgraph/v25/dgraph) into a cache outside
// the repository. It is its own module so that Dgraph's dependencies never enter casegraph's
// build; see docs/DGRAPH.md.
package tools

import (
	_ "github.com/dgraph-io/dgraph/v25/dgraph"
)
