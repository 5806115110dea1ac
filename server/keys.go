package server

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"casegraph/workbench"
)

// Member is one key of the team file: whose it is and what they may do.
type Member struct {
	User        string
	Role        workbench.Role
	Key         gossh.PublicKey
	Fingerprint string // SHA256:… as ssh-keygen -l prints it
	Line        int    // where in the team file
}

// userName is what a team member may be called: it is their SSH login
// name and the name the journal records.
var userName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,31}$`)

// ParseTeam reads a team file: an OpenSSH authorized_keys file in which
// every key carries the options user=NAME and role=ROLE, e.g.
//
//	# casegraph team
//	user=alice,role=investigator ssh-ed25519 AAAAC3Nz… alice@laptop
//	user=bob,role=viewer ssh-ed25519 AAAAC3Nz… bob@desk
//
// Blank lines and lines starting with # are skipped. Any other option, a
// missing user or role, an unknown role, a name that is not lower-case
// letters, digits, '.', '_' or '-', a key listed twice, or one user given
// two roles is an error naming file:line. name is the file's name for the
// errors.
func ParseTeam(name string, data []byte) ([]Member, error) {
	var out []Member
	byKey := map[string]int{}
	roleOf := map[string]Member{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		bad := func(format string, a ...any) error {
			return fmt.Errorf("%s:%d: %s", name, n, fmt.Sprintf(format, a...))
		}
		key, _, opts, rest, err := gossh.ParseAuthorizedKey([]byte(line))
		if err != nil {
			return nil, bad("not an authorized_keys line (want user=NAME,role=ROLE KEYTYPE BASE64 [COMMENT]): %v", err)
		}
		if len(bytes.TrimSpace(rest)) > 0 {
			return nil, bad("one key per line")
		}
		m := Member{Key: key, Fingerprint: gossh.FingerprintSHA256(key), Line: n}
		for _, o := range opts {
			k, v, ok := strings.Cut(o, "=")
			v = strings.Trim(v, `"`)
			switch {
			case !ok:
				return nil, bad("option %q is not NAME=VALUE (only user= and role= are understood)", o)
			case k == "user":
				if m.User != "" {
					return nil, bad("user given twice")
				}
				if !userName.MatchString(v) {
					return nil, bad("user %q: want 1–32 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit", v)
				}
				m.User = v
			case k == "role":
				if m.Role != "" {
					return nil, bad("role given twice")
				}
				r, err := workbench.ParseRole(v)
				if err != nil {
					return nil, bad("%v", err)
				}
				m.Role = r
			default:
				return nil, bad("option %q is not understood (only user= and role=)", k)
			}
		}
		if m.User == "" || m.Role == "" {
			return nil, bad("every key needs user=NAME and role=ROLE before the key type")
		}
		if first, ok := byKey[string(key.Marshal())]; ok {
			return nil, bad("the key %s is already listed at line %d", m.Fingerprint, first)
		}
		if o, ok := roleOf[m.User]; ok && o.Role != m.Role {
			return nil, bad("%s has the role %s at line %d and %s here", m.User, o.Role, o.Line, m.Role)
		}
		byKey[string(key.Marshal())] = n
		roleOf[m.User] = m
		out = append(out, m)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %w", name, n+1, err)
	}
	return out, nil
}

// team is the team file as last read: it is read again when it changes on
// disk, so adding a key needs no restart. A file that no longer parses
// keeps the last good one in force (and is reported by reload).
type team struct {
	path string

	mu      sync.Mutex
	members map[string]Member // by marshalled key
	mod     time.Time
	size    int64
}

func loadTeam(path string) (*team, error) {
	t := &team{path: path}
	if _, err := t.reload(); err != nil {
		return nil, err
	}
	return t, nil
}

// reload reads the file again when its time or size changed; changed
// reports whether it did.
func (t *team) reload() (changed bool, err error) {
	fi, err := os.Stat(t.path)
	if err != nil {
		return false, fmt.Errorf("team file: %w", err)
	}
	t.mu.Lock()
	same := t.members != nil && fi.ModTime().Equal(t.mod) && fi.Size() == t.size
	t.mu.Unlock()
	if same {
		return false, nil
	}
	data, err := os.ReadFile(t.path)
	if err != nil {
		return false, fmt.Errorf("team file: %w", err)
	}
	ms, err := ParseTeam(t.path, data)
	if err != nil {
		return false, err
	}
	byKey := make(map[string]Member, len(ms))
	for _, m := range ms {
		byKey[string(m.Key.Marshal())] = m
	}
	t.mu.Lock()
	t.members, t.mod, t.size = byKey, fi.ModTime(), fi.Size()
	t.mu.Unlock()
	return true, nil
}

// lookup finds the member whose key k is.
func (t *team) lookup(k gossh.PublicKey) (Member, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	m, ok := t.members[string(k.Marshal())]
	return m, ok
}
