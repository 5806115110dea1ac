// Package profile maps CSV files that are not in casegraph's canonical form
// (bank statements, FIU exports, public AML data sets) onto casegraph
// entities, links and transactions through a declarative YAML profile. The
// profile language is documented in docs/FORMATS.md; built-in profiles ship
// embedded (amlsim, amlworld, berka, ibm-cards, bank-statement).
package profile

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"casegraph/graph"
	"casegraph/importers"
)

//go:embed builtin/*.yaml
var builtinFS embed.FS

// Profile maps the files of one data source.
type Profile struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	// Labels are ground-truth columns (is_sar, Is Fraud?…). A profile may
	// not read them: detectors must never see the answer.
	Labels []string  `yaml:"labels"`
	Files  []FileMap `yaml:"files"`
}

// FileMap maps one kind of file of the source.
type FileMap struct {
	Match      string            `yaml:"match"`       // glob on the lower-case base name; empty matches any file
	Format     string            `yaml:"format"`      // what the report calls the file, e.g. "berka-trans"
	Encoding   string            `yaml:"encoding"`    // auto (default), utf-8, windows-1251
	Separator  string            `yaml:"separator"`   // auto (default), ";", ",", "tab", "|"
	HeaderLine int               `yaml:"header_line"` // 1-based line of the header; 0 sniffs it
	Decimal    string            `yaml:"decimal"`     // auto (default), "." or ","
	Timezone   string            `yaml:"timezone"`    // of zone-less times; default Asia/Almaty
	Columns    []string          `yaml:"columns"`     // the mapping applies only when the header has all of these
	Rename     map[string]string `yaml:"rename"`      // header name → the name the records use (aliases)
	Meta       map[string]string `yaml:"meta"`        // name → regexp matching a metadata label above the header
	Lookups    []Lookup          `yaml:"lookups"`
	Skip       []Cond            `yaml:"skip"`
	Records    []Record          `yaml:"records"`
}

// Lookup joins another, small file by key: `{name.column}` in a template
// reads column of the lookup row whose Key equals this row's On column.
type Lookup struct {
	Name string `yaml:"name"`
	File string `yaml:"file"` // in the directory of the imported file
	Key  string `yaml:"key"`  // column of the lookup file
	On   string `yaml:"on"`   // column of the imported file
}

// Cond tests one column of a row. With several of in, not_in and empty
// set, all must hold. Values compare trimmed and case-insensitively.
type Cond struct {
	Column string   `yaml:"column"`
	Equals *string  `yaml:"equals"`
	In     []string `yaml:"in"`
	NotIn  []string `yaml:"not_in"`
	Empty  *bool    `yaml:"empty"`
	Reason string   `yaml:"reason"` // for skip conditions: why the row is skipped
}

// Record is one record a row produces: exactly one of Entity, Link, Txn.
// A row produces every record whose When conditions all hold.
type Record struct {
	When   []Cond     `yaml:"when"`
	Entity *EntityMap `yaml:"entity"`
	Link   *LinkMap   `yaml:"link"`
	Txn    *TxnMap    `yaml:"txn"`
}

// RefMap makes a typed reference from a row.
type RefMap struct {
	// Kind is an entity kind (person, card, account, wallet, exchange,
	// group, phone, device, ip, address, atm, cash) or "auto", which
	// recognises an IIN, IBAN or card number and otherwise takes Fallback.
	Kind     string `yaml:"kind"`
	Fallback string `yaml:"fallback"` // kind for auto when nothing is recognised; default account
	Key      Value  `yaml:"key"`
	// Empty lists values meaning "none" (AMLSim's account 0); a key is
	// none when any column in it is empty or listed here.
	Empty []string `yaml:"empty"`
	// Else says what a none key becomes: reject (default), cash, or skip
	// (the record is not produced).
	Else string `yaml:"else"`
	// Validate runs casegraph's identifier checks (IIN checksum, Luhn, IBAN
	// mod-97, E.164 phone). Leave it off for foreign, namespaced keys.
	Validate bool `yaml:"validate"`
}

// EntityMap produces an entity.
type EntityMap struct {
	Ref   RefMap           `yaml:"ref"`
	Name  Value            `yaml:"name"`
	Props map[string]Value `yaml:"props"`
}

