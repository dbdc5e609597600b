package main

import "github.com/spf13/cobra"

func newScenariosCmd() *cobra.Command { return notYet("scenarios") }
