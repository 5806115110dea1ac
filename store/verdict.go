package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"casegraph/graph"
)

// Analysts' verdicts on flagged entities, and the database's own rule
// configuration (calibrated weights). Neither touches the data: verdicts
// never change a rule hit, they are labels that `casegraph calibrate` fits
// rule weights to. Every change is one db.Update together with its journal
// entry, like a case edit.
//
// Layout:
//
//	[v][ref]            → verdict (JSON graph.Verdict without the ref)
//	[w][seq uint64 BE]  → rule-config version (JSON RuleConfigVersion); the greatest is current
const (
	pfxVerdict    byte = 'v'
	pfxRuleConfig byte = 'w'
)

// Journal actions of verdicts and rule configurations.
const (
	ActVerdictSet    = "verdict.set"
	ActVerdictClear  = "verdict.clear"
	ActRulesApply    = "rules.apply"
	ActRulesRevert   = "rules.revert"
	RuleConfigApply  = "apply"
	RuleConfigRevert = "revert"
)

// ErrNothingToRevert means the database uses the built-in rule configuration
// and no earlier one is left to go back to.
var ErrNothingToRevert = errors.New("no earlier rule configuration to revert to")

// verdictKey: [v][ref]
func verdictKey(r graph.Ref) []byte { return refPrefix(pfxVerdict, r) }

func parseVerdictKey(k []byte) (graph.Ref, error) {
	if len(k) < 1 || k[0] != pfxVerdict {
		return graph.Ref{}, fmt.Errorf("verdict key: wrong prefix")
	}
	r, rest, err := readRef(k[1:])
	if err != nil {
		return graph.Ref{}, fmt.Errorf("verdict key: %w", err)
	}
	if len(rest) != 0 {
		return graph.Ref{}, fmt.Errorf("verdict key: %d trailing bytes", len(rest))
	}
	return r, nil
}

// ruleConfigKey: [w][seq uint64 BE]. Sequence numbers start at 1.
func ruleConfigKey(seq uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{pfxRuleConfig}, seq)
}

func parseRuleConfigKey(k []byte) (uint64, error) {
	if len(k) != 9 || k[0] != pfxRuleConfig {
		return 0, fmt.Errorf("rule-config key: want 9 bytes with prefix w")
	}
	return binary.BigEndian.Uint64(k[1:]), nil
}

// verdictDetail is the journal detail of a verdict change.
type verdictDetail struct {
	Entity   string            `json:"entity"`
	Verdict  graph.VerdictKind `json:"verdict,omitempty"`
	Note     string            `json:"note,omitempty"`
	Previous graph.VerdictKind `json:"previous,omitempty"`
	PrevNote string            `json:"previous_note,omitempty"`
}

func getVerdict(txn *badger.Txn, r graph.Ref) (graph.Verdict, bool, error) {
	item, err := txn.Get(verdictKey(r))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return graph.Verdict{}, false, nil
	}
	if err != nil {
		return graph.Verdict{}, false, err
	}
	var v graph.Verdict
	if err := item.Value(func(b []byte) error { return json.Unmarshal(b, &v) }); err != nil {
		return graph.Verdict{}, false, fmt.Errorf("decode verdict on %s: %w", r, err)
	}
	v.Ref = r
	return v, true, nil
}

func (db *DB) verdictWritable(what string) error {
	if db.readOnly {
		return fmt.Errorf("%s: database %s is open read-only", what, db.dir)
	}
	return nil
}

