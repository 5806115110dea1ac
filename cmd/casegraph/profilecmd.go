package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"casegraph/importers/profile"
)

// profileCmd: casegraph profile list|show NAME|infer FILE.
type profileCmd struct {
	List  profileListCmd  `cmd:"" help:"list the built-in mapping profiles"`
	Show  profileShowCmd  `cmd:"" help:"print a built-in profile's YAML"`
	Infer profileInferCmd `cmd:"" help:"propose a profile for a CSV file"`
}

type profileListCmd struct{}

func (c *profileListCmd) Run(e *env) error { return cmdProfile(e.ctx, []string{"list"}, e.stdout) }

type profileShowCmd struct {
	Name string `arg:"" help:"a built-in profile (${profiles})"`
}

func (c *profileShowCmd) Run(e *env) error {
	return cmdProfile(e.ctx, []string{"show", c.Name}, e.stdout)
}

type profileInferCmd struct {
	File string `arg:"" predictor:"file" help:"the file to propose a profile for"`
}

func (c *profileInferCmd) Run(e *env) error {
	return cmdProfile(e.ctx, []string{"infer", c.File}, e.stdout)
}

// cmdProfile lists, shows and proposes mapping profiles: args is the
// subcommand and its argument.
func cmdProfile(_ context.Context, args []string, stdout io.Writer) error {
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
		y, err := profile.BuiltinYAML(args[1])
		if err != nil {
			return err
		}
		_, err = stdout.Write(y)
		return err
	case "infer":
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
	return fmt.Errorf("unknown profile subcommand %q", args[0])
}

func firstLine(s string) string {
	for i, r := range s {
		if r == '\n' || i > 90 {
			return s[:i] + "…"
		}
	}
	return s
}