// LinkMap produces a link; both ends become stubs unless defined elsewhere.
type LinkMap struct {
	From RefMap `yaml:"from"`
	To   RefMap `yaml:"to"`
	Type string `yaml:"type"` // holds, card_of, member_of, …
	Role Value  `yaml:"role"`
}

// TxnMap produces a transaction.
type TxnMap struct {
	ID        Value            `yaml:"id"` // default "{_file}:{_line}"
	Time      TimeMap          `yaml:"time"`
	From      RefMap           `yaml:"from"`
	To        RefMap           `yaml:"to"`
	SwapWhen  []Cond           `yaml:"swap_when"` // reverse from and to when all hold
	Amount    AmountMap        `yaml:"amount"`
	Currency  Value            `yaml:"currency"` // default KZT
	Channel   Value            `yaml:"channel"`  // transfer (default), topup, cash_out, trade
	ATM       Value            `yaml:"atm"`
	Device    Value            `yaml:"device"`
	IP        Value            `yaml:"ip"`
	Reference Value            `yaml:"reference"`
	Props     map[string]Value `yaml:"props"`
}

// TimeMap reads a time. A scalar is the value template with layout auto.
type TimeMap struct {
	Value       Value  `yaml:"value"`
	Format      string `yaml:"format"` // a DateFormat layout, or step
	Century     int    `yaml:"century"`
	MonthOffset int    `yaml:"month_offset"`
	Base        string `yaml:"base"` // step: the time of step 0, "2017-01-01" or RFC 3339
	Unit        string `yaml:"unit"` // step: second, minute, hour or day (default)
}

// AmountMap reads an amount: one signed column, or a debit and a credit
// column. A scalar is the value template.
type AmountMap struct {
	Value  Value `yaml:"value"`
	Debit  Value `yaml:"debit"`  // money leaving `from`: the direction stays
	Credit Value `yaml:"credit"` // money arriving at `from`: from and to swap
	// Negative says what a negative single value means: reject (default),
	// swap (reverse the direction, keep the magnitude), keep (a negative
	// transaction, e.g. a refund) or abs.
	Negative string `yaml:"negative"`
	// Zero: reject (default), keep, or skip the row.
	Zero string `yaml:"zero"`
}

// UnmarshalYAML accepts a scalar as the value template.
func (t *TimeMap) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		t.Value = Value{Template: n.Value}
		return nil
	}
	type plain TimeMap
	return n.Decode((*plain)(t))
}

// UnmarshalYAML accepts a scalar as the value template.
func (a *AmountMap) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		a.Value = Value{Template: n.Value}
		return nil
	}
	type plain AmountMap
	return n.Decode((*plain)(a))
}

// knownLabels are ground-truth columns of the public data sets; a profile
// may never read them, whether or not it lists them.
var knownLabels = []string{"is_sar", "alert_id", "prior_sar_count", "isfraud", "is fraud?", "is_fraud",
	"is laundering", "is_laundering", "isflaggedfraud", "suspicious", "sar_flag", "alert_type", "label"}

// Parse reads a profile from YAML and checks it.
func Parse(data []byte) (*Profile, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var p Profile
	if err := dec.Decode(&p); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("profile is empty")
		}
		return nil, fmt.Errorf("parse profile: %w", err)
	}
	if err := p.check(); err != nil {
		if p.Name != "" {
			return nil, fmt.Errorf("profile %s: %w", p.Name, err)
		}
		return nil, fmt.Errorf("profile: %w", err)
	}
	return &p, nil
}

