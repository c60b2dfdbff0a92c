// Package version parses and orders semantic versions (MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]).
package version

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Version is a parsed semantic version; build metadata is dropped.
type Version struct {
	Major, Minor, Patch int
	Pre                 string // "beta.1" for 2.0.0-beta.1, empty for a release
}

// Parse reads "1.2.3", "v1.2.3", "1.2.3-rc.1" or "1.2.3+build.7".
func Parse(s string) (Version, error) {
	text := strings.TrimPrefix(strings.TrimSpace(s), "v")
	if i := strings.IndexByte(text, '+'); i >= 0 {
		text = text[:i]
	}
	core, pre, hasPre := strings.Cut(text, "-")
	if hasPre && pre == "" {
		return Version{}, fmt.Errorf("version %q: empty prerelease", s)
	}
	parts := strings.Split(core, ".")
	if len(parts) != 3 {
		return Version{}, fmt.Errorf("version %q: want MAJOR.MINOR.PATCH", s)
	}
	var nums [3]int
	for i, part := range parts {
		n, err := strconv.Atoi(part)
		if err != nil || n < 0 {
			return Version{}, fmt.Errorf("version %q: bad number %q", s, part)
		}
		nums[i] = n
	}
	return Version{Major: nums[0], Minor: nums[1], Patch: nums[2], Pre: pre}, nil
}

// MustParse is Parse for constants; it panics on bad input.
func MustParse(s string) Version {
	v, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return v
}

func (v Version) String() string {
	s := fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch)
	if v.Pre != "" {
		s += "-" + v.Pre
	}
	return s
}

// IsPrerelease reports whether v is a prerelease such as 2.0.0-beta.1.
func (v Version) IsPrerelease() bool { return v.Pre != "" }

// Compare returns -1, 0 or +1 as v is lower than, equal to or higher than w.
func Compare(v, w Version) int {
	for _, pair := range [][2]int{{v.Major, w.Major}, {v.Minor, w.Minor}, {v.Patch, w.Patch}} {
		if pair[0] != pair[1] {
			if pair[0] < pair[1] {
				return -1
			}
			return 1
		}
	}
	return 0
}

// Sort orders versions from lowest to highest.
func Sort(vs []Version) {
	sort.SliceStable(vs, func(i, j int) bool { return Compare(vs[i], vs[j]) < 0 })
}
