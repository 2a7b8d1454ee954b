// Package termscreen replays what a program wrote to a terminal, for tests of
// what a person would see: a progress bar redrawn in place and log lines
// written above it.
package termscreen

import (
	"strings"
	"unicode/utf8"
)

// Screen is what a terminal shows after raw: the finished lines and the line
// the cursor is on. It knows what the bar writes: "\r", "\x1b[K" and "\n".
func Screen(raw string) (lines []string, current string) {
	var cur []rune
	col := 0
	for i := 0; i < len(raw); {
		switch {
		case strings.HasPrefix(raw[i:], "\x1b[K"):
			cur = cur[:col]
			i += 3
		case raw[i] == '\r':
			col = 0
			i++
		case raw[i] == '\n':
			lines = append(lines, string(cur))
			cur, col = nil, 0
			i++
		default:
			r, size := utf8.DecodeRuneInString(raw[i:])
			if col < len(cur) {
				cur[col] = r
			} else {
				cur = append(cur, r)
			}
			col++
			i += size
		}
	}
	return lines, string(cur)
}
