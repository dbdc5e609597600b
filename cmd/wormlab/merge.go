package main

import "github.com/spf13/cobra"

func newMergeCmd() *cobra.Command { return notYet("merge") }
