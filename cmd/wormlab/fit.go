package main

import "github.com/spf13/cobra"

func newFitCmd() *cobra.Command { return notYet("fit") }
