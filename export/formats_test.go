package export

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type graphmlDoc struct {
	XMLName xml.Name `xml:"graphml"`
	Keys    []struct {
		ID   string `xml:"id,attr"`
		For  string `xml:"for,attr"`
		Name string `xml:"attr.name,attr"`
		Type string `xml:"attr.type,attr"`
	} `xml:"key"`
	Graphs []struct {
		ID          string `xml:"id,attr"`
		EdgeDefault string `xml:"edgedefault,attr"`
		Nodes       []struct {
			ID   string        `xml:"id,attr"`
			Data []graphmlData `xml:"data"`
		} `xml:"node"`
		Edges []struct {
			ID     string        `xml:"id,attr"`
			Source string        `xml:"source,attr"`
			Target string        `xml:"target,attr"`
			Data   []graphmlData `xml:"data"`
		} `xml:"edge"`
	} `xml:"graph"`
}

type graphmlData struct {
	Key   string `xml:"key,attr"`
	Value string `xml:",chardata"`
}

func TestGraphMLStructure(t *testing.T) {
	dir, _ := export(t, fixture(), false)
	b, err := os.ReadFile(filepath.Join(dir, "graph.graphml"))
	if err != nil {
		t.Fatal(err)
	}
	var g graphmlDoc
	if err := xml.Unmarshal(b, &g); err != nil {
		t.Fatalf("graph.graphml does not parse: %v", err)
	}
	if g.XMLName.Space != "http://graphml.graphdrawing.org/xmlns" {
		t.Errorf("root namespace %q", g.XMLName.Space)
	}
	keys := map[string]string{}
	types := map[string]bool{"boolean": true, "int": true, "long": true, "float": true, "double": true, "string": true}
	for _, k := range g.Keys {
		if k.ID == "" || (k.For != "node" && k.For != "edge" && k.For != "graph" && k.For != "all") || !types[k.Type] {
			t.Errorf("bad key declaration %+v", k)
		}
		if _, dup := keys[k.ID]; dup {
			t.Errorf("key %s declared twice", k.ID)
		}
		keys[k.ID] = k.For
	}
	if len(g.Graphs) != 1 || g.Graphs[0].EdgeDefault != "directed" {
		t.Fatalf("want one directed graph, got %d", len(g.Graphs))
	}
	gr := g.Graphs[0]
	nodes := map[string]bool{}
	for _, n := range gr.Nodes {
		if nodes[n.ID] {
			t.Errorf("node id %s twice", n.ID)
		}
		nodes[n.ID] = true
		for _, d := range n.Data {
			if keys[d.Key] != "node" {
				t.Errorf("node %s uses undeclared node key %s", n.ID, d.Key)
			}
		}
	}
	edges := map[string]bool{}
	amounts := 0
	for _, e := range gr.Edges {
		if edges[e.ID] {
			t.Errorf("edge id %s twice", e.ID)
		}
		edges[e.ID] = true
		if !nodes[e.Source] || !nodes[e.Target] {
			t.Errorf("edge %s: %s → %s does not resolve", e.ID, e.Source, e.Target)
		}
		for _, d := range e.Data {
			if keys[d.Key] != "edge" {
				t.Errorf("edge %s uses undeclared edge key %s", e.ID, d.Key)
			}
			if d.Key == "amount" {
				amounts++
			}
		}
	}
	if len(gr.Nodes) != 15 || len(gr.Edges) != 11+8 || amounts != 8 {
		t.Errorf("%d nodes, %d edges, %d amounts; want 15, 19, 8", len(gr.Nodes), len(gr.Edges), amounts)
	}
}

