// Package constraint checks versions against ranges such as ">=1.2.0, <2.0.0", "^1.4.0" or "~1.4.2".
package constraint

import (
	"fmt"
	"strings"

	"example.com/depbot/version"
)

type term struct {
	op string
	v  version.Version
}

// Constraint is a list of terms that must all hold.
type Constraint struct {
	terms []term
}

// Parse reads comma-separated terms: =, >, >=, <, <= (no operator means =), ^ and ~.
func Parse(s string) (Constraint, error) {
	var c Constraint
	for _, raw := range strings.Split(s, ",") {
		text := strings.TrimSpace(raw)
		op := ""
		for _, candidate := range []string{">=", "<=", ">", "<", "=", "^", "~"} {
			if strings.HasPrefix(text, candidate) {
				op = candidate
				break
			}
		}
		v, err := version.Parse(strings.TrimSpace(text[len(op):]))
		if err != nil {
			return Constraint{}, fmt.Errorf("constraint %q: %w", s, err)
		}
		switch op {
		case "^":
			upper := version.Version{Major: v.Major + 1}
			if v.Major == 0 {
				upper = version.Version{Minor: v.Minor + 1}
			}
			c.terms = append(c.terms, term{">=", v}, term{"<", upper})
		case "~":
			c.terms = append(c.terms, term{">=", v}, term{"<", version.Version{Major: v.Major, Minor: v.Minor + 1}})
		case "":
			c.terms = append(c.terms, term{"=", v})
		default:
			c.terms = append(c.terms, term{op, v})
		}
	}
	return c, nil
}

// Allows reports whether v satisfies every term.
func (c Constraint) Allows(v version.Version) bool {
	for _, t := range c.terms {
		cmp := version.Compare(v, t.v)
		var ok bool
		switch t.op {
		case "=":
			ok = cmp == 0
		case ">":
			ok = cmp > 0
		case ">=":
			ok = cmp >= 0
		case "<":
			ok = cmp < 0
		case "<=":
			ok = cmp <= 0
		}
		if !ok {
			return false
		}
	}
	return true
}
