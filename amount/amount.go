// Package amount reads the amounts of a charges sheet the one way crmbatch
// totals them: a number cell is its number, and a text is read by rules that
// never guess. A finance team reconciles from those totals, so an amount that
// could be read two ways ("1,234": one thousand two hundred thirty-four, or
// one point two three four) is refused as ambiguous rather than summed either
// way; the decimal mark that resolves it comes from the file's other amounts
// (Evidence) or from the user (--decimal-mark).
//
// Decimals per currency are ISO 4217's minor units as golang.org/x/text/currency
// knows them (JPY 0, USD 2, BHD 3).
package amount

import (
	"errors"
	"fmt"
	"math/big"
	"strings"

	"golang.org/x/text/currency"
)

// Mark is a decimal mark: ',' or '.', or Unknown.
type Mark byte

// Decimal marks.
const (
	Unknown Mark = 0
	Comma   Mark = ','
	Point   Mark = '.'
)

// ParseMark reads the value of --decimal-mark: "," or ".", or "" for none.
func ParseMark(s string) (Mark, error) {
	switch strings.TrimSpace(s) {
	case "":
		return Unknown, nil
	case ",":
		return Comma, nil
	case ".":
		return Point, nil
	}
	return Unknown, fmt.Errorf("decimal mark %q: give \",\" or \".\"", s)
}

// String is the mark as typed: "," or ".", or "" when Unknown.
func (m Mark) String() string {
	if m == Unknown {
		return ""
	}
	return string(rune(m))
}

// ErrAmbiguous is the error of a text that reads two ways: "1,234" or
// "1.234" in a file whose other amounts do not say which mark is the
// decimal one.
var ErrAmbiguous = errors.New("ambiguous amount")

// ErrNotAmount is the error of a text that is no amount: letters, a
// misplaced separator, groups that are not of three digits.
var ErrNotAmount = errors.New("not an amount")

// Decimals is how many decimals the amounts of an ISO 4217 currency have
// (its minor units): 0 for JPY, 2 for USD, 3 for BHD; 2 for a code that is
// not a currency, or none.
func Decimals(code string) int {
	u, err := currency.ParseISO(strings.TrimSpace(code))
	if err != nil {
		return 2
	}
	scale, _ := currency.Standard.Rounding(u)
	return scale
}

// Format shows r with the currency's decimals, rounded half away from zero
// (as big.Rat.FloatString does): 5.99, 1234, 0.125.
func Format(r *big.Rat, code string) string {
	return r.FloatString(Decimals(code))
}

// Number reads the text of a number cell: a plain decimal, as a spreadsheet
// stores it (-12.5, 1E-3). It is exactly the cell's number.
func Number(s string) (*big.Rat, error) {
	if s == "" || strings.Trim(s, "0123456789.+-eE") != "" || strings.Count(s, ".") > 1 {
		return nil, fmt.Errorf("%w: %q is not a plain number", ErrNotAmount, s)
	}
	digits := strings.TrimLeft(s, "+-")
	if digits == "" || digits[0] < '0' || digits[0] > '9' && digits[0] != '.' {
		return nil, fmt.Errorf("%w: %q is not a plain number", ErrNotAmount, s)
	}
	if i := strings.IndexAny(digits, "eE"); i >= 0 && (i == 0 || strings.ContainsAny(digits[i+1:], "eE.")) {
		return nil, fmt.Errorf("%w: %q is not a plain number", ErrNotAmount, s)
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return nil, fmt.Errorf("%w: %q is not a plain number", ErrNotAmount, s)
	}
	return r, nil
}

// Text reads an amount typed as text: an optional sign, digits, and
// separators. A space (also no-break, narrow no-break or thin) or an
// apostrophe always groups; "," and "." are the decimal mark or group, told
// apart by the text itself (both present: the last one is the decimal mark;
// one repeated: it groups; one followed by other than three digits: it is
// the decimal mark), else by mark. Groups are of three digits after a first
// of one to three. A text that reads two ways with mark Unknown is
// ErrAmbiguous.
func Text(s string, mark Mark) (*big.Rat, error) {
	t, err := scan(s)
	if err != nil {
		return nil, err
	}
	dec, err := t.decimal(mark)
	if err != nil {
		return nil, err
	}
	return t.value(s, dec)
}

// Read reads a cell of an amount column: a number cell (number) as its
// number, a text by Text's rules.
func Read(s string, number bool, mark Mark) (*big.Rat, error) {
	if number {
		return Number(s)
	}
	return Text(s, mark)
}

// token is a text amount cut into digit runs and the separators between them.
type token struct {
	neg    bool
	runs   []string // digit runs
	seps   []rune   // seps[i] is between runs[i] and runs[i+1]
	lead   rune     // a separator before the first run (".5"), or 0
	commas int
	points int
}

func isGroupSpace(r rune) bool {
	return r == ' ' || r == '\u00A0' || r == '\u202F' || r == '\u2009' || r == '\''
}

