package graph

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sahilm/fuzzy"

	"casegraph/internal/mapfile"
)

var (
	benchSurnames = []string{"Нурланов", "Ахметов", "Жанболатов", "Қасымов", "Сериков", "Омаров", "Ким", "Цой",
		"Исаев", "Байжанов", "Әбдірахманов", "Тоқтаров", "Мұхамедов", "Ермеков", "Сейткали", "Жумабаев",
		"Иванов", "Петров", "Смагулов", "Оспанов", "Нұрмағамбетов", "Есенов", "Бекова", "Ахметова"}
	benchFirst = []string{"Ерлан", "Нурлан", "Жанболат", "Айгерим", "Әлия", "Серик", "Дмитрий", "Юлия",
		"Қайрат", "Шынар", "Асель", "Бауыржан", "Гүлнар", "Данияр", "Ержан", "Мадина", "Сергей", "Арман"}
	benchPatr = []string{"Серикович", "Нурланович", "Ерланович", "Қасымұлы", "Бекқызы", "Маратовна",
		"Асанович", "Жумабаевич", "Сергеевна", "Амангелдиевич"}
	benchLatSur = []string{"NURLANOV", "AKHMETOV", "ZHANBOLATOV", "KASYMOV", "SERIKOV", "OMAROV", "KIM", "TSOI",
		"ISAYEV", "BAIZHANOV", "ABDRAKHMANOV", "TOKTAROV", "MUKHAMEDOV", "YERMEKOV", "SEITKALI", "ZHUMABAYEV",
		"IVANOV", "PETROV", "SMAGULOV", "OSPANOV", "AHMETOVA", "BEKOVA"}
	benchLatFirst = []string{"YERLAN", "NURLAN", "ZHANBOLAT", "AIGERIM", "ALIYA", "SERIK", "DMITRIY", "IULIIA",
		"KAIRAT", "SHYNAR", "ASSEL", "BAUYRZHAN", "GULNAR", "DANIYAR", "YERZHAN", "MADINA", "SERGEY", "ARMAN"}
	benchBIN = []string{"440043", "400303", "517792", "539545", "405870", "220220", "676280", "458934"}
	benchOrg = []string{"Binance", "Bybit", "Exmo", "Garantex", "Kazcoin", "Atomex", "CryptoKZ", "Tengri",
		"Altyn", "Dala", "Steppe", "Nomad", "Alatau", "Qazaq", "Bitok", "Cashbox"}
	benchOrgKind = []string{"Exchange", "OTC", "Swap", "Group", "Trade", "P2P", "Pay", "Finance"}
)

// benchCorpus builds n documents shaped like PERF-LIMITS §2d: 22 % Cyrillic
// full names, 23 % Latin names, 40 % card numbers, 10 % IBANs, 5 % exchange
// or group names. Built through DocFor, so terms are what the store will give.
func benchCorpus(n int) []SearchDoc {
	rng := rand.New(rand.NewPCG(42, 1))
	pick := func(s []string) string { return s[rng.IntN(len(s))] }
	digits := func(k int) string {
		b := make([]byte, k)
		for i := range b {
			b[i] = byte('0' + rng.IntN(10))
		}
		return string(b)
	}
	docs := make([]SearchDoc, 0, n)
	for i := range n {
		var e Entity
		switch x := rng.IntN(100); {
		case x < 22:
			e = Entity{Ref: Ref{Kind: KindPerson, Key: digits(12)},
				Name: pick(benchSurnames) + " " + pick(benchFirst) + " " + pick(benchPatr)}
		case x < 45:
			e = Entity{Ref: Ref{Kind: KindPerson, Key: digits(12)}, Name: pick(benchLatSur) + " " + pick(benchLatFirst)}
		case x < 85:
			key := pick(benchBIN) + digits(10)
			if rng.IntN(4) == 0 {
				key = key[:6] + "******" + key[12:]
			}
			e = Entity{Ref: Ref{Kind: KindCard, Key: key}, Stub: rng.IntN(3) == 0}
		case x < 95:
			e = Entity{Ref: Ref{Kind: KindAccount, Key: "KZ" + digits(2) + "722S" + digits(12)}}
		default:
			name := pick(benchOrg) + " " + pick(benchOrgKind)
			k := KindExchange
			if rng.IntN(2) == 0 {
				k = KindGroup
			}
			e = Entity{Ref: Ref{Kind: k, Key: strings.ToLower(strings.ReplaceAll(name, " ", "-")) + fmt.Sprint(i)}, Name: name}
		}
		docs = append(docs, DocFor(e))
	}
	return docs
}