type gexfDoc struct {
	XMLName xml.Name `xml:"gexf"`
	Version string   `xml:"version,attr"`
	Graph   struct {
		Mode       string `xml:"mode,attr"`
		EdgeType   string `xml:"defaultedgetype,attr"`
		TimeFormat string `xml:"timeformat,attr"`
		Attributes []struct {
			Class string `xml:"class,attr"`
			Attrs []struct {
				ID   string `xml:"id,attr"`
				Type string `xml:"type,attr"`
			} `xml:"attribute"`
		} `xml:"attributes"`
		Nodes []struct {
			ID    string      `xml:"id,attr"`
			Label string      `xml:"label,attr"`
			Start string      `xml:"start,attr"`
			End   string      `xml:"end,attr"`
			Atts  []gexfValue `xml:"attvalues>attvalue"`
		} `xml:"nodes>node"`
		Edges []struct {
			ID     string      `xml:"id,attr"`
			Source string      `xml:"source,attr"`
			Target string      `xml:"target,attr"`
			Start  string      `xml:"start,attr"`
			End    string      `xml:"end,attr"`
			Atts   []gexfValue `xml:"attvalues>attvalue"`
		} `xml:"edges>edge"`
	} `xml:"graph"`
}

type gexfValue struct {
	For   string `xml:"for,attr"`
	Value string `xml:"value,attr"`
}

func TestGEXFStructure(t *testing.T) {
	dir, _ := export(t, fixture(), false)
	b, err := os.ReadFile(filepath.Join(dir, "graph.gexf"))
	if err != nil {
		t.Fatal(err)
	}
	var g gexfDoc
	if err := xml.Unmarshal(b, &g); err != nil {
		t.Fatalf("graph.gexf does not parse: %v", err)
	}
	if g.XMLName.Space != "http://gexf.net/1.3" || g.Version != "1.3" {
		t.Errorf("namespace %q version %q, want GEXF 1.3", g.XMLName.Space, g.Version)
	}
	if g.Graph.Mode != "dynamic" || g.Graph.EdgeType != "directed" || g.Graph.TimeFormat != "dateTime" {
		t.Errorf("graph mode %q edges %q timeformat %q", g.Graph.Mode, g.Graph.EdgeType, g.Graph.TimeFormat)
	}
	declared := map[string]map[string]bool{"node": {}, "edge": {}}
	for _, a := range g.Graph.Attributes {
		for _, at := range a.Attrs {
			declared[a.Class][at.ID] = true
		}
	}
	nodes := map[string]bool{}
	for _, n := range g.Graph.Nodes {
		nodes[n.ID] = true
		for _, v := range n.Atts {
			if !declared["node"][v.For] {
				t.Errorf("node %s: undeclared attribute %s", n.ID, v.For)
			}
		}
		checkSpan(t, n.ID, n.Start, n.End)
	}
	timed := 0
	for _, e := range g.Graph.Edges {
		if !nodes[e.Source] || !nodes[e.Target] {
			t.Errorf("edge %s does not resolve", e.ID)
		}
		for _, v := range e.Atts {
			if !declared["edge"][v.For] {
				t.Errorf("edge %s: undeclared attribute %s", e.ID, v.For)
			}
		}
		if e.Start != "" {
			timed++
		}
		checkSpan(t, e.ID, e.Start, e.End)
	}
	if len(g.Graph.Nodes) != 15 || len(g.Graph.Edges) != 19 || timed != 8 {
		t.Errorf("%d nodes, %d edges, %d with time; want 15, 19, 8", len(g.Graph.Nodes), len(g.Graph.Edges), timed)
	}
}

func checkSpan(t *testing.T, id, start, end string) {
	t.Helper()
	if (start == "") != (end == "") {
		t.Errorf("%s: start %q end %q", id, start, end)
		return
	}
	if start == "" {
		return
	}
	s, err1 := time.Parse(time.RFC3339, start)
	e, err2 := time.Parse(time.RFC3339, end)
	if err1 != nil || err2 != nil || e.Before(s) || !strings.HasSuffix(start, "Z") {
		t.Errorf("%s: bad interval %q – %q", id, start, end)
	}
}

// runDot lays the DOT file out with Graphviz when it is installed.
func runDot(t *testing.T, path string) {
	t.Helper()
	dot, err := exec.LookPath("dot")
	if err != nil {
		t.Log("graphviz dot not installed: checked DOT syntax by balance only")
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, dot, "-Tsvg", "-o", os.DevNull, path).CombinedOutput()
	if err != nil {
		t.Fatalf("dot rejects graph.dot: %v\n%s", err, out)
	}
}

