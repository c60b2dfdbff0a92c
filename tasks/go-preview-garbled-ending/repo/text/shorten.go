// Package text shortens strings for previews and notifications.
package text

import "strings"

const ellipsis = "…"

// Truncate shortens s to at most n characters, ending in "…" when something was cut.
func Truncate(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if len(s) <= n {
		return s
	}
	return s[:n-1] + ellipsis
}

// Excerpt is like Truncate but collapses whitespace and, where possible, cuts between words.
func Excerpt(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	short := Truncate(s, n)
	if short == s {
		return s
	}
	body := strings.TrimSuffix(short, ellipsis)
	if i := strings.LastIndex(body, " "); i > 0 {
		body = body[:i]
	}
	return strings.TrimRight(body, " ,.;:") + ellipsis
}
