//go:build unix && !linux

package mapfile

// mapPopulate: other systems have no MAP_POPULATE; pages fault in as read.
const mapPopulate = 0
