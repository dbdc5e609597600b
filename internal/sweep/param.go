// Package sweep runs an ensemble at each point of a grid over one or two
// scenario keys and reduces every point to the quantiles of the figures
// people compare: the final infected share, the time to half and the
// peak infection rate (docs/DESIGN.md §8).
package sweep

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/wormlab/wormlab/internal/scenario"
)

// Param is one swept key and its values, in the order given. Values hold
// what the scenario's TOML holds for the key: float64, int64, bool,
// string (durations too) or time.Time; Labels are their text.
type Param struct {
	Arg    string // as given to ParseSet
	Key    string
	Values []any
	Labels []string
}

// kind is the form a key's values take.
type kind int

const (
	kindFloat kind = iota
	kindInt
	kindDuration
	kindString
	kindBool
	kindTime
)

var forms = map[kind]string{
	kindFloat:    "numbers (0.5,1,2 or a range lo..hi/n)",
	kindInt:      "whole numbers (1,10,100 or a range lo..hi/n)",
	kindDuration: `durations (10m,30m,1h or a range lo..hi/n such as 10m..4h/5)`,
	kindString:   "words (a,b,c)",
	kindBool:     "true,false",
	kindTime:     "UTC times (2001-07-19T10:00:00Z,...) or dates (2001-07-19,...)",
}

var (
	durationType = reflect.TypeFor[scenario.Duration]()
	timeType     = reflect.TypeFor[time.Time]()
)

// keyKind finds the dotted key among the scenario's TOML keys and returns
// the form of its values.
func keyKind(key string) (kind, error) {
	t := reflect.TypeFor[scenario.Scenario]()
	parts := strings.Split(key, ".")
	for i, part := range parts {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || t == durationType || t == timeType {
			return 0, fmt.Errorf("%s is not a table of the scenario: want a dotted key of the scenario file, such as defence.content_filter.reaction or worm.scan_rate", strings.Join(parts[:i], "."))
		}
		f, ok := fieldByTag(t, part)
		if !ok {
			return 0, fmt.Errorf("unknown scenario key: want a dotted key of the scenario file, such as defence.content_filter.reaction or worm.scan_rate")
		}
		t = f.Type
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == durationType:
		return kindDuration, nil
	case t == timeType:
		return kindTime, nil
	}
	switch t.Kind() {
	case reflect.Float64:
		return kindFloat, nil
	case reflect.Int, reflect.Uint64:
		return kindInt, nil
	case reflect.String:
		return kindString, nil
	case reflect.Bool:
		return kindBool, nil
	}
	if t.Kind() == reflect.Struct {
		return 0, fmt.Errorf("a table: want one of its keys, such as %s.<key>", key)
	}
	return 0, errors.New("a list: want a key that holds one value (a number, a duration, a word, true/false or a time)")
}

func fieldByTag(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		if tag, _, _ := strings.Cut(f.Tag.Get("toml"), ","); tag == name && tag != "-" {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// ParseSet parses a --set argument, "key=v1,v2,..." or "key=lo..hi/n"
// (n evenly spaced values from lo to hi, both included, n >= 2). The key
// must be a scenario key holding a number, a duration, a word, a boolean
// or a time; the values must have its form. Errors name the key and the
// form it wants.
func ParseSet(arg string) (Param, error) {
	key, list, ok := strings.Cut(arg, "=")
	if !ok || key == "" {
		return Param{}, fmt.Errorf("%q: want key=v1,v2,... or key=lo..hi/n, such as defence.content_filter.reaction=10m,30m,1h", arg)
	}
	k, err := keyKind(key)
	if err != nil {
		return Param{}, fmt.Errorf("%s: %w", key, err)
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%s: %s: want %s", key, fmt.Sprintf(format, args...), forms[k])
	}
	p := Param{Arg: arg, Key: key}
	if lo, rest, ok := strings.Cut(list, ".."); ok {
		hi, ns, ok := strings.Cut(rest, "/")
		n, err := strconv.Atoi(ns)
		switch {
		case !ok || err != nil:
			return Param{}, bad("range %q lacks its count /n", list)
		case k != kindFloat && k != kindInt && k != kindDuration:
			return Param{}, bad("a range of a key that is not a number or a duration")
		case n < 2 || n > 1000:
			return Param{}, bad("range %q: the count after / must be 2 to 1000", list)
		}
		vs, err := spread(k, lo, hi, n)
		if err != nil {
			return Param{}, bad("%v", err)
		}
		list = strings.Join(vs, ",")
	}
	if list == "" {
		return Param{}, bad("no values")
	}
	seen := map[string]bool{}
	for _, text := range strings.Split(list, ",") {
		v, label, err := parseValue(k, strings.TrimSpace(text))
		if err != nil {
			return Param{}, bad("%q", text)
		}
		if seen[label] {
			return Param{}, bad("%s twice", label)
		}
		seen[label] = true
		p.Values, p.Labels = append(p.Values, v), append(p.Labels, label)
	}
	return p, nil
}

// spread returns n evenly spaced values from lo to hi as text.
func spread(k kind, lo, hi string, n int) ([]string, error) {
	out := make([]string, n)
	switch k {
	case kindDuration:
		a, err1 := time.ParseDuration(lo)
		b, err2 := time.ParseDuration(hi)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("range %s..%s", lo, hi)
		}
		if a == b {
			return nil, fmt.Errorf("empty range %s..%s", lo, hi)
		}
		for i := range out {
			out[i] = (a + time.Duration(float64(b-a)*float64(i)/float64(n-1))).Round(time.Millisecond).String()
		}
	default:
		a, err1 := strconv.ParseFloat(lo, 64)
		b, err2 := strconv.ParseFloat(hi, 64)
		if err1 != nil || err2 != nil || math.IsInf(a, 0) || math.IsInf(b, 0) {
			return nil, fmt.Errorf("range %s..%s", lo, hi)
		}
		if a == b {
			return nil, fmt.Errorf("empty range %s..%s", lo, hi)
		}
		for i := range out {
			v := a + (b-a)*float64(i)/float64(n-1)
			if k == kindInt {
				if step := (b - a) / float64(n-1); step != math.Trunc(step) || a != math.Trunc(a) {
					return nil, fmt.Errorf("range %s..%s/%d does not fall on whole numbers", lo, hi, n)
				}
				out[i] = strconv.FormatInt(int64(v), 10)
			} else {
				out[i] = strconv.FormatFloat(v, 'g', 10, 64)
			}
		}
	}
	return out, nil
}

// parseValue returns text as the TOML value of a key of kind k, and its
// label.
func parseValue(k kind, text string) (any, string, error) {
	switch k {
	case kindFloat:
		v, err := strconv.ParseFloat(text, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, "", fmt.Errorf("not a number")
		}
		return v, strconv.FormatFloat(v, 'g', -1, 64), nil
	case kindInt:
		v, err := strconv.ParseInt(text, 10, 64)
		return v, strconv.FormatInt(v, 10), err
	case kindDuration:
		v, err := time.ParseDuration(text)
		return v.String(), shortDuration(v), err
	case kindBool:
		v, err := strconv.ParseBool(text)
		return v, strconv.FormatBool(v), err
	case kindTime:
		if v, err := time.Parse(time.RFC3339, text); err == nil {
			return v.UTC(), v.UTC().Format(time.RFC3339), nil
		}
		v, err := time.Parse(time.DateOnly, text)
		return v, text, err
	}
	if text == "" {
		return nil, "", fmt.Errorf("empty")
	}
	return text, text, nil
}

// shortDuration writes d as time.Duration does, without trailing zero
// units: "1h", "1h30m", "90s".
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
