package main

import "github.com/spf13/cobra"

func newForecastCmd() *cobra.Command { return notYet("forecast") }
