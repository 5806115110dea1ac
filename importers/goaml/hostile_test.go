package goaml

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"casegraph/importers"
	"casegraph/importers/internal/rectest"
	"casegraph/internal/fuzzbudget"
	"casegraph/internal/hostile"
)

// TestHostileDeepNesting: 200,000 nested elements are refused in bounded
// time (the path was joined for every element: quadratic, 165 s).
func TestHostileDeepNesting(t *testing.T) {
	data := hostile.GoAMLNested(200000)
	var err error
	fuzzbudget.Within(t, 10*time.Second, func() {
		_, err = Import(context.Background(), bytes.NewReader(data), &rectest.Sink{}, importers.Options{Name: "deep.xml"})
	})
	if err == nil || !strings.Contains(err.Error(), "nested deeper") {
		t.Errorf("error %v, want the nesting refused", err)
	}
}

// BenchmarkGoAMLWide reads n unknown elements nested ten deep; the time per
// run must grow linearly with n (compare the two sizes).
func BenchmarkGoAMLWide(b *testing.B) {
	for _, n := range []int{100000, 200000} {
		data := hostile.GoAMLWide(n)
		b.Run(strings.Repeat("x", n/100000)+"", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := Import(context.Background(), bytes.NewReader(data), &rectest.Sink{}, importers.Options{Name: "wide.xml"}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestHostileConflictingDuplicates: a transactionnumber given twice with
// different content rejects the second element naming both lines and its
// path, before any of its records is sent; an exact repeat imports.
func TestHostileConflictingDuplicates(t *testing.T) {
	sink := &rectest.Sink{}
	rep, err := Import(context.Background(), bytes.NewReader(hostile.GoAMLConflicting()), sink, importers.Options{Name: "g.xml"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Read != 3 || rep.Imported != 2 || rep.Rejected != 1 || !rep.Reconciles() {
		t.Fatalf("read %d imported %d rejected %d: %+v", rep.Read, rep.Imported, rep.Rejected, rep.Rejects)
	}
	r := rep.Rejects[0]
	if r.Line != 4 || r.Column != "report/transaction" || !strings.Contains(r.Reason, "g.xml:4") || !strings.Contains(r.Reason, "g.xml:3") {
		t.Errorf("reject %+v: want line 4, report/transaction, naming g.xml:4 and g.xml:3", r)
	}
	for _, tx := range sink.Txns {
		if tx.Amount != 10000 {
			t.Errorf("transaction %+v: the conflicting amount reached the sink", tx)
		}
	}
}

// TestHostileHugeKeyField: a 70,000-byte account number (a key: it stopped
// the whole run at the store) and a 70,000-byte description reject their
// transaction elements with a bounded reason; the good one imports.
func TestHostileHugeKeyField(t *testing.T) {
	sink := &rectest.Sink{}
	rep, err := Import(context.Background(), bytes.NewReader(hostile.GoAMLHugeFields(70000)), sink, importers.Options{Name: "h.xml"})
	if err != nil {
		t.Fatalf("the run must go on: %v", err)
	}
	if rep.Read != 3 || rep.Imported != 1 || rep.Rejected != 2 || len(sink.Txns) != 1 {
		t.Fatalf("read %d imported %d rejected %d: %+v", rep.Read, rep.Imported, rep.Rejected, rep.Rejects)
	}
	for i, want := range []string{"key: value of 70,0", "reference: value of 70,000 bytes"} {
		r := rep.Rejects[i]
		if r.Line != 3+i || r.Column != "report/transaction" || !strings.Contains(r.Reason, want) || len(r.Reason) > 200 || len(r.Value) > 200 {
			t.Errorf("reject %+v: want line %d saying %q, bounded", r, 3+i, want)
		}
	}
	for _, e := range sink.Entities {
		if len(e.Ref.Key) > importers.MaxFieldBytes {
			t.Errorf("a %d-byte key reached the sink", len(e.Ref.Key))
		}
	}
}

// TestHostileXMLEntities: a billion-laughs document and an external entity
// (XXE) pointing at a local file are refused in bounded time: encoding/xml
// expands no entity a document defines, and the file's content never
// reaches a record.
func TestHostileXMLEntities(t *testing.T) {
	laughs := `<?xml version="1.0"?><!DOCTYPE report [<!ENTITY lol "lol">` +
		`<!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">` +
		`<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">` +
		`<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>` + "\n"
	xxe := `<?xml version="1.0"?><!DOCTYPE report [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>` + "\n"
	for name, doc := range map[string]string{
		"laughs.xml": laughs + string(bytes.Replace(hostile.GoAML(hostile.GoAMLTxn("1", "5")), []byte("<report_code>STR"), []byte("<report_code>&lol3;"), 1))[len(`<?xml version="1.0" encoding="UTF-8"?>`)+1:],
		"xxe.xml":    xxe + strings.Replace(string(hostile.GoAML(hostile.GoAMLTxn("1", "5")))[len(`<?xml version="1.0" encoding="UTF-8"?>`)+1:], "<transmode_code>K", "<transmode_code>&xxe;", 1),
	} {
		sink := &rectest.Sink{}
		var err error
		fuzzbudget.Within(t, 5*time.Second, func() {
			_, err = Import(context.Background(), strings.NewReader(doc), sink, importers.Options{Name: name})
		})
		if err == nil || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "entity") {
			t.Errorf("%s: error %v, want the document refused naming the file and the entity", name, err)
		}
		for _, tx := range sink.Txns {
			for k, v := range tx.Props {
				if strings.Contains(v, "root:") || strings.Contains(v, "lollol") {
					t.Errorf("%s: %s = %.40q: an entity was expanded", name, k, v)
				}
			}
		}
	}
}

// TestHostileAmountsAndDates: goAML amounts beyond 10^15 minor units and
// dates outside 1800–2200 reject their elements with the reason, never
// stored wrapped.
func TestHostileAmountsAndDates(t *testing.T) {
	doc := hostile.GoAML(hostile.GoAMLTxn("1", "92233720368547758.07") +
		strings.Replace(hostile.GoAMLTxn("2", "5"), "2025-03-15", "9999-12-31", 1) +
		strings.Replace(hostile.GoAMLTxn("3", "5"), "2025-03-15", "0000-01-01", 1) + hostile.GoAMLTxn("4", "5"))
	sink := &rectest.Sink{}
	rep, err := Import(context.Background(), bytes.NewReader(doc), sink, importers.Options{Name: "a.xml"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Imported != 1 || rep.Rejected != 3 || len(sink.Txns) != 1 {
		t.Fatalf("imported %d rejected %d: %+v", rep.Imported, rep.Rejected, rep.Rejects)
	}
	for i, want := range []string{"out of range", "outside the supported range", "outside the supported range"} {
		if r := rep.Rejects[i]; !strings.Contains(r.Reason, want) {
			t.Errorf("reject %+v: want %q", r, want)
		}
	}
}
