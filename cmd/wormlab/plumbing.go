package main

// The plumbing every command shares: output and input flags checked before
// any work, "-" as standard output, -q, and messages for cobra's and
// pflag's own errors that read like the rest of wormlab's.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wormlab/wormlab/internal/output"
)

// Flag and command annotations that prepare reads.
const (
	outputFlagKey = "wormlab_output" // the flag names a file the command writes
	inputFlagKey  = "wormlab_input"  // the flag names a file the command reads
	inputArgsKey  = "wormlab_inputs" // the command's arguments are files it reads
)

// outputFlag declares a string flag that names an output file ("-" for
// standard output); prepare checks it before the command runs.
func outputFlag(f *pflag.FlagSet, p *string, name, short, usage string) {
	f.StringVarP(p, name, short, "", usage)
	f.SetAnnotation(name, outputFlagKey, []string{"true"})
}

// markOutput marks flags already declared as outputs.
func markOutput(f *pflag.FlagSet, names ...string) {
	for _, n := range names {
		f.SetAnnotation(n, outputFlagKey, []string{"true"})
	}
}

// markInput marks flags that name files the command reads, so that no
// output may overwrite them.
func markInput(f *pflag.FlagSet, names ...string) {
	for _, n := range names {
		f.SetAnnotation(n, inputFlagKey, []string{"true"})
	}
}

// inputArgs marks cmd's positional arguments as files it reads.
func inputArgs(cmd *cobra.Command) {
	if cmd.Annotations == nil {
		cmd.Annotations = map[string]string{}
	}
	cmd.Annotations[inputArgsKey] = "true"
}

// stdoutKey carries the real standard output in the command's context:
// when an output is "-", cmd.OutOrStdout is moved to standard error so
// that the summary does not mix with the data.
type stdoutKey struct{}

// prepare runs before every command: it refuses empty output names, checks
// every output path and that none is another output or an input, and
// routes the summary to standard error when an output is "-" and to
// nowhere under -q.
func prepare(cmd *cobra.Command, args []string, stdout io.Writer) error {
	cmd.SetContext(context.WithValue(cmd.Context(), stdoutKey{}, stdout))
	var plan output.Plan
	var bad error
	toStdout := false
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if bad != nil {
			return
		}
		name := "--" + f.Name
		if _, ok := f.Annotations[outputFlagKey]; ok {
			v := f.Value.String()
			switch {
			case f.Changed && v == "":
				bad = fmt.Errorf("%s: empty file name; give a path, or - for standard output", name)
			case v == output.Stdout:
				toStdout = true
			}
			plan.Output(name, v)
		}
		if _, ok := f.Annotations[inputFlagKey]; ok {
			if f.Changed && f.Value.String() == "" {
				bad = fmt.Errorf("%s: empty file name", name)
			}
			plan.Input(f.Value.String())
		}
	})
	if bad != nil {
		return inputError(bad)
	}
	if err := checkPositive(cmd); err != nil {
		return inputError(err)
	}
	if cmd.Annotations[inputArgsKey] != "" {
		for _, a := range args {
			plan.Input(a)
		}
	}
	if err := plan.Check(); err != nil {
		return inputError(err)
	}
	if q, err := cmd.Flags().GetBool("quiet"); err == nil && q {
		cmd.SetOut(io.Discard)
	} else if toStdout {
		cmd.SetOut(cmd.ErrOrStderr())
	}
	return nil
}

// dataOut returns the standard output that "-" writes to.
func dataOut(cmd *cobra.Command) io.Writer {
	if w, ok := cmd.Context().Value(stdoutKey{}).(io.Writer); ok {
		return w
	}
	return cmd.OutOrStdout()
}

// writeOutput writes the output path ("" for none) with fill, unless the
// command has been stopped: then nothing more is written.
func writeOutput(cmd *cobra.Command, path string, fill func(io.Writer) error) error {
	if path == "" {
		return nil
	}
	if err := cmd.Context().Err(); err != nil {
		return context.Cause(cmd.Context())
	}
	return output.Write(path, dataOut(cmd), fill)
}

// friendlyFlagError rewrites pflag's errors about a flag's value, which
// quote Go's parsers ("strconv.ParseUint: parsing ..."), into what the
// flag wants.
func friendlyFlagError(err error) error {
	var iv *pflag.InvalidValueError
	if !errors.As(err, &iv) {
		return flagError{err}
	}
	want := "a valid value"
	switch iv.GetFlag().Value.Type() {
	case "uint64", "uint", "uint32":
		want = "a whole number, 0 or more"
	case "int", "int64", "int32":
		want = "a whole number"
	case "float64", "float32":
		want = "a number"
	case "duration":
		want = "a duration such as 90s, 5m or 1h30m"
	case "bool":
		want = "true or false"
	}
	if strings.Contains(iv.Unwrap().Error(), "out of range") {
		want += " within range"
	}
	return flagError{fmt.Errorf("--%s %q: want %s", iv.GetFlag().Name, iv.GetValue(), want)}
}

// The expressions are compiled on the first error, not at start-up, which
// every command pays for.
var (
	flagGroupErr = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^if any flags in the group \[([^\]]*)\] are set none of the others can be; \[([^\]]*)\] were all set$`)
	})
	requiredErr = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^required flag\(s\) (.*) not set$`) })
)

