package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"casegraph/server/loadtest"
)

// serveBenchFlags are bench's team-server load test (server/loadtest).
type serveBenchFlags struct {
	Sessions int           `name:"serve-sessions" placeholder:"N" help:"load-test a team server: this many SSH sessions at once search and page (0: the local measurements)"`
	Duration time.Duration `default:"1m" help:"with --serve-sessions: how long the sessions work together"`
	Interval time.Duration `name:"keystroke-interval" default:"150ms" help:"with --serve-sessions: the typing pace of each session (150ms: a fast typist; 0: as fast as the screen redraws)"`
	Single   time.Duration `help:"with --serve-sessions: how long one session works alone first (default a quarter of --duration, at least 2s)"`
}

// serveBenchReport is the load test's figures.
type serveBenchReport struct {
	DB            string  `json:"db"`
	Sessions      int     `json:"sessions"`
	DurationS     float64 `json:"duration_s"`
	IntervalMS    float64 `json:"keystroke_interval_ms"`
	Keystroke     latency `json:"keystroke"`
	Page          latency `json:"page_down"`
	Errors        int     `json:"errors"`
	FirstError    string  `json:"first_error,omitempty"`
	SingleKey     latency `json:"single_session_keystroke"`
	IdleRSSMiB    float64 `json:"idle_rss_mib"`
	SingleRSSMiB  float64 `json:"single_session_rss_mib"`
	SinglePeakMiB float64 `json:"single_session_rss_peak_mib"`
	ManyRSSMiB    float64 `json:"sessions_rss_mib"`
	ManyPeakMiB   float64 `json:"sessions_rss_peak_mib"`
	PeakMiB       float64 `json:"process_peak_rss_mib"`
	// CPU of the process (server and clients) per keystroke or page.
	CPUPerActionMS       float64 `json:"cpu_per_action_ms"`
	SingleCPUPerActionMS float64 `json:"single_session_cpu_per_action_ms"`
	LoadAverage          string  `json:"load_average,omitempty"`
	GoMaxProcs           int     `json:"gomaxprocs"`
	MeasuredAtUTC        string  `json:"measured_at_utc"`
}

// benchServe serves the database in-process to real SSH clients and
// measures keystroke → results and memory (docs/PERFORMANCE.md, team
// server). The database is opened for writing: the server journals the
// bench sessions' logins, as it journals every login.
func benchServe(ctx context.Context, dbf dbFlags, f serveBenchFlags, asJSON bool, stdout io.Writer) error {
	if f.Duration <= 0 || f.Single < 0 || f.Interval < 0 {
		return usageError{msg: "bench: --duration must be positive, --single and --keystroke-interval not negative"}
	}
	db, err := dbf.open(false, false)
	if err != nil {
		return err
	}
	defer db.Close()
	var progress io.Writer = os.Stderr
	if asJSON {
		progress = nil
	}
	r := serveBenchReport{DB: dbf.dir, Sessions: f.Sessions, DurationS: f.Duration.Seconds(), IntervalMS: ms(f.Interval),
		GoMaxProcs: runtime.GOMAXPROCS(0), MeasuredAtUTC: time.Now().UTC().Format(time.RFC3339)}
	rep, err := loadtest.Run(ctx, newBackend(db), loadtest.Config{Sessions: f.Sessions, Duration: f.Duration, Single: f.Single,
		Interval: f.Interval, Words: typedQueries, Memory: procRSS, CPU: procCPU, Progress: progress})
	if err != nil {
		return err
	}
	r.Keystroke, r.Page, r.SingleKey = summarize(rep.Many.Keystrokes), summarize(rep.Many.Pages), summarize(rep.Single.Keystrokes)
	r.Errors, r.FirstError = rep.Many.Errors+rep.Single.Errors, rep.Many.FirstError
	if r.FirstError == "" {
		r.FirstError = rep.Single.FirstError
	}
	perAction := func(ph loadtest.Phase) float64 {
		if n := len(ph.Keystrokes) + len(ph.Pages); n > 0 {
			return ms(ph.CPU) / float64(n)
		}
		return 0
	}
	r.CPUPerActionMS, r.SingleCPUPerActionMS = perAction(rep.Many), perAction(rep.Single)
	if raw, err := os.ReadFile("/proc/loadavg"); err == nil {
		r.LoadAverage = strings.Join(strings.Fields(string(raw))[:3], " ")
	}
	r.IdleRSSMiB, r.SingleRSSMiB, r.SinglePeakMiB = rep.IdleRSSMiB, rep.Single.RSSMiB, rep.Single.RSSPeakMiB
	r.ManyRSSMiB, r.ManyPeakMiB, r.PeakMiB = rep.Many.RSSMiB, rep.Many.RSSPeakMiB, rep.PeakMiB
	if asJSON {
		return writeJSON(stdout, r)
	}
	fmt.Fprintf(stdout, "team server on %s: %d SSH sessions for %s, a keystroke every %s (GOMAXPROCS %d, %s)\n",
		r.DB, r.Sessions, f.Duration, f.Interval, r.GoMaxProcs, r.MeasuredAtUTC)
	fmt.Fprintf(stdout, "keystroke → results on screen over %d keystrokes: p50 %.1f ms · p95 %.1f ms · max %.1f ms\n",
		r.Keystroke.N, r.Keystroke.P50, r.Keystroke.P95, r.Keystroke.Max)
	fmt.Fprintf(stdout, "page down → next page over %d pages: p50 %.1f ms · p95 %.1f ms · max %.1f ms\n",
		r.Page.N, r.Page.P50, r.Page.P95, r.Page.Max)
	fmt.Fprintf(stdout, "one session alone, %d keystrokes: p50 %.1f ms · p95 %.1f ms · max %.1f ms\n",
		r.SingleKey.N, r.SingleKey.P50, r.SingleKey.P95, r.SingleKey.Max)
	fmt.Fprintf(stdout, "CPU (server and clients) per keystroke or page: %.1f ms with %d sessions · %.1f ms alone · load average at the end %s\n",
		r.CPUPerActionMS, r.Sessions, r.SingleCPUPerActionMS, r.LoadAverage)
	fmt.Fprintf(stdout, "errors: %d", r.Errors)
	if r.FirstError != "" {
		fmt.Fprintf(stdout, " (first: %s)", strings.SplitN(r.FirstError, "\n", 2)[0])
	}
	fmt.Fprintln(stdout)
	ratio := 0.0
	if r.SinglePeakMiB > 0 {
		ratio = r.ManyPeakMiB / r.SinglePeakMiB
	}
	fmt.Fprintf(stdout, "resident memory: idle %.0f MiB · 1 session %.0f MiB (peak %.0f) · %d sessions %.0f MiB (peak %.0f) · ×%.2f of one session · process peak %.0f MiB (index load included)\n",
		r.IdleRSSMiB, r.SingleRSSMiB, r.SinglePeakMiB, r.Sessions, r.ManyRSSMiB, r.ManyPeakMiB, ratio, r.PeakMiB)
	return nil
}

// procCPU is the CPU time (user and system) this process has used, from
// /proc; zero where /proc is not there.
func procCPU() time.Duration {
	raw, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0
	}
	// The fields after the command name, which is in parentheses and may
	// hold spaces: utime and stime are the 12th and 13th of them, in
	// clock ticks (100 a second on Linux).
	s := string(raw)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+st) * 10 * time.Millisecond
}