// SetVerdict records v (its Ref, Kind and Note; the user and time are the
// actor's) and journals it with the verdict it replaces, if any.
func (db *DB) SetVerdict(ctx context.Context, act Actor, v graph.Verdict) (graph.Verdict, error) {
	if err := db.verdictWritable("set verdict"); err != nil {
		return graph.Verdict{}, err
	}
	if err := checkRef(v.Ref); err != nil {
		return graph.Verdict{}, fmt.Errorf("set verdict: %w", err)
	}
	if v.Kind != graph.VerdictConfirmed && v.Kind != graph.VerdictDismissed {
		return graph.Verdict{}, fmt.Errorf("set verdict on %s: unknown verdict %q", v.Ref, v.Kind)
	}
	v.User, v.Time = act.User, act.Time.UTC()
	val, err := json.Marshal(v)
	if err != nil {
		return graph.Verdict{}, fmt.Errorf("set verdict: encode: %w", err)
	}
	db.caseMu.Lock()
	defer db.caseMu.Unlock()
	err = db.update(ctx, func(txn *badger.Txn) error {
		old, had, err := getVerdict(txn, v.Ref)
		if err != nil {
			return err
		}
		if err := txn.Set(verdictKey(v.Ref), val); err != nil {
			return err
		}
		d := verdictDetail{Entity: v.Ref.String(), Verdict: v.Kind, Note: v.Note}
		if had {
			d.Previous, d.PrevNote = old.Kind, old.Note
		}
		_, err = db.appendJournalRecord(txn, act, ActVerdictSet, verdictKey(v.Ref), val, d)
		return err
	})
	if err != nil {
		return graph.Verdict{}, fmt.Errorf("set verdict on %s: %w", v.Ref, err)
	}
	return v, db.sync()
}

// ClearVerdict withdraws the verdict on r and journals what it was; it
// returns the withdrawn verdict, or an error wrapping ErrNotFound.
func (db *DB) ClearVerdict(ctx context.Context, act Actor, r graph.Ref) (graph.Verdict, error) {
	if err := db.verdictWritable("clear verdict"); err != nil {
		return graph.Verdict{}, err
	}
	if err := checkRef(r); err != nil {
		return graph.Verdict{}, fmt.Errorf("clear verdict: %w", err)
	}
	db.caseMu.Lock()
	defer db.caseMu.Unlock()
	var old graph.Verdict
	err := db.update(ctx, func(txn *badger.Txn) error {
		v, had, err := getVerdict(txn, r)
		if err != nil {
			return err
		}
		if !had {
			return ErrNotFound
		}
		old = v
		if err := txn.Delete(verdictKey(r)); err != nil {
			return err
		}
		_, err = db.appendJournalRecord(txn, act, ActVerdictClear, verdictKey(r), nil, verdictDetail{Entity: r.String(), Previous: v.Kind, PrevNote: v.Note})
		return err
	})
	if err != nil {
		return graph.Verdict{}, fmt.Errorf("clear verdict on %s: %w", r, err)
	}
	return old, db.sync()
}

// Verdict returns the verdict on r; ok is false when there is none.
func (db *DB) Verdict(ctx context.Context, r graph.Ref) (v graph.Verdict, ok bool, err error) {
	err = db.view(ctx, func(txn *badger.Txn) error {
		v, ok, err = getVerdict(txn, r)
		return err
	})
	if err != nil {
		return graph.Verdict{}, false, fmt.Errorf("read verdict on %s: %w", r, err)
	}
	return v, ok, nil
}

