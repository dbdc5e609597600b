package main

import "github.com/spf13/cobra"

func newSimulateCmd() *cobra.Command { return notYet("simulate") }
