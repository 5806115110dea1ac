package graph

import (
	"fmt"
	"strings"
	"time"
)

// VerdictKind is an analyst's judgement of a flagged entity.
type VerdictKind string

// The two verdicts. A withdrawn verdict is no verdict (the store deletes it).
const (
	// VerdictConfirmed: the analyst holds the entity to be what the rules
	// suggest (a dropper's card, a mule account…).
	VerdictConfirmed VerdictKind = "confirmed"
	// VerdictDismissed: the analyst holds the flag to be a false positive.
	VerdictDismissed VerdictKind = "dismissed"
)

// ParseVerdictKind reads "confirm", "confirmed", "dismiss" or "dismissed".
func ParseVerdictKind(s string) (VerdictKind, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "confirm", "confirmed":
		return VerdictConfirmed, nil
	case "dismiss", "dismissed":
		return VerdictDismissed, nil
	}
	return "", fmt.Errorf("verdict %q: want confirm or dismiss", s)
}

// Verdict is an analyst's judgement of one entity. Verdicts are kept apart
// from the data and never change the rule hits; calibration reads them as
// labels.
type Verdict struct {
	Ref  Ref         `json:"-"`
	Kind VerdictKind `json:"verdict"`
	Note string      `json:"note,omitempty"`
	User string      `json:"user"`
	Time time.Time   `json:"time"`
}

// Confirmed reports whether the verdict confirms the entity.
func (v Verdict) Confirmed() bool { return v.Kind == VerdictConfirmed }
