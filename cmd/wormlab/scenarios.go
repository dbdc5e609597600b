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
	cmd.AddCommand(&cobra.Command{
		Use:   "show NAME",
		Short: "Print a built-in scenario as TOML (a file that -f reads back)",
		Args:  cobra.ExactArgs(1),
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
