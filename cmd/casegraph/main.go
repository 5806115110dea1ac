// Command casegraph is a terminal workbench for financial-crime investigators:
// it imports case data into an embedded store and lets them search and walk
// the link graph of card holders, cards, accounts, exchanges and groups.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"

	_ "time/tzdata" // target machines are offline: Asia/Almaty must be embedded
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	stopProfile := startProfile(os.Getenv("CASEGRAPH_CPUPROFILE"))
	stopHeap := startHeapProfile(os.Getenv("CASEGRAPH_MEMPROFILE"))
	err := runWith(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stopHeap()
	stopProfile()
	stop()
	if err != nil {
		os.Exit(printError(os.Stderr, err))
	}
}

// startProfile writes a CPU profile to path (for measuring imports and
// start-up); an empty path does nothing.
func startProfile(path string) (stop func()) {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "casegraph: cpu profile: %v\n", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintf(os.Stderr, "casegraph: cpu profile: %v\n", err)
		f.Close()
		return func() {}
	}
	return func() { pprof.StopCPUProfile(); f.Close() }
}

// startHeapProfile writes to path the heap profile of the moment the live
// heap was largest (looked at every 200 ms), for finding what makes a
// command's peak memory; an empty path does nothing.
func startHeapProfile(path string) (stop func()) {
	if path == "" {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		var peak uint64
		write := func() {
			f, err := os.Create(path)
			if err != nil {
				fmt.Fprintf(os.Stderr, "casegraph: heap profile: %v\n", err)
				return
			}
			defer f.Close()
			if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
				fmt.Fprintf(os.Stderr, "casegraph: heap profile: %v\n", err)
			}
		}
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				if peak == 0 {
					write()
				}
				return
			case <-tick.C:
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				if ms.HeapAlloc > peak+peak/20 {
					peak = ms.HeapAlloc
					write()
				}
			}
		}
	}()
	return func() { close(done); <-finished }
}