// Verdicts returns every verdict, in key order (by kind, then key).
func (db *DB) Verdicts(ctx context.Context) ([]graph.Verdict, error) {
	var out []graph.Verdict
	err := db.view(ctx, func(txn *badger.Txn) error {
		return scan(ctx, txn, []byte{pfxVerdict}, true, func(k, b []byte) error {
			r, err := parseVerdictKey(k)
			if err != nil {
				return err
			}
			var v graph.Verdict
			if err := json.Unmarshal(b, &v); err != nil {
				return fmt.Errorf("decode verdict on %s: %w", r, err)
			}
			v.Ref = r
			out = append(out, v)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read verdicts of %s: %w", db.dir, err)
	}
	return out, nil
}

// RuleConfigVersion is one version of the database's rule configuration.
// Versions are never rewritten: applying a configuration adds one, and so
// does reverting (a copy of the configuration being gone back to).
type RuleConfigVersion struct {
	Seq    uint64 `json:"seq"`
	Action string `json:"action"` // RuleConfigApply or RuleConfigRevert
	// Config is the rule configuration as JSON (graph.ParseRuleConfig reads
	// it over the defaults); empty means the built-in defaults.
	Config json.RawMessage `json:"config,omitempty"`
	// Base is the version a revert of this one goes back to; 0 means the
	// built-in defaults.
	Base     uint64          `json:"base"`
	Reverted uint64          `json:"reverted,omitempty"` // for a revert: the version it undid
	Note     string          `json:"note,omitempty"`     // what made it, e.g. "calibrate: 12 confirmed, 9 dismissed"
	Detail   json.RawMessage `json:"detail,omitempty"`   // the caller's JSON, also journalled
	User     string          `json:"user"`
	Time     string          `json:"time"` // RFC 3339
}

// Defaults reports whether the version is the built-in configuration.
func (v RuleConfigVersion) Defaults() bool { return len(v.Config) == 0 }

func lastRuleConfig(ctx context.Context, txn *badger.Txn) (RuleConfigVersion, bool, error) {
	o := badger.DefaultIteratorOptions
	o.Reverse = true
	o.Prefix = []byte{pfxRuleConfig}
	it := txn.NewIterator(o)
	defer it.Close()
	it.Seek([]byte{pfxRuleConfig, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	if !it.Valid() {
		return RuleConfigVersion{}, false, ctx.Err()
	}
	var v RuleConfigVersion
	err := it.Item().Value(func(b []byte) error { return json.Unmarshal(b, &v) })
	if err != nil {
		return RuleConfigVersion{}, false, fmt.Errorf("decode rule-config version: %w", err)
	}
	return v, true, nil
}

func getRuleConfig(txn *badger.Txn, seq uint64) (RuleConfigVersion, error) {
	item, err := txn.Get(ruleConfigKey(seq))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return RuleConfigVersion{}, fmt.Errorf("rule-config version %d: %w", seq, ErrNotFound)
	}
	if err != nil {
		return RuleConfigVersion{}, err
	}
	var v RuleConfigVersion
	if err := item.Value(func(b []byte) error { return json.Unmarshal(b, &v) }); err != nil {
		return RuleConfigVersion{}, fmt.Errorf("decode rule-config version %d: %w", seq, err)
	}
	return v, nil
}

func (db *DB) putRuleConfig(txn *badger.Txn, act Actor, v RuleConfigVersion, journalAction string) (RuleConfigVersion, error) {
	v.User, v.Time = act.User, act.Time.UTC().Format("2006-01-02T15:04:05.999999999Z07:00")
	b, err := json.Marshal(v)
	if err != nil {
		return v, fmt.Errorf("encode rule-config version: %w", err)
	}
	if err := txn.Set(ruleConfigKey(v.Seq), b); err != nil {
		return v, err
	}
	detail := map[string]any{"version": v.Seq, "base": v.Base, "defaults": v.Defaults()}
	if v.Reverted != 0 {
		detail["reverted"] = v.Reverted
	}
	if v.Note != "" {
		detail["note"] = v.Note
	}
	if len(v.Detail) > 0 {
		detail["detail"] = v.Detail
	}
	_, err = db.appendJournalRecord(txn, act, journalAction, ruleConfigKey(v.Seq), b, detail)
	return v, err
}

// ApplyRuleConfig makes cfg (a JSON rule configuration, as
// graph.RuleConfig.WriteJSON writes it) the database's rule configuration:
// a new version whose revert goes back to the current one. note and detail
// (any JSON value, or nil) say what made it; both are journalled.
func (db *DB) ApplyRuleConfig(ctx context.Context, act Actor, cfg json.RawMessage, note string, detail any) (RuleConfigVersion, error) {
	if err := db.verdictWritable("apply rule config"); err != nil {
		return RuleConfigVersion{}, err
	}
	if len(cfg) == 0 || !json.Valid(cfg) {
		return RuleConfigVersion{}, fmt.Errorf("apply rule config: not a JSON configuration")
	}
	v := RuleConfigVersion{Action: RuleConfigApply, Config: cfg, Note: note}
	if detail != nil {
		raw, err := json.Marshal(detail)
		if err != nil {
			return RuleConfigVersion{}, fmt.Errorf("apply rule config: encode detail: %w", err)
		}
		v.Detail = raw
	}
	db.caseMu.Lock()
	defer db.caseMu.Unlock()
	err := db.update(ctx, func(txn *badger.Txn) error {
		cur, ok, err := lastRuleConfig(ctx, txn)
		if err != nil {
			return err
		}
		v.Seq = 1
		if ok {
			v.Seq, v.Base = cur.Seq+1, cur.Seq
		}
		v, err = db.putRuleConfig(txn, act, v, ActRulesApply)
		return err
	})
	if err != nil {
		return RuleConfigVersion{}, fmt.Errorf("apply rule config: %w", err)
	}
	return v, db.sync()
}

// RevertRuleConfig goes back to the configuration the current one replaced
// (the built-in defaults at the start) by adding it again as a new version;
// reverting again goes further back. ErrNothingToRevert when the database
// already uses the defaults with nothing before them.
func (db *DB) RevertRuleConfig(ctx context.Context, act Actor) (RuleConfigVersion, error) {
	if err := db.verdictWritable("revert rule config"); err != nil {
		return RuleConfigVersion{}, err
	}
	db.caseMu.Lock()
	defer db.caseMu.Unlock()
	var v RuleConfigVersion
	err := db.update(ctx, func(txn *badger.Txn) error {
		cur, ok, err := lastRuleConfig(ctx, txn)
		if err != nil {
			return err
		}
		if !ok || (cur.Defaults() && cur.Base == 0) {
			return ErrNothingToRevert
		}
		v = RuleConfigVersion{Seq: cur.Seq + 1, Action: RuleConfigRevert, Reverted: cur.Seq}
		if cur.Base != 0 {
			target, err := getRuleConfig(txn, cur.Base)
			if err != nil {
				return err
			}
			v.Config, v.Base = target.Config, target.Base
			v.Note = fmt.Sprintf("back to version %d", target.Seq)
		} else {
			v.Note = "back to the built-in defaults"
		}
		v, err = db.putRuleConfig(txn, act, v, ActRulesRevert)
		return err
	})
	if err != nil {
		return RuleConfigVersion{}, fmt.Errorf("revert rule config: %w", err)
	}
	return v, db.sync()
}

// RuleConfig returns the current rule-configuration version; ok is false
// when none was ever applied (the built-in defaults).
func (db *DB) RuleConfig(ctx context.Context) (v RuleConfigVersion, ok bool, err error) {
	err = db.view(ctx, func(txn *badger.Txn) error {
		v, ok, err = lastRuleConfig(ctx, txn)
		return err
	})
	if err != nil {
		return RuleConfigVersion{}, false, fmt.Errorf("read rule config of %s: %w", db.dir, err)
	}
	return v, ok, nil
}

// RuleConfigHistory returns every rule-configuration version, oldest first.
func (db *DB) RuleConfigHistory(ctx context.Context) ([]RuleConfigVersion, error) {
	var out []RuleConfigVersion
	err := db.view(ctx, func(txn *badger.Txn) error {
		return scan(ctx, txn, []byte{pfxRuleConfig}, true, func(k, b []byte) error {
			seq, err := parseRuleConfigKey(k)
			if err != nil {
				return err
			}
			var v RuleConfigVersion
			if err := json.Unmarshal(b, &v); err != nil {
				return fmt.Errorf("decode rule-config version %d: %w", seq, err)
			}
			out = append(out, v)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read rule-config history of %s: %w", db.dir, err)
	}
	return out, nil
}
