package graph

import "time"

// The result of an analysis as the store keeps it (store/risk.go), so that
// every entity page, search hit, graph node and `casegraph show` can carry
// risk and flags from the moment an analysis exists, without running the
// rules again (docs/DETECTION.md, "Kept results").

// AnalysisRun describes one kept analysis: when it ran, with which rule
// configuration, on which state of the data, and what it found.
type AnalysisRun struct {
	Time time.Time `json:"time"`
	User string    `json:"user,omitempty"`
	// RuleConfig is the database's rule-configuration version the rules ran
	// with (store.RuleConfigVersion.Seq); 0 is the built-in defaults.
	RuleConfig     uint64  `json:"rule_config"`
	RuleConfigNote string  `json:"rule_config_note,omitempty"`
	Threshold      float64 `json:"threshold"`
	// Entities counts the entities with a risk kept; Flagged those at or
	// above Threshold; Subjects the flagged subjects (the flag list's rows).
	Entities int `json:"entities"`
	Flagged  int `json:"flagged"`
	Subjects int `json:"flagged_subjects"`
	Hits     int `json:"hits"`
	// Stale is set when the run is read back and the data changed since it
	// was computed (an import after the analysis).
	Stale bool `json:"stale"`
	// Results names the rules run kept (hex of the workbench's results key:
	// the data, the configuration, the verdicts and the program), empty when
	// nothing names it. A run with the same key need not be kept again.
	Results string `json:"results,omitempty"`
}

// KeptRisk is one entity's risk as an analysis left it: the parts of Risk
// that mean something without the in-memory index, with references instead
// of node ids and transaction ids instead of indexes.
type KeptRisk struct {
	Ref               Ref
	Score             float64
	Typology, Context float64
	Typologies        int
	Evidence          int
	// Subject is the holder the risk is about; zero when it is the entity itself.
	Subject Ref
	Rules   []KeptRule // by score descending
	// Hits are the entity's own hits; a holder's also those of the
	// instruments it holds (On), each instrument's hits together and the
	// same as that instrument's own kept hits (a store keeps them once).
	Hits        []KeptHit
	Explanation string
}

// KeptRule is one rule's strongest contribution to a kept risk.
type KeptRule struct {
	Rule    string
	Score   float64
	Via     Ref // the holder or instrument it came through; zero for the entity's own hits
	Context bool
}

// KeptHit is one rule hit of a kept risk with its evidence.
type KeptHit struct {
	Rule   string
	Score  float64
	Reason string
	On     Ref // the held instrument the hit is on, in a holder's risk; zero for its own
	// Evidence names up to MaxKeptEvidence of the hit's transactions;
	// EvidenceTotal counts them all.
	Evidence      []string
	EvidenceTotal int
	From, To      time.Time // the hit's window, zero when it has none
}

// MaxKeptEvidence bounds the transaction ids kept per hit: enough to mark
// them on the entity page and to quote them, while a hub's hit naming
// thousands of transactions stays a few hundred bytes.
const MaxKeptEvidence = 64

// RiskMark is the short form of a kept risk that search hits and graph
// nodes carry: the score and whether it is at or above the threshold.
type RiskMark struct {
	Known   bool    `json:"-"` // an analysis kept a risk for the entity
	Score   float64 `json:"score"`
	Flagged bool    `json:"flagged"`
	Stale   bool    `json:"stale"` // the data changed since the analysis
}