var benchPatterns = []string{"нур", "ерлан", "erla", "nurl", "4400", "9012", "bina", "kz86", "ahmt", "xyzq"}

var benchTyping = []string{"нурлан", "ерлан", "erlan", "44001", "binance", "ахметов", "zhanbol", "kz86722"}

// latencies collects wall and CPU time per query. The machine is shared,
// so wall time includes waiting for a core; CPU time (user+system of the
// whole process, which does nothing else meanwhile) shows the work done.
type latencies struct {
	wall, cpu []time.Duration
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// measure runs fn once and records its wall and CPU time.
func (l *latencies) measure(fn func()) {
	c0, t0 := cpuTime(), time.Now()
	fn()
	l.wall = append(l.wall, time.Since(t0))
	l.cpu = append(l.cpu, cpuTime()-c0)
}

// report reports p50, p95 and max wall time in milliseconds, and the p50 and
// p95 CPU time divided by GOMAXPROCS (what the wall time would be on an
// otherwise idle machine with perfect scaling).
func (l *latencies) report(b *testing.B) {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	slices.Sort(l.wall)
	slices.Sort(l.cpu)
	n := len(l.wall)
	b.ReportMetric(ms(l.wall[n/2]), "p50-ms")
	b.ReportMetric(ms(l.wall[n*95/100]), "p95-ms")
	b.ReportMetric(ms(l.wall[n-1]), "max-ms")
	procs := float64(runtime.GOMAXPROCS(0))
	b.ReportMetric(ms(l.cpu[n/2])/procs, "cpu/core-p50-ms")
	b.ReportMetric(ms(l.cpu[n*95/100])/procs, "cpu/core-p95-ms")
	b.ReportMetric(0, "ns/op")
}

func BenchmarkSearch1M(b *testing.B) {
	const n = 1_000_000
	docs := benchCorpus(n)

	var ix *SearchIndex
	b.Run("build", func(b *testing.B) {
		for b.Loop() {
			ix = nil
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			ix = NewSearchIndex(docs)
			build := time.Since(start)
			runtime.GC()
			runtime.ReadMemStats(&after)
			b.ReportMetric(float64(build)/float64(time.Millisecond), "build-ms")
			b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/n, "B/entity")
		}
	})
	if ix == nil {
		ix = NewSearchIndex(docs)
	}
	ctx := context.Background()

	b.Run("patterns", func(b *testing.B) {
		var l latencies
		for b.Loop() {
			for _, p := range benchPatterns {
				ix.Forget() // defeat the narrowing cache and the remembered answers
				l.measure(func() { ix.Search(ctx, p, KindUnknown, 50) })
			}
		}
		l.report(b)
	})

	for _, p := range benchPatterns {
		b.Run("pattern="+p, func(b *testing.B) {
			var l latencies
			var total int
			for b.Loop() {
				ix.Forget()
				l.measure(func() { total = ix.Search(ctx, p, KindUnknown, 50).Total })
			}
			b.ReportMetric(float64(total), "matches")
			l.report(b)
		})
	}

	b.Run("typing", func(b *testing.B) {
		var l latencies
		for b.Loop() {
			for _, word := range benchTyping {
				ix.Forget()
				r := []rune(word)
				for i := 1; i <= len(r); i++ {
					l.measure(func() { ix.Search(ctx, string(r[:i]), KindUnknown, 50) })
				}
			}
		}
		l.report(b)
	})
}

// BenchmarkSahilmFind1M is the baseline the index is measured against:
// fuzzy.Find over every label.
func BenchmarkSahilmFind1M(b *testing.B) {
	docs := benchCorpus(1_000_000)
	labels := make([]string, len(docs))
	for i, d := range docs {
		labels[i] = d.Label
	}
	for _, p := range []string{"нур", "4400", "bina"} {
		b.Run("pattern="+p, func(b *testing.B) {
			for b.Loop() {
				fuzzy.Find(p, labels)
			}
		})
	}
}

