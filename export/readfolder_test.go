package export

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadFolder(t *testing.T) {
	ctx := context.Background()
	dir, m := export(t, fixture(), false)
	vf, err := ReadFolder(ctx, dir, DefaultFolderLimits)
	if err != nil {
		t.Fatal(err)
	}
	if len(vf.CaseJSON) == 0 || len(vf.ManifestSHA256) != 64 || vf.Manifest.Case != m.Case {
		t.Errorf("verified folder: %d bytes, %q", len(vf.CaseJSON), vf.ManifestSHA256)
	}
	if m, ok := MaskedIdentifier(string(vf.CaseJSON)); ok {
		t.Errorf("unredacted export shows the masked identifier %q", m)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := ReadFolder(cancelled, dir, DefaultFolderLimits); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	small := DefaultFolderLimits
	small.File = 100
	if _, err := ReadFolder(ctx, dir, small); !errors.Is(err, ErrUntrustedFolder) || !strings.Contains(err.Error(), "limit") {
		t.Errorf("over the limit: %v", err)
	}
	red, _ := export(t, fixture(), true)
	raw, _ := os.ReadFile(filepath.Join(red, "case.json"))
	if m, ok := MaskedIdentifier(string(raw)); !ok {
		t.Error("a redacted case.json shows no masked identifier")
	} else if strings.ContainsAny(m, "\n\"") {
		t.Errorf("mask %q", m)
	}
}

func TestMaskedIdentifier(t *testing.T) {
	for s, want := range map[string]string{
		`"key":"440043******0015"`:            "440043******0015",
		`card 4400431234***5678 seen`:         "431234***5678",
		`{"key":"********0002"}`:              "********0002",
		`call +7********77 later`:             "+7********77",
		"note: ****** and 1234":               "",
		"4400430000000015, +77015551234":      "",
		strings.Repeat("*", 40) + "0002":      "********0002",
		`"refs":["card:PSN-CARD-ABCDE23456"]`: "PSN-CARD-ABCDE23456",
		"PSN-lower-abc and PSN-CARD-SHORT":    "",
	} {
		got, ok := MaskedIdentifier(s)
		if got != want || ok != (want != "") {
			t.Errorf("MaskedIdentifier(%q) = %q, %v; want %q", s, got, ok, want)
		}
	}
}
