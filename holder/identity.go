package holder

import (
	"fmt"
	"os/user"
	"strconv"

	"casegraph/workbench"
)

// Identity is who a caller of the holder is, as the holder decides it
// from the kernel's peer credentials.
type Identity struct {
	UID  int
	User string         // the OS user name, which the journal records
	Role workbench.Role // what the caller may do
}

// Identify decides who a caller with uid peer is for a holder running as
// uid self: the same OS user is the database's owner (the database folder
// is theirs, mode 0700: they could open it themselves once the holder
// stops), with the owner's rights (workbench.RoleOwner), journalled under
// their user name. Any other user is refused, root included: giving them
// the database through the socket would widen what the folder's
// permissions allow. Colleagues work through a team server over SSH,
// where the team file gives each key a user and a role. lookup maps a uid
// to a user name (user.LookupId); when it fails the name is "uid:N".
func Identify(peer, self int, lookup func(uid string) (*user.User, error)) (Identity, error) {
	if peer != self {
		return Identity{}, fmt.Errorf("uid %d may not use this database: its holder runs as uid %d, and only that user may work beside it (colleagues connect to a team server over SSH: docs/SECURITY.md)", peer, self)
	}
	name := "uid:" + strconv.Itoa(peer)
	if lookup != nil {
		if u, err := lookup(strconv.Itoa(peer)); err == nil && u.Username != "" {
			name = u.Username
		}
	}
	return Identity{UID: peer, User: name, Role: workbench.RoleOwner}, nil
}
