package batch

import (
	"regexp"

	"github.com/crmbatch/crmbatch/formats"
)

var (
	exponentForm = regexp.MustCompile(`^[0-9](\.[0-9]+)?[eE][+-]?[0-9]+$`)
	decimalZero  = regexp.MustCompile(`^[0-9]+\.0+$`)
	identChars   = regexp.MustCompile(`^[A-Za-z0-9._:/-]+$`)
)

// maxExactDigits is how many significant digits a spreadsheet keeps in a number cell.
const maxExactDigits = 15

// checkIdentifier rejects identifiers (ESNs, charge numbers, serial numbers) that
// a spreadsheet has visibly mangled: exponent notation, a ".0" suffix, or a number
// cell too long to have kept all its digits.
func checkIdentifier(v rowView, col, s string) error {
	switch {
	case exponentForm.MatchString(s):
		return invalid(col, "MANGLED_ID", "%q is in exponent notation: a spreadsheet turned the identifier into a number; format the column as text and export again", s)
	case decimalZero.MatchString(s):
		return invalid(col, "MANGLED_ID", "%q ends in a decimal zero: a spreadsheet turned the identifier into a number; format the column as text and export again", s)
	case v.kind(col) == formats.Number && digits(s) > maxExactDigits:
		return invalid(col, "MANGLED_ID", "%q is a number cell with more than %d digits: the spreadsheet has rounded it; format the column as text and enter it again", s, maxExactDigits)
	case len(s) > 64:
		return invalid(col, "INVALID_VALUE", "identifier longer than 64 characters")
	case !identChars.MatchString(s):
		return invalid(col, "INVALID_VALUE", "%q has characters an identifier cannot have (letters, digits and . _ : / - only)", s)
	}
	return nil
}

func digits(s string) int {
	n := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			n++
		}
	}
	return n
}
