package main

import "github.com/spf13/cobra"

func newDetectCmd() *cobra.Command { return notYet("detect") }
