package workbench

import (
	"os"
	"os/user"
	"time"

	"casegraph/store"
)

// OSActor is who runs this process, for the journal: the OS user and now.
func OSActor() store.Actor {
	name := ""
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	if name == "" {
		name = os.Getenv("USER")
	}
	if name == "" {
		name = "unknown"
	}
	return store.Actor{User: name, Time: time.Now()}
}
