//go:build !linux

package store

// releaseTableMappings is a no-op outside Linux; see finish_linux.go.
func releaseTableMappings(string) {}