func scan(s string) (*token, error) {
	orig := s
	s = strings.TrimFunc(s, func(r rune) bool { return r == ' ' || r == '\t' || r == '\u00A0' || r == '\u202F' || r == '\u2009' })
	t := &token{}
	if s != "" && (s[0] == '-' || s[0] == '+') {
		t.neg = s[0] == '-'
		s = s[1:]
	}
	var run strings.Builder
	var pending rune // the separator after the last run
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			if pending != 0 {
				t.seps = append(t.seps, pending)
				pending = 0
			}
			run.WriteRune(r)
			continue
		case r == ',' || r == '.' || isGroupSpace(r):
		default:
			return nil, fmt.Errorf("%w: %q holds %q", ErrNotAmount, orig, r)
		}
		switch {
		case pending != 0:
			return nil, fmt.Errorf("%w: %q has two separators in a row", ErrNotAmount, orig)
		case run.Len() == 0 && len(t.runs) == 0:
			if t.lead != 0 || isGroupSpace(r) {
				return nil, fmt.Errorf("%w: %q starts with a separator", ErrNotAmount, orig)
			}
			t.lead = r // ".5"
		default:
			t.runs = append(t.runs, run.String())
			run.Reset()
			pending = r
		}
		if r == ',' {
			t.commas++
		} else if r == '.' {
			t.points++
		}
	}
	if pending != 0 || run.Len() == 0 {
		return nil, fmt.Errorf("%w: %q does not end with a digit", ErrNotAmount, orig)
	}
	t.runs = append(t.runs, run.String())
	if t.lead != 0 && len(t.runs) > 1 {
		return nil, fmt.Errorf("%w: %q", ErrNotAmount, orig)
	}
	return t, nil
}

// decimal returns which of , and . is the decimal mark of t (Unknown: t has
// no decimal part, or none can be told: then an error).
func (t *token) decimal(mark Mark) (Mark, error) {
	if t.lead != 0 {
		if mark != Unknown && Mark(t.lead) != mark {
			return Unknown, fmt.Errorf("%w: it starts with %q, and the decimal mark is %q", ErrNotAmount, t.lead, mark.String())
		}
		return Mark(t.lead), nil // ".5": a group never comes first
	}
	if mark != Unknown {
		return mark, nil
	}
	switch {
	case t.commas > 0 && t.points > 0:
		// The last of them is the decimal mark.
		for i := len(t.seps) - 1; i >= 0; i-- {
			if t.seps[i] == ',' || t.seps[i] == '.' {
				return Mark(t.seps[i]), nil
			}
		}
	case t.commas+t.points == 0:
		return Unknown, nil
	case t.commas > 1:
		return Point, nil // 1,234,567: the comma groups
	case t.points > 1:
		return Comma, nil
	}
	m := Comma
	if t.points == 1 {
		m = Point
	}
	// One mark: after it, anything but three digits is decimals.
	at := 0
	for i, sp := range t.seps {
		if sp == rune(m) {
			at = i
		}
	}
	if len(t.runs[at+1]) != 3 {
		return m, nil
	}
	// Three digits after it: groups only when what is before it can be the
	// start of grouped digits (1 to 3 digits, not starting with 0, no other
	// grouping).
	before := t.runs[:at+1]
	if len(before) > 1 || len(before[0]) > 3 || before[0][0] == '0' || at+2 < len(t.runs) {
		return m, nil
	}
	return Unknown, ErrAmbiguous
}

// value assembles the number, checking the groups: dec (Unknown: none) is
// the decimal mark, every other separator groups.
func (t *token) value(orig string, dec Mark) (*big.Rat, error) {
	var b strings.Builder
	if t.neg {
		b.WriteByte('-')
	}
	if t.lead != 0 {
		if rune(dec) != t.lead || len(t.runs) != 1 {
			return nil, fmt.Errorf("%w: %q", ErrNotAmount, orig)
		}
		b.WriteString("0." + t.runs[0])
		r, _ := new(big.Rat).SetString(b.String())
		return r, nil
	}
	// The integer part: runs up to the decimal mark, which must be the last
	// separator and come once.
	intRuns := t.runs
	frac := ""
	if dec != Unknown {
		for i, sp := range t.seps {
			if sp == rune(dec) {
				if i != len(t.seps)-1 {
					return nil, fmt.Errorf("%w: %q has digits grouped after its decimal mark %q", ErrNotAmount, orig, dec.String())
				}
				intRuns, frac = t.runs[:i+1], t.runs[i+1]
			}
		}
	}
	var group rune
	for i := range len(intRuns) - 1 {
		sp := t.seps[i]
		if sp == rune(dec) {
			continue
		}
		if group != 0 && sp != group && !(isGroupSpace(sp) && isGroupSpace(group) && sp != '\'' && group != '\'') {
			return nil, fmt.Errorf("%w: %q groups its digits two ways", ErrNotAmount, orig)
		}
		group = sp
	}
	if len(intRuns) > 1 {
		if n := len(intRuns[0]); n < 1 || n > 3 {
			return nil, fmt.Errorf("%w: %q: digits are grouped by three", ErrNotAmount, orig)
		}
		for _, r := range intRuns[1:] {
			if len(r) != 3 {
				return nil, fmt.Errorf("%w: %q: digits are grouped by three", ErrNotAmount, orig)
			}
		}
	}
	b.WriteString(strings.Join(intRuns, ""))
	if frac != "" {
		b.WriteString("." + frac)
	}
	r, ok := new(big.Rat).SetString(b.String())
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrNotAmount, orig)
	}
	return r, nil
}

// Evidence gathers what a file's text amounts say about its decimal mark:
// those that read one way only (5,99; 1,234.50; 1.234.567) tell it.
type Evidence struct {
	comma, point int
}

// See notes what the text s says.
func (e *Evidence) See(s string) {
	t, err := scan(s)
	if err != nil {
		return
	}
	switch m, err := t.decimal(Unknown); {
	case err != nil:
	case m == Comma:
		e.comma++
	case m == Point:
		e.point++
	}
}

// Mark is the decimal mark the file's amounts agree on, or Unknown when they
// say nothing or disagree.
func (e Evidence) Mark() Mark {
	switch {
	case e.comma > 0 && e.point == 0:
		return Comma
	case e.point > 0 && e.comma == 0:
		return Point
	}
	return Unknown
}
