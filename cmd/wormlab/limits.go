package main

// Limits: values that would exhaust the machine are refused with the
// estimate, and zero values that a library reads as "the default" are
// refused on the command line, where a user who types 0 means something
// else.

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wormlab/wormlab/internal/ensemble"
	"github.com/wormlab/wormlab/internal/scenario"
	"github.com/wormlab/wormlab/internal/signature"
)

// positiveKey annotates a numeric flag that must be above zero when given;
// its value is what the flag wants, for the message.
const positiveKey = "wormlab_positive"

// mustBePositive marks flags whose zero (or negative) value is refused;
// want says what they take, as in "--bin 0: want WANT".
func mustBePositive(f *pflag.FlagSet, name, want string) {
	f.SetAnnotation(name, positiveKey, []string{want})
}

// checkPositive refuses a given flag marked by mustBePositive whose value
// is zero or negative.
func checkPositive(cmd *cobra.Command) error {
	var bad error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		want, ok := f.Annotations[positiveKey]
		if !ok || !f.Changed || bad != nil {
			return
		}
		v := f.Value.String()
		if d, err := time.ParseDuration(v); err == nil && d <= 0 {
			bad = fmt.Errorf("--%s %s: want %s", f.Name, v, want[0])
		} else if x, err := strconv.ParseFloat(v, 64); err == nil && x <= 0 {
			bad = fmt.Errorf("--%s %s: want %s", f.Name, v, want[0])
		}
	})
	return bad
}

// memoryHeadroom is the share of the available memory an ensemble may plan
// to hold: the runs under way, the output's encoding and the rest of the
// machine need the remainder.
const memoryHeadroom = 0.7

// checkEnsembleMemory refuses an ensemble whose per-bin values would not
// fit in memory, before the first run, with the estimate and the largest
// count that fits.
func checkEnsembleMemory(s *scenario.Scenario, engine string, members int) error {
	avail, ok := availableMemory()
	if !ok {
		return nil
	}
	per := ensemble.BytesPerRun(s, engine)
	need := float64(per) * float64(members)
	budget := memoryHeadroom * float64(avail)
	if need <= budget {
		return nil
	}
	fit := int64(budget / float64(per))
	return fmt.Errorf("--runs: %s runs need about %s of memory for their bands (%s a run); at most %s fit here (%s available): run it in shards (--shard i/n, each under that) and 'wormlab merge' them, which streams",
		thousands(int64(members)), bytesIEC(need), bytesIEC(float64(per)), thousands(fit), bytesIEC(float64(avail)))
}

// shardSize is len(sh.Members(runs)) without making the list, which for
// a refused --runs would itself be too big.
func shardSize(sh ensemble.Shard, runs int) int {
	n := max(sh.Count, 1)
	if sh.Index >= runs {
		return 0
	}
	return (runs-sh.Index-1)/n + 1
}

// availableMemory returns the bytes this process may still use: the
// kernel's MemAvailable, or less when a cgroup (v2) limit is lower.
func availableMemory() (uint64, bool) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	var avail uint64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "MemAvailable:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0, false
			}
			avail = kb * 1024
		}
	}
	if avail == 0 {
		return 0, false
	}
	if b, err := os.ReadFile("/sys/fs/cgroup/memory.max"); err == nil {
		if max, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64); err == nil {
			if cur, err := os.ReadFile("/sys/fs/cgroup/memory.current"); err == nil {
				if used, err := strconv.ParseUint(strings.TrimSpace(string(cur)), 10, 64); err == nil && used < max {
					avail = min(avail, max-used)
				}
			}
		}
	}
	return avail, true
}

// bytesIEC formats a byte count as "53.5 GiB".
func bytesIEC(b float64) string {
	units := []string{"bytes", "KiB", "MiB", "GiB", "TiB", "PiB"}
	i := 0
	for b >= 1024 && i < len(units)-1 {
		b /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%.0f bytes", b)
	}
	return fmt.Sprintf("%.1f %s", b, units[i])
}

// checkActionFamilies refuses --actions naming a family that no signature
// in sigs has: a typo would otherwise leave that worm on the default
// action without a word.
func checkActionFamilies(families []string, sigs *signature.Set) error {
	known := map[string]bool{"*": true}
	var names []string
	for _, s := range sigs.Signatures() {
		if !known[s.Family] {
			known[s.Family] = true
			names = append(names, s.Family)
		}
	}
	slices.Sort(names)
	for _, f := range families {
		if !known[f] {
			return fmt.Errorf("--actions: unknown family %q; want one of %s, or * for every other", f, strings.Join(names, ", "))
		}
	}
	return nil
}

// checkListening refuses a load-test target where nothing listens, rather
// than reporting every request failed after the whole run.
func checkListening(flag, target string) error {
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		return nil // the load generator's own check names the problem
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), map[string]string{"https": "443"}[u.Scheme])
		if u.Scheme != "https" {
			host = net.JoinHostPort(u.Hostname(), "80")
		}
	}
	c, err := net.DialTimeout("tcp", host, 2*time.Second)
	if err != nil {
		var op *net.OpError
		reason := err.Error()
		if errors.As(err, &op) {
			reason = op.Err.Error()
			if se, ok := op.Err.(*os.SyscallError); ok {
				reason = se.Err.Error()
			}
		}
		return fmt.Errorf("%s %s: nothing answers at %s (%s)", flag, target, host, reason)
	}
	c.Close()
	return nil
}