// Builtins lists the names of the embedded profiles.
func Builtins() []string {
	ents, _ := builtinFS.ReadDir("builtin")
	var out []string
	for _, e := range ents {
		out = append(out, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	sort.Strings(out)
	return out
}

// Builtin returns an embedded profile by name.
func Builtin(name string) (*Profile, error) {
	data, err := builtinFS.ReadFile("builtin/" + name + ".yaml")
	if err != nil {
		return nil, fmt.Errorf("no built-in profile %q (have %s)", name, strings.Join(Builtins(), ", "))
	}
	return Parse(data)
}

// Load returns the built-in profile called nameOrFile, or else reads the
// YAML file at that path.
func Load(nameOrFile string) (*Profile, error) {
	if !strings.ContainsAny(nameOrFile, `/\.`) {
		return Builtin(nameOrFile)
	}
	data, err := os.ReadFile(nameOrFile)
	if err != nil {
		return nil, fmt.Errorf("read profile %s: %w", nameOrFile, err)
	}
	p, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", nameOrFile, err)
	}
	return p, nil
}

// candidates returns the file mappings whose Match glob fits a file's base
// name, in profile order.
func (p *Profile) candidates(name string) ([]*FileMap, error) {
	base := strings.ToLower(path.Base(strings.ReplaceAll(name, `\`, "/")))
	var globs []string
	var out []*FileMap
	for i := range p.Files {
		fm := &p.Files[i]
		if ok, _ := path.Match(strings.ToLower(fm.Match), base); ok || fm.Match == "" {
			out = append(out, fm)
		}
		globs = append(globs, fm.Match)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("profile %s has no mapping for %s (it maps %s)", p.Name, name, strings.Join(globs, ", "))
	}
	return out, nil
}

// Matches reports whether the profile maps a file of this base name.
func (p *Profile) Matches(name string) bool {
	_, err := p.candidates(name)
	return err == nil
}

func (p *Profile) check() error {
	if strings.TrimSpace(p.Name) == "" {
		return errors.New("name is required")
	}
	if len(p.Files) == 0 {
		return errors.New("files: at least one file mapping is required")
	}
	labels := map[string]bool{}
	for _, l := range knownLabels {
		labels[l] = true
	}
	for i, l := range p.Labels {
		if strings.TrimSpace(l) == "" {
			return fmt.Errorf("labels[%d]: empty column name", i)
		}
		labels[strings.ToLower(strings.TrimSpace(l))] = true
	}
	for i := range p.Files {
		fm := &p.Files[i]
		where := fmt.Sprintf("files[%d]", i)
		if fm.Match != "" {
			where = "file " + fm.Match
			if _, err := path.Match(fm.Match, "x"); err != nil {
				return fmt.Errorf("%s: bad glob: %w", where, err)
			}
		}
		if err := fm.check(labels); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
	}
	return nil
}

func (fm *FileMap) check(labels map[string]bool) error {
	switch fm.Encoding {
	case "", "auto", importers.EncodingUTF8, importers.EncodingCP1251, "cp1251":
	default:
		return fmt.Errorf("encoding %q: want auto, utf-8 or windows-1251", fm.Encoding)
	}
	if _, err := separatorRune(fm.Separator); err != nil {
		return err
	}
	if _, err := decimalByte(fm.Decimal); err != nil {
		return err
	}
	if fm.HeaderLine < 0 {
		return fmt.Errorf("header_line %d: want 1 or more, or 0 to sniff", fm.HeaderLine)
	}
	if fm.Timezone != "" {
		if _, err := time.LoadLocation(fm.Timezone); err != nil {
			return fmt.Errorf("timezone %q: %w", fm.Timezone, err)
		}
	}
	if len(fm.Records) == 0 {
		return errors.New("records: at least one record is required")
	}
	c := &checker{labels: labels, lookups: map[string]bool{}, meta: map[string]bool{}}
	// A label renamed is still a label: reading it under another name
	// would leak it.
	for from := range fm.Rename {
		if err := c.column(from); err != nil {
			return fmt.Errorf("rename: %w", err)
		}
	}
	for name := range fm.Meta {
		c.meta[name] = true
	}
	for _, l := range fm.Lookups {
		if l.Name == "" || l.File == "" || l.Key == "" || l.On == "" {
			return fmt.Errorf("lookup %q: name, file, key and on are required", l.Name)
		}
		c.lookups[l.Name] = true
		if err := c.column(l.On); err != nil {
			return fmt.Errorf("lookup %s: %w", l.Name, err)
		}
	}
	for _, s := range fm.Skip {
		if err := c.cond(s); err != nil {
			return fmt.Errorf("skip: %w", err)
		}
	}
	for i, r := range fm.Records {
		if err := c.record(r); err != nil {
			return fmt.Errorf("records[%d]: %w", i, err)
		}
	}
	return nil
}

// checker validates the parts of one file mapping.
type checker struct {
	labels  map[string]bool
	lookups map[string]bool
	meta    map[string]bool
}

func (c *checker) column(name string) error {
	if strings.TrimSpace(name) == "" {
		return errors.New("column name is empty")
	}
	if c.labels[strings.ToLower(strings.TrimSpace(name))] {
		return fmt.Errorf("column %q is a ground-truth label; profiles must not read it", name)
	}
	return nil
}

func (c *checker) cond(k Cond) error {
	if err := c.column(k.Column); err != nil {
		return err
	}
	if k.Equals == nil && k.In == nil && k.NotIn == nil && k.Empty == nil {
		return fmt.Errorf("condition on %q tests nothing: give equals, in, not_in or empty", k.Column)
	}
	return nil
}

func (c *checker) value(v Value, what string) error {
	parts, err := parseTemplate(v.source())
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	for _, p := range parts {
		if !p.ref {
			continue
		}
		if err := c.placeholder(p.text); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	for _, t := range v.Transform {
		if !validTransform(t) {
			return fmt.Errorf("%s: unknown transform %q (want %s)", what, t, strings.Join(transforms, ", "))
		}
	}
	if v.Date != nil {
		if err := checkLayout(v.Date.Format); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	return nil
}

func (c *checker) placeholder(name string) error {
	name, pipes, _ := strings.Cut(name, "|")
	name = strings.TrimSpace(name)
	if pipes != "" {
		for _, t := range strings.Split(pipes, "|") {
			if !validTransform(strings.TrimSpace(t)) {
				return fmt.Errorf("{%s}: unknown transform %q (want %s)", name, t, strings.Join(transforms, ", "))
			}
		}
	}
	if strings.HasPrefix(name, "_") {
		switch name {
		case "_row", "_line", "_file":
			return nil
		}
		return fmt.Errorf("unknown built-in {%s} (want _row, _line or _file)", name)
	}
	if pre, col, ok := strings.Cut(name, "."); ok {
		if pre == "meta" {
			if !c.meta[col] {
				return fmt.Errorf("{%s}: no meta entry %q", name, col)
			}
			return nil
		}
		if c.lookups[pre] {
			return c.column(col)
		}
	}
	return c.column(name)
}

func (c *checker) ref(r RefMap, what string) error {
	if r.Kind != "auto" {
		k, err := graph.ParseKind(r.Kind)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if k == graph.KindCash {
			return nil
		}
	} else if r.Fallback != "" {
		if _, err := graph.ParseKind(r.Fallback); err != nil {
			return fmt.Errorf("%s fallback: %w", what, err)
		}
	}
	if r.Key.source() == "" {
		return fmt.Errorf("%s: key is required", what)
	}
	switch r.Else {
	case "", "reject", "cash", "skip":
	default:
		return fmt.Errorf("%s: else %q: want reject, cash or skip", what, r.Else)
	}
	return c.value(r.Key, what+" key")
}

func (c *checker) record(r Record) error {
	n := 0
	if r.Entity != nil {
		n++
	}
	if r.Link != nil {
		n++
	}
	if r.Txn != nil {
		n++
	}
	if n != 1 {
		return errors.New("want exactly one of entity, link or txn")
	}
	for _, w := range r.When {
		if err := c.cond(w); err != nil {
			return fmt.Errorf("when: %w", err)
		}
	}
	switch {
	case r.Entity != nil:
		e := r.Entity
		if err := c.ref(e.Ref, "entity ref"); err != nil {
			return err
		}
		if err := c.value(e.Name, "entity name"); err != nil {
			return err
		}
		return c.props(e.Props)
	case r.Link != nil:
		l := r.Link
		if _, err := graph.ParseLinkType(l.Type); err != nil {
			return fmt.Errorf("link: %w", err)
		}
		if err := c.ref(l.From, "link from"); err != nil {
			return err
		}
		if err := c.ref(l.To, "link to"); err != nil {
			return err
		}
		return c.value(l.Role, "link role")
	}
	t := r.Txn
	for _, v := range []struct {
		v    Value
		what string
	}{{t.ID, "txn id"}, {t.Currency, "txn currency"}, {t.Channel, "txn channel"}, {t.ATM, "txn atm"},
		{t.Device, "txn device"}, {t.IP, "txn ip"}, {t.Reference, "txn reference"}} {
		if err := c.value(v.v, v.what); err != nil {
			return err
		}
	}
	if err := c.ref(t.From, "txn from"); err != nil {
		return err
	}
	if err := c.ref(t.To, "txn to"); err != nil {
		return err
	}
	for _, w := range t.SwapWhen {
		if err := c.cond(w); err != nil {
			return fmt.Errorf("swap_when: %w", err)
		}
	}
	if t.Time.Value.source() == "" {
		return errors.New("txn time is required")
	}
	if err := c.value(t.Time.Value, "txn time"); err != nil {
		return err
	}
	if t.Time.Format == "step" {
		if _, err := parseBase(t.Time.Base); err != nil {
			return fmt.Errorf("txn time base: %w", err)
		}
		if _, err := stepUnit(t.Time.Unit); err != nil {
			return err
		}
	} else if err := checkLayout(t.Time.Format); err != nil {
		return fmt.Errorf("txn time: %w", err)
	}
	a := t.Amount
	single, split := a.Value.source() != "", a.Debit.source() != "" || a.Credit.source() != ""
	if single == split {
		return errors.New("txn amount: want value, or debit and credit")
	}
	if split && (a.Debit.source() == "" || a.Credit.source() == "") {
		return errors.New("txn amount: debit and credit go together")
	}
	for _, v := range []Value{a.Value, a.Debit, a.Credit} {
		if err := c.value(v, "txn amount"); err != nil {
			return err
		}
	}
	switch a.Negative {
	case "", "reject", "swap", "keep", "abs":
	default:
		return fmt.Errorf("txn amount negative %q: want reject, swap, keep or abs", a.Negative)
	}
	switch a.Zero {
	case "", "reject", "keep", "skip":
	default:
		return fmt.Errorf("txn amount zero %q: want reject, keep or skip", a.Zero)
	}
	return c.props(t.Props)
}

func (c *checker) props(p map[string]Value) error {
	for k, v := range p {
		if k == "" {
			return errors.New("property with an empty name")
		}
		if err := c.value(v, "prop "+k); err != nil {
			return err
		}
	}
	return nil
}

func checkLayout(l string) error {
	switch l {
	case "", "auto", "iso", "dmy", "mdy", "ymd", "yymmdd", "yyyymmdd", "epoch", "epoch_ms":
		return nil
	}
	return fmt.Errorf("date format %q: want auto, iso, dmy, mdy, ymd, yymmdd, yyyymmdd, epoch, epoch_ms or step", l)
}

func separatorRune(s string) (rune, error) {
	switch s {
	case "", "auto":
		return 0, nil
	case ";", ",", "|":
		return rune(s[0]), nil
	case "tab", `\t`, "\t":
		return '\t', nil
	}
	return 0, fmt.Errorf("separator %q: want auto, \";\", \",\", tab or \"|\"", s)
}

func decimalByte(s string) (byte, error) {
	switch s {
	case "", "auto":
		return 0, nil
	case ".", ",":
		return s[0], nil
	}
	return 0, fmt.Errorf("decimal %q: want auto, \".\" or \",\"", s)
}

func parseBase(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, errors.New("step times need a base date")
	}
	return importers.ParseDateTime(s, importers.DateFormat{Layout: "iso"}, time.UTC)
}

func stepUnit(s string) (time.Duration, error) {
	switch s {
	case "second":
		return time.Second, nil
	case "minute":
		return time.Minute, nil
	case "hour":
		return time.Hour, nil
	case "", "day":
		return 24 * time.Hour, nil
	}
	return 0, fmt.Errorf("step unit %q: want second, minute, hour or day", s)
}

// BuiltinYAML returns the YAML text of an embedded profile, to copy and edit.
func BuiltinYAML(name string) ([]byte, error) {
	data, err := builtinFS.ReadFile("builtin/" + name + ".yaml")
	if err != nil {
		return nil, fmt.Errorf("no built-in profile %q (have %s)", name, strings.Join(Builtins(), ", "))
	}
	return data, nil
}
