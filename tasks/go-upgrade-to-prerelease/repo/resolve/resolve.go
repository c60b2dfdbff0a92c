// Package resolve picks upgrade candidates from the versions a registry lists.
package resolve

import (
	"errors"

	"example.com/depbot/constraint"
	"example.com/depbot/version"
)

// ErrNoMatch means no listed version satisfies the constraint.
var ErrNoMatch = errors.New("no version matches")

// Latest is the highest listed version allowed by the constraint. Unparsable tags are skipped.
func Latest(available []string, constraintText string) (string, error) {
	c, err := constraint.Parse(constraintText)
	if err != nil {
		return "", err
	}
	var best *version.Version
	for _, tag := range available {
		v, err := version.Parse(tag)
		if err != nil || !c.Allows(v) {
			continue
		}
		if best == nil || version.Compare(v, *best) > 0 {
			found := v
			best = &found
		}
	}
	if best == nil {
		return "", ErrNoMatch
	}
	return best.String(), nil
}

// Sorted returns the parsable tags as versions from lowest to highest, for changelogs.
func Sorted(available []string) []string {
	var vs []version.Version
	for _, tag := range available {
		if v, err := version.Parse(tag); err == nil {
			vs = append(vs, v)
		}
	}
	version.Sort(vs)
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.String()
	}
	return out
}
