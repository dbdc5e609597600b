package main

// Shell completion: cobra's `wormlab completion bash|zsh|fish|powershell`
// writes the script; these functions give it the values flags take.

import (
	"github.com/spf13/cobra"

	"github.com/wormlab/wormlab/internal/scenario"
)

// flagValues are the values of flags that take one of a fixed set, by
// flag name, for every command that has such a flag.
var flagValues = map[string]func() []string{
	"scenario": scenario.Names,
	"engine":   func() []string { return []string{"event", "probe"} },
	"model":    func() []string { return []string{"logistic", "two-factor", "sim"} },
	"format": func() []string {
		return []string{"common", "combined", "vhost_combined", "iis-w3c", "iis-comma", "fallback"}
	},
	"telescope": func() []string {
		return []string{"auto"}
	},
}

// fileExts restricts file completion for flags that read one kind of file.
var fileExts = map[string][]string{
	"file":  {"toml"},
	"rules": {"toml"},
}

// addCompletions registers the value completions on cmd and its
// subcommands.
func addCompletions(cmd *cobra.Command) {
	for _, c := range cmd.Commands() {
		addCompletions(c)
	}
	for name, values := range flagValues {
		if cmd.Flags().Lookup(name) == nil || cmd.Flags().Lookup(name).Value.Type() != "string" {
			continue
		}
		cmd.RegisterFlagCompletionFunc(name, func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return values(), cobra.ShellCompDirectiveNoFileComp
		})
	}
	for name, exts := range fileExts {
		if cmd.Flags().Lookup(name) == nil {
			continue
		}
		cmd.RegisterFlagCompletionFunc(name, func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return exts, cobra.ShellCompDirectiveFilterFileExt
		})
	}
}
