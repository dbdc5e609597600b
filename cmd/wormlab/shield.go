package main

import "github.com/spf13/cobra"

func newShieldCmd() *cobra.Command { return notYet("shield") }
