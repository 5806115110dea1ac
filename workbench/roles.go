package workbench

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"casegraph/store"
)

// Role is what a session of a team server may do. The zero Role is the
// owner of the database working locally (the CLI and the local TUI): every
// operation. The roles are enforced here, in the session's methods, not
// only hidden in a front end.
type Role string

const (
	RoleOwner        Role = ""             // local use: everything
	RoleInvestigator Role = "investigator" // edits cases, decides resolution, exports
	RoleAnalyst      Role = "analyst"      // bookmarks, notes and verdicts; exports
	RoleViewer       Role = "viewer"       // reads; exports only redacted
)

// Roles lists the roles a team server grants, most powerful first.
var Roles = []Role{RoleInvestigator, RoleAnalyst, RoleViewer}

// ParseRole reads a role name.
func ParseRole(s string) (Role, error) {
	for _, r := range Roles {
		if string(r) == s {
			return r, nil
		}
	}
	return "", fmt.Errorf("unknown role %q (want investigator, analyst or viewer)", s)
}

// Op is a kind of change a role may be granted.
type Op string

const (
	OpEditCase  Op = "create, rename, re-tag, change the status of or delete cases"
	OpBookmark  Op = "add, change or delete bookmarks"
	OpCaseNotes Op = "write case notes"
	OpVerdict   Op = "record or withdraw verdicts"
	OpResolve   Op = "accept, reject or revert entity-resolution matches"
	OpExport    Op = "export unredacted case files"
	OpConfig    Op = "change the rule configuration"
	OpImport    Op = "import data"
	OpUndo      Op = "undo another user's change"
)

// Allows reports whether r may do op.
func (r Role) Allows(op Op) bool {
	switch r {
	case RoleOwner, RoleInvestigator:
		return r == RoleOwner || (op != OpConfig && op != OpImport)
	case RoleAnalyst:
		return op == OpBookmark || op == OpCaseNotes || op == OpVerdict || op == OpExport
	}
	return false
}

// ErrForbidden is wrapped by every refusal of a role.
var ErrForbidden = errors.New("not allowed for this role")

// ForbiddenError is an operation a session's role does not allow.
type ForbiddenError struct {
	User string
	Role Role
	Op   Op
}

func (e *ForbiddenError) Error() string {
	return fmt.Sprintf("refused: %s is a %s and may not %s", e.User, e.Role, e.Op)
}

func (e *ForbiddenError) Is(target error) bool { return target == ErrForbidden }

// ActAccessDenied is the journal action of a refused operation.
const ActAccessDenied = "access.denied"

// AsRole is a session like As(user) that may do only what role allows;
// exports from it go under exportRoot/<user> (relative folders only) when
// exportRoot is not empty.
func (b *Workbench) AsRole(user string, role Role, exportRoot string) *Workbench {
	s := b.As(user)
	s.role, s.exportRoot = role, exportRoot
	return s
}

// User is whom the journal names for this session's changes.
func (b *Workbench) User() string { return b.actor().User }

// Role is what this session may do (RoleOwner for a local Workbench).
func (b *Workbench) Role() Role { return b.role }

// allow returns nil when the session's role allows op, else journals the
// refusal and returns a *ForbiddenError.
func (b *Workbench) allow(ctx context.Context, op Op, caseID string) error {
	if b.role.Allows(op) {
		return nil
	}
	err := &ForbiddenError{User: b.user, Role: b.role, Op: op}
	// A failure to journal the refusal does not turn it into a permission.
	_, _ = b.db.AppendJournal(ctx, b.actor(), ActAccessDenied, caseID, map[string]string{"role": string(b.role), "op": string(op)})
	return err
}

// exportDir confines an export folder of a team session to its export
// root: a relative folder goes under root/<user>; an absolute one, or one
// that climbs out with "..", is refused.
func (b *Workbench) exportDir(dir string) (string, error) {
	if b.exportRoot == "" {
		return dir, nil
	}
	clean := filepath.Clean(dir)
	if filepath.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator)) || filepath.VolumeName(clean) != "" {
		return "", fmt.Errorf("export to %s: on the team server exports go under the server's export folder; give a relative folder name", dir)
	}
	return filepath.Join(b.exportRoot, b.user, clean), nil
}

// undoAllowed checks an undo by a team session: an investigator may undo
// any case change; anyone else only their own last change, and only one
// their role could have made. It returns the journal sequence number the
// undo must revert (0: whatever is pending).
func (b *Workbench) undoAllowed(ctx context.Context) (uint64, error) {
	if b.role == RoleOwner {
		return 0, nil
	}
	u, ok, err := b.db.PendingUndo(ctx)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, store.ErrNothingToUndo
	}
	if b.role == RoleInvestigator {
		return u.Seq, nil
	}
	entries, err := b.db.Journal(ctx, u.CaseID)
	if err != nil {
		return 0, err
	}
	by := ""
	for _, e := range entries {
		if e.Seq == u.Seq {
			by = e.User
		}
	}
	op := OpEditCase
	switch u.Action {
	case store.ActBookmarkAdd, store.ActBookmarkUpdate, store.ActBookmarkDelete, store.ActBookmarkMove, store.ActBookmarkCopy:
		op = OpBookmark
	case store.ActCaseNotes:
		op = OpCaseNotes
	}
	if by != b.user || !b.role.Allows(op) {
		if err := b.allow(ctx, OpUndo, u.CaseID); err != nil {
			return 0, fmt.Errorf("%w (the last change, %s, was made by %s)", err, u.Action, by)
		}
	}
	return u.Seq, nil
}

// Record journals an event of this session that the workbench does not
// journal itself, such as a team server's logins, logouts and refusals;
// detail is any JSON-encodable value or nil.
func (b *Workbench) Record(ctx context.Context, action, caseID string, detail any) error {
	_, err := b.db.AppendJournal(ctx, b.actor(), action, caseID, detail)
	return err
}
