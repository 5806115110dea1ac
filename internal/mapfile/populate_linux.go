package mapfile

import "golang.org/x/sys/unix"

// mapPopulate asks the kernel to map the file's cached pages at once.
const mapPopulate = unix.MAP_POPULATE