// friendlyCobraError rewrites cobra's own messages about flag groups and
// required flags.
func friendlyCobraError(err error) error {
	msg := err.Error()
	if m := flagGroupErr().FindStringSubmatch(msg); m != nil {
		return flagError{fmt.Errorf("%s cannot be given together; give one", dashed(strings.Fields(m[2])))}
	}
	if m := requiredErr().FindStringSubmatch(msg); m != nil {
		names := strings.Split(strings.ReplaceAll(m[1], `"`, ""), ", ")
		if len(names) == 1 {
			return flagError{fmt.Errorf("--%s is required", names[0])}
		}
		return flagError{fmt.Errorf("%s are required", dashed(names))}
	}
	return err
}

// dashed joins flag names as "--a and --b" or "--a, --b and --c".
func dashed(names []string) string {
	for i, n := range names {
		names[i] = "--" + n
	}
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// friendlyArgs wraps each command's argument check so that its errors name
// the command and its usage instead of cobra's "accepts 1 arg(s)", and so
// that a scenario file given as an argument suggests -f.
func friendlyArgs(cmd *cobra.Command) {
	for _, c := range cmd.Commands() {
		friendlyArgs(c)
	}
	check := cmd.Args
	cmd.Args = func(c *cobra.Command, args []string) error {
		var err error
		switch {
		case check != nil:
			err = check(c, args)
		case c.HasSubCommands() && len(args) > 0:
			err = errors.New("unknown command")
		}
		if err == nil {
			return nil
		}
		name := strings.TrimPrefix(c.CommandPath(), "wormlab ")
		if c.HasSubCommands() && len(args) > 0 {
			var subs []string
			for _, s := range c.Commands() {
				if s.IsAvailableCommand() {
					subs = append(subs, s.Name())
				}
			}
			return flagError{fmt.Errorf("%s: unknown command %q; want one of %s", name, args[0], strings.Join(subs, ", "))}
		}
		if len(args) > 0 && strings.HasSuffix(args[0], ".toml") && c.Flags().Lookup("file") != nil {
			return flagError{fmt.Errorf("%s takes no arguments; to run the scenario file %s, give -f %s", name, args[0], args[0])}
		}
		if strings.Contains(err.Error(), "unknown command") && len(args) > 0 {
			return flagError{fmt.Errorf("%s takes no arguments, got %q (usage: %s)", name, args[0], c.UseLine())}
		}
		return flagError{fmt.Errorf("%s: got %s (usage: %s)", name, plural(len(args), "argument"), c.UseLine())}
	}
}

// oldFlagNames are flag spellings from before every flag was lower-case;
// they still work and are not shown.
var oldFlagNames = map[string]string{"K": "k", "N": "n", "T": "t", "I0": "i0", "muN": "mu-n"}

// normalizeFlag maps an old spelling to today's flag name.
func normalizeFlag(_ *pflag.FlagSet, name string) pflag.NormalizedName {
	if n, ok := oldFlagNames[name]; ok {
		return pflag.NormalizedName(n)
	}
	return pflag.NormalizedName(name)
}

// roundDefaults makes --help print float defaults to four significant
// digits (0.1125, not 0.11252705007791519); the values themselves keep
// every digit.
func roundDefaults(cmd *cobra.Command) {
	for _, c := range cmd.Commands() {
		roundDefaults(c)
	}
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Value.Type() != "float64" {
			return
		}
		v, err := strconv.ParseFloat(f.DefValue, 64)
		switch {
		case err != nil:
		case v == math.Trunc(v) && math.Abs(v) < 1e15:
			f.DefValue = strconv.FormatFloat(v, 'f', -1, 64) // 360000, not 3.6e+05
		default:
			f.DefValue = strconv.FormatFloat(v, 'g', 4, 64)
		}
	})
}

// plural returns "1 run", "2 runs", "0 runs", "1,000 runs".
func plural(n int, noun string) string { return plural64(int64(n), noun) }

func plural64(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return thousands(n) + " " + noun + "s"
}

// stoppable runs work, which only reads and computes, and returns its
// result, or the context's cause as soon as ctx is done: a read blocked on
// a terminal or a pipe cannot look at ctx itself. Work that writes outputs
// must not run here, since it would be left half done.
func stoppable[T any](ctx context.Context, work func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := work()
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, context.Cause(ctx)
	}
}

// plainMessage returns err's text with the Go library's own wording taken
// out: "open F: no such file or directory" becomes "F: no such file or
// directory", and strconv's "strconv.ParseFloat: parsing "x": invalid
// syntax" becomes ""x" is not a number".
func plainMessage(err error) string {
	msg := err.Error()
	var pe *fs.PathError
	if errors.As(err, &pe) {
		msg = strings.Replace(msg, pe.Error(), pe.Path+": "+pe.Err.Error(), 1)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		msg = strings.Replace(msg, se.Error(), fmt.Sprintf("not valid JSON (at byte %d)", se.Offset), 1)
	}
	var ne *strconv.NumError
	if errors.As(err, &ne) {
		what := "is not a number"
		if errors.Is(ne.Err, strconv.ErrRange) {
			what = "is out of range"
		}
		msg = strings.Replace(msg, ne.Error(), strconv.Quote(ne.Num)+" "+what, 1)
	}
	return msg
}

// errAlreadyReported is returned by a command that has printed its own
// errors (one per file): run exits 2 without another line.
var errAlreadyReported = errors.New("errors reported above")
