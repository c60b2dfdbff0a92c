// Package wordfreq counts words in plain text.
package wordfreq

import "strings"

const punctuation = ".,;:!?\"'()[]"

// Words splits text into lower-cased words with surrounding punctuation removed.
func Words(text string) []string {
	var words []string
	for _, line := range strings.Split(text, "\n") {
		for _, raw := range strings.Split(line, " ") {
			w := strings.ToLower(strings.Trim(raw, punctuation))
			if w != "" {
				words = append(words, w)
			}
		}
	}
	return words
}

// Count returns how many times each word occurs in text.
func Count(text string) map[string]int {
	counts := make(map[string]int)
	for _, w := range Words(text) {
		counts[w]++
	}
	return counts
}
