package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"casegraph/importers/profile"
)

// cmdProfile lists, shows and proposes mapping profiles.
func cmdProfile(_ context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageError{"profile needs a subcommand: list, show NAME or infer FILE"}
	}
	switch args[0] {
	case "list":
		for _, n := range profile.Builtins() {
			p, err := profile.Builtin(n)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%-16s %s\n", n, firstLine(p.Description))
		}
		return nil
	case "show":
		if len(args) != 2 {
			return usageError{"profile show needs one built-in profile NAME"}
		}
		y, err := profile.BuiltinYAML(args[1])
		if err != nil {
			return err
		}
		_, err = stdout.Write(y)
		return err
	case "infer":
		if len(args) != 2 {
			return usageError{"profile infer needs one FILE"}
		}
		f, err := os.Open(args[1])
		if err != nil {
			return fmt.Errorf("open %s: %w", args[1], err)
		}
		defer f.Close()
		y, err := profile.Infer(f, filepath.Base(args[1]))
		if err != nil {
			return fmt.Errorf("infer a profile for %s: %w", args[1], err)
		}
		_, err = io.WriteString(stdout, y)
		return err
	}
	return usageError{fmt.Sprintf("unknown profile subcommand %q (want list, show or infer)", args[0])}
}

func firstLine(s string) string {
	for i, r := range s {
		if r == '\n' || i > 90 {
			return s[:i] + "…"
		}
	}
	return s
}
