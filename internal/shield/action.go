package shield

import (
	"fmt"
	"slices"
	"strings"
)

// Action is what the shield does with a request that matched a signature.
// The zero Action is Drop, the cheapest answer.
type Action uint8

const (
	// Drop closes the connection without sending a byte of response.
	Drop Action = iota
	// NotFound answers with a fixed, minimal 404 and closes the connection.
	NotFound
	// Tarpit holds the connection open, silent, for a bounded time and then
	// closes it; past the global cap on held connections it drops instead.
	Tarpit
	// LogOnly counts and logs the probe and passes it to the next handler.
	LogOnly
	numActions
)

var actionNames = [numActions]string{"drop", "404", "tarpit", "log-only"}

// String returns the action's name as ParseAction accepts it.
func (a Action) String() string {
	if a < numActions {
		return actionNames[a]
	}
	return fmt.Sprintf("Action(%d)", a)
}

// ParseAction parses one of drop, 404, tarpit or log-only.
func ParseAction(s string) (Action, error) {
	if i := slices.Index(actionNames[:], s); i >= 0 {
		return Action(i), nil
	}
	return 0, fmt.Errorf("unknown action %q (want one of %s)", s, strings.Join(actionNames[:], ", "))
}

// ParseActions parses a comma-separated list of family=action pairs, such
// as "codered2=tarpit,nimda=404,*=drop", into the map Options.Actions takes.
// The family "*" stands for every family not named.
func ParseActions(s string) (map[string]Action, error) {
	byFamily := map[string]Action{}
	if strings.TrimSpace(s) == "" {
		return byFamily, nil
	}
	for item := range strings.SplitSeq(s, ",") {
		fam, act, found := strings.Cut(strings.TrimSpace(item), "=")
		fam, act = strings.TrimSpace(fam), strings.TrimSpace(act)
		if !found || fam == "" {
			return nil, fmt.Errorf("action %q: want family=action", item)
		}
		a, err := ParseAction(act)
		if err != nil {
			return nil, fmt.Errorf("action %q: %w", item, err)
		}
		if _, dup := byFamily[fam]; dup {
			return nil, fmt.Errorf("action %q: family %q given twice", item, fam)
		}
		byFamily[fam] = a
	}
	return byFamily, nil
}
