// Command casegraph is a terminal workbench for financial-crime investigators:
// it imports case data into an embedded store and lets them search and walk
// the link graph of card holders, cards, accounts, exchanges and groups.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	_ "time/tzdata" // target machines are offline: Asia/Almaty must be embedded
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	stopProfile := startProfile(os.Getenv("CASEGRAPH_CPUPROFILE"))
	err := runWith(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
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