// ftmModel is the FollowTheMoney schema as compiled into defaultModel.json.
type ftmModel struct {
	Schemata map[string]struct {
		Abstract   bool     `json:"abstract"`
		Extends    []string `json:"extends"`
		Required   []string `json:"required"`
		Properties map[string]struct {
			Type  string `json:"type"`
			Range string `json:"range"`
		} `json:"properties"`
	} `json:"schemata"`
}

// ftmModelPath is the FtM schema shipped with the shared data sets.
const ftmModelPath = "../../shared/data/followthemoney/defaultModel.json"

func loadFtMModel(t *testing.T) ftmModel {
	t.Helper()
	b, err := os.ReadFile(ftmModelPath)
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("FollowTheMoney schema not found at %s: FtM validation skipped", ftmModelPath)
	}
	if err != nil {
		t.Fatal(err)
	}
	var m ftmModel
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", ftmModelPath, err)
	}
	return m
}

// is reports whether schema s is, or extends, schema want.
func (m ftmModel) is(s, want string) bool {
	if s == want {
		return true
	}
	for _, p := range m.Schemata[s].Extends {
		if m.is(p, want) {
			return true
		}
	}
	return false
}

// prop finds a property on a schema or its ancestors.
func (m ftmModel) prop(s, name string) (typ, rng string, ok bool) {
	sc, found := m.Schemata[s]
	if !found {
		return "", "", false
	}
	if p, found := sc.Properties[name]; found {
		return p.Type, p.Range, true
	}
	for _, parent := range sc.Extends {
		if typ, rng, ok = m.prop(parent, name); ok {
			return typ, rng, true
		}
	}
	return "", "", false
}

func TestFtMEntitiesMatchSchema(t *testing.T) {
	model := loadFtMModel(t)
	for _, redact := range []bool{false, true} {
		dir, _ := export(t, fixture(), redact)
		b, err := os.ReadFile(filepath.Join(dir, "entities.ftm.json"))
		if err != nil {
			t.Fatal(err)
		}
		var ents []ftmEntity
		schemaOf := map[string]string{}
		for i, line := range bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n")) {
			var e ftmEntity
			if err := json.Unmarshal(line, &e); err != nil {
				t.Fatalf("line %d: %v", i+1, err)
			}
			if _, dup := schemaOf[e.ID]; dup || e.ID == "" {
				t.Errorf("entity id %q empty or repeated", e.ID)
			}
			schemaOf[e.ID] = e.Schema
			ents = append(ents, e)
		}
		seen := map[string]int{}
		for _, e := range ents {
			sc, ok := model.Schemata[e.Schema]
			if !ok || sc.Abstract {
				t.Errorf("%s: schema %q missing or abstract", e.ID, e.Schema)
				continue
			}
			seen[e.Schema]++
			for _, req := range sc.Required {
				if len(e.Properties[req]) == 0 {
					t.Errorf("%s (%s): required property %s missing", e.ID, e.Schema, req)
				}
			}
			for name, vals := range e.Properties {
				typ, rng, ok := model.prop(e.Schema, name)
				if !ok {
					t.Errorf("%s: schema %s has no property %s", e.ID, e.Schema, name)
					continue
				}
				if typ != "entity" {
					continue
				}
				for _, v := range vals {
					target, ok := schemaOf[v]
					if !ok {
						t.Errorf("%s.%s → %s: no such entity", e.ID, name, v)
					} else if rng != "" && !model.is(target, rng) {
						t.Errorf("%s.%s → %s is a %s, want a %s", e.ID, name, v, target, rng)
					}
				}
			}
		}
		for _, want := range []string{"Person", "BankAccount", "Ownership", "Payment", "Membership", "Organization",
			"CryptoWallet", "UnknownLink", "Address"} {
			if seen[want] == 0 {
				t.Errorf("no %s entity emitted", want)
			}
		}
		if seen["Payment"] != 8 {
			t.Errorf("%d payments, want 8", seen["Payment"])
		}
		if !bytes.Contains(b, []byte(`"accountType":["card"]`)) {
			t.Errorf("cards are not BankAccounts of type card")
		}
	}
}
