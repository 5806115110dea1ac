package server

import (
	"strings"
	"testing"

	gossh "golang.org/x/crypto/ssh"

	"casegraph/workbench"
)

func TestParseTeam(t *testing.T) {
	a, _ := newKey(t)
	b, _ := newKey(t)
	ka := strings.TrimSpace(string(gossh.MarshalAuthorizedKey(a.PublicKey())))
	kb := strings.TrimSpace(string(gossh.MarshalAuthorizedKey(b.PublicKey())))
	good := "# team\n\nuser=alice,role=investigator " + ka + " alice@laptop\n  user=\"bob\",role=viewer " + kb + "\n"
	ms, err := ParseTeam("team", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].User != "alice" || ms[0].Role != workbench.RoleInvestigator || ms[1].User != "bob" ||
		ms[1].Role != workbench.RoleViewer || ms[1].Line != 4 || ms[0].Fingerprint != gossh.FingerprintSHA256(a.PublicKey()) {
		t.Fatalf("members: %+v", ms)
	}
	for _, c := range []struct{ file, want string }{
		{ka, "team:1: every key needs user=NAME and role=ROLE"},
		{"user=alice " + ka, "team:1: every key needs user=NAME and role=ROLE"},
		{"# x\nuser=alice,role=boss " + ka, `team:2: unknown role "boss"`},
		{"user=Alice,role=viewer " + ka, `team:1: user "Alice"`},
		{"user=alice,role=viewer,command=\"sh\" " + ka, `team:1: option "command" is not understood`},
		{"user=alice,role=viewer,no-pty " + ka, `team:1: option "no-pty" is not NAME=VALUE`},
		{"user=alice,role=viewer " + ka + "\nuser=bob,role=viewer " + ka, "team:2: the key SHA256:"},
		{"user=alice,role=viewer " + ka + "\nuser=alice,role=analyst " + kb, "team:2: alice has the role viewer at line 1 and analyst here"},
		{"user=alice,role=viewer ssh-ed25519 AAAAnotbase64", "team:1: not an authorized_keys line"},
	} {
		_, err := ParseTeam("team", []byte(c.file))
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%q: got %v, want %q…", c.file, err, c.want)
		}
	}
}
