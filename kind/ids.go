package kind

import (
	"github.com/crmbatch/crmbatch/formats"
)

// maxExactDigits is how many significant digits a spreadsheet keeps in a number cell.
const maxExactDigits = 15

// checkIdentifier rejects identifiers (ESNs, charge numbers, serial numbers) that
// a spreadsheet has visibly mangled: exponent notation, a ".0" suffix, or a number
// cell too long to have kept all its digits.
func checkIdentifier(v Row, col, s string) error {
	switch k := v.kind(col); {
	case exponentForm(s):
		return Invalid(col, "MANGLED_ID", "%q is in exponent notation: a spreadsheet turned the identifier into a number; format the column as text and export again", s)
	case decimalZero(s):
		return Invalid(col, "MANGLED_ID", "%q ends in a decimal zero: a spreadsheet turned the identifier into a number; format the column as text and export again", s)
	case k == formats.Date || k == formats.Bool:
		return Invalid(col, "MANGLED_ID", "%q is a %s cell: the spreadsheet took the identifier for a %s; format the column as text and enter it again", s, k, k)
	case k == formats.Number && significantDigits(s) > maxExactDigits:
		return Invalid(col, "MANGLED_ID", "%q is a number cell with more than %d significant digits: the spreadsheet has rounded it; format the column as text and enter it again", s, maxExactDigits)
	case len(s) > 64:
		return Invalid(col, "INVALID_VALUE", "identifier longer than 64 characters")
	case !identChars(s):
		return Invalid(col, "INVALID_VALUE", "%q has characters an identifier cannot have (letters, digits and . _ : / - only)", s)
	}
	return nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// exponentForm matches what a spreadsheet shows of a long number: 3.5E+14, 1E-5.
func exponentForm(s string) bool {
	i := 0
	if i >= len(s) || !isDigit(s[i]) {
		return false
	}
	i++
	if i < len(s) && s[i] == '.' {
		i++
		start := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		if i == start {
			return false
		}
	}
	if i >= len(s) || (s[i] != 'e' && s[i] != 'E') {
		return false
	}
	i++
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	start := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i > start && i == len(s)
}

// decimalZero matches digits followed by a point and zeros only: 12345.0.
func decimalZero(s string) bool {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i == 0 || i >= len(s) || s[i] != '.' {
		return false
	}
	i++
	start := i
	for i < len(s) && s[i] == '0' {
		i++
	}
	return i > start && i == len(s)
}

// identChars reports whether s is letters, digits and . _ : / - only.
func identChars(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', isDigit(c), c == '.', c == '_', c == ':', c == '/', c == '-':
		default:
			return false
		}
	}
	return true
}

// significantDigits counts the digits of a number cell's text from its
// first non-zero digit: the zeros a number format pads it with
// (0000000000012345) and the text it adds ("ESN"00000) are not the stored
// number's, which is what a spreadsheet keeps 15 digits of.
func significantDigits(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) && (n > 0 || s[i] != '0') {
			n++
		}
	}
	return n
}
