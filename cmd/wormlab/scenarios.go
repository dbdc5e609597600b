package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/wormlab/wormlab/internal/scenario"
)

func newScenariosCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "scenarios",
		Short: "List the built-in scenarios",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w := cmd.OutOrStdout()
			for _, name := range scenario.Names() {
				s, err := scenario.Builtin(name)
				if err != nil {
					return err
				}
				fmt.Fprintf(w, "%-28s %s\n", name, s.Description)
			}
			return nil
		},
	}
	cmd.AddCommand(newScenariosCheckCmd())
	cmd.AddCommand(&cobra.Command{
		Use:   "show NAME",
		Short: "Print a built-in scenario as TOML (a file that -f reads back)",
		Args:  cobra.ExactArgs(1),
		ValidArgsFunction: func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
			if len(args) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			return scenario.Names(), cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := scenario.Builtin(args[0])
			if err != nil {
				return inputError(err)
			}
			fmt.Fprint(cmd.OutOrStdout(), s.Source)
			return nil
		},
	})
	return cmd
}

func newScenariosCheckCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "check FILE.toml...",
		Short: "Validate scenario files without running them",
		Long: `check reads each scenario file as 'wormlab simulate -f' would, builds its
population and worm for the first seed (layout files included), and
prints one line per file: what it would simulate, or the first problem
with its file:line. Nothing is simulated and nothing is written. The exit
status is 2 if any file is wrong.`,
		Args: cobra.MinimumNArgs(1),
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return []string{"toml"}, cobra.ShellCompDirectiveFilterFileExt
		},
		RunE: func(cmd *cobra.Command, files []string) error {
			var first error
			for _, file := range files {
				line, err := checkScenario(file)
				if err != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "wormlab: %s\n", plainMessage(err))
					if first == nil {
						first = err
					}
					continue
				}
				fmt.Fprintln(cmd.OutOrStdout(), line)
			}
			if first != nil {
				return inputError(errAlreadyReported)
			}
			return nil
		},
	}
	inputArgs(cmd)
	return cmd
}

// checkScenario reads and builds file and says what it would run.
func checkScenario(file string) (string, error) {
	s, err := scenario.Load(file)
	if err != nil {
		return "", err
	}
	c, err := s.Build(defaultSeed)
	if err != nil {
		return "", err
	}
	engine, err := chooseEngine(c, s.Worm.Strategy, "")
	if err != nil {
		return "", err
	}
	const ts = "2006-01-02 15:04 UTC"
	return fmt.Sprintf("%s: ok: %s, %s vulnerable hosts in 2^%d addresses, %s to %s in bins of %s (%s engine)",
		file, s.Name, thousands(int64(len(c.Hosts))), c.SpaceBits,
		c.Start.UTC().Format(ts), c.Start.Add(c.Duration).UTC().Format(ts), offset(c.Step), engine), nil
}