// BenchmarkSearchFileOpen1M measures opening the search index file of a
// million documents (docs/adr/0004-search-index-file.md): mapping it,
// checking every chunk's checksum and offsets, against building the index
// from the documents and against reading the file's bytes once (the limit).
func BenchmarkSearchFileOpen1M(b *testing.B) {
	docs := benchCorpus(1_000_000)
	path := filepath.Join(b.TempDir(), "search.idx")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := NewSearchIndex(docs).WriteFile(f, testStamp); err != nil {
		b.Fatal(err)
	}
	f.Close()
	fi, _ := os.Stat(path)
	b.Logf("file %.1f MiB", float64(fi.Size())/(1<<20))
	b.Run("map", func(b *testing.B) {
		for b.Loop() {
			data, release, err := mapfile.Open(path)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := OpenSearchIndex(data, testStamp, release); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("read", func(b *testing.B) {
		// The alternative to mapping: one read into (fresh) heap memory.
		for b.Loop() {
			f, err := os.Open(path)
			if err != nil {
				b.Fatal(err)
			}
			words := make([]uint64, (fi.Size()+7)/8)
			data := bytesOf(words)[:fi.Size()]
			if _, err := io.ReadFull(f, data); err != nil {
				b.Fatal(err)
			}
			f.Close()
			if _, err := OpenSearchIndex(data, testStamp, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("read-limit", func(b *testing.B) {
		buf := make([]byte, 4<<20)
		for b.Loop() {
			f, err := os.Open(path)
			if err != nil {
				b.Fatal(err)
			}
			for {
				if _, err := f.Read(buf); err != nil {
					break
				}
			}
			f.Close()
		}
	})
	b.Run("build", func(b *testing.B) {
		for b.Loop() {
			NewSearchIndex(docs)
		}
	})
}

// BenchmarkSearchMappedVsBuilt1M types the same keystrokes into an index
// built on the heap and into the same index mapped from its file,
// alternating, so that both see the same machine (docs/PERFORMANCE.md,
// issue 14: keystrokes must not get slower).
func BenchmarkSearchMappedVsBuilt1M(b *testing.B) {
	docs := benchCorpus(1_000_000)
	built := NewSearchIndex(docs)
	path := filepath.Join(b.TempDir(), "search.idx")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := built.WriteFile(f, testStamp); err != nil {
		b.Fatal(err)
	}
	f.Close()
	data, release, err := mapfile.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	mapped, err := OpenSearchIndex(data, testStamp, release)
	if err != nil {
		b.Fatal(err)
	}
	docs = nil
	runtime.GC()
	ctx := context.Background()
	var lb, lm latencies
	for b.Loop() {
		for _, word := range benchTyping {
			// Typed: each keystroke narrows within the previous one's
			// matches (random access by document), as in the TUI.
			built.Forget()
			mapped.Forget()
			r := []rune(word)
			for i := 1; i <= len(r); i++ {
				q := string(r[:i])
				lb.measure(func() { built.Search(ctx, q, KindUnknown, 50) })
				lm.measure(func() { mapped.Search(ctx, q, KindUnknown, 50) })
			}
		}
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	for _, s := range [][]time.Duration{lb.wall, lm.wall, lb.cpu, lm.cpu} {
		slices.Sort(s)
	}
	n := len(lb.wall)
	b.ReportMetric(ms(lb.wall[n/2]), "built-p50-ms")
	b.ReportMetric(ms(lm.wall[n/2]), "mapped-p50-ms")
	b.ReportMetric(ms(lb.wall[n*95/100]), "built-p95-ms")
	b.ReportMetric(ms(lm.wall[n*95/100]), "mapped-p95-ms")
	b.ReportMetric(ms(lb.cpu[n/2]), "built-cpu-p50-ms")
	b.ReportMetric(ms(lm.cpu[n/2]), "mapped-cpu-p50-ms")
	b.ReportMetric(ms(lb.cpu[n*95/100]), "built-cpu-p95-ms")
	b.ReportMetric(ms(lm.cpu[n*95/100]), "mapped-cpu-p95-ms")
	b.ReportMetric(0, "ns/op")
}
