package dgraphtest

import (
	"context"
	"testing"
	"time"
)

// TestStartTwoGroups starts the cluster the Dgraph tests use and checks what
// they rely on: zero lists two groups, one alpha each.
func TestStartTwoGroups(t *testing.T) {
	c := StartT(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := c.State(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Groups) != 2 {
		t.Fatalf("zero lists %d groups, want 2: %+v", len(st.Groups), st.Groups)
	}
	for id, g := range st.Groups {
		if len(g.Members) != 1 {
			t.Errorf("group %s has %d members, want 1", id, len(g.Members))
		}
	}
	if len(c.Alphas) != 2 || c.URL() != "dgraph://"+c.Alphas[0]+","+c.Alphas[1] {
		t.Errorf("alphas %v, URL %s", c.Alphas, c.URL())
	}
}

func TestStripNamespace(t *testing.T) {
	for in, want := range map[string]string{
		"\x00\x00\x00\x00\x00\x00\x00\x00sent.2026_03": "sent.2026_03",
		"0-cg.ref": "cg.ref",
		"cg.ref":   "cg.ref",
	} {
		if got := StripNamespace(in); got != want {
			t.Errorf("StripNamespace(%q) = %q, want %q", in, got, want)
		}
	}
}
