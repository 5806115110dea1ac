package dgraphdb

// What an operator runs with a bulk output (docs/DGRAPH.md, "Loading").

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

// BulkCommand is the `dgraph bulk` command line that loads dir into a
// cluster of groups groups whose zero listens (gRPC) on zero; its output
// goes to out (out/0/p is group 1's, out/1/p group 2's, …).
func BulkCommand(bin, dir, zero, out string, groups int) []string {
	return []string{bin, "bulk",
		"--files", filepath.Join(dir, BulkData),
		"--schema", filepath.Join(dir, BulkSchema),
		"--zero", zero,
		"--out", out,
		"--map_shards", strconv.Itoa(groups),
		"--reduce_shards", strconv.Itoa(groups),
	}
}

// BulkSteps says what an operator does with a bulk output: the command to
// run and how to start the alphas on its shards.
func BulkSteps(dir, zero string, groups int) string {
	out := filepath.Join(dir, "out")
	var b strings.Builder
	fmt.Fprintf(&b, "Wrote %s and %s for Dgraph's bulk loader. casegraph does not manage the alphas' data folders; to load a fresh cluster:\n",
		filepath.Join(dir, BulkData), filepath.Join(dir, BulkSchema))
	fmt.Fprintf(&b, "  1. start dgraph zero only (no alpha yet), listening on %s (gRPC);\n", zero)
	fmt.Fprintf(&b, "  2. run the bulk loader (add --tmp DIR on a disk with room, -j N for more threads):\n       %s\n",
		shellJoin(BulkCommand("dgraph", dir, zero, out, groups)))
	b.WriteString("  3. copy each shard's p folder into its group's alpha before starting it, one alpha at a time (zero gives\n")
	b.WriteString("     each new alpha the next group):\n")
	for g := 0; g < groups; g++ {
		fmt.Fprintf(&b, "       %s → the p folder (-p) of group %d's alpha\n", filepath.Join(out, strconv.Itoa(g), "p"), g+1)
	}
	b.WriteString("  4. later files: casegraph import --db dgraph://ALPHA:PORT,… FILE… (through the client, onto the loaded nodes).\n")
	return b.String()
}

// shellJoin quotes the words of a command line for a POSIX shell.
func shellJoin(words []string) string {
	out := make([]string, len(words))
	for i, s := range words {
		if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-:,=") == "" {
			out[i] = s
			continue
		}
		out[i] = "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	return strings.Join(out, " ")
}
