package xlsx

import (
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// shownAs is how the reader renders the numbers of a cell format.
type shownAs uint8

const (
	shownPlain   shownAs = iota // the stored number
	shownDate                   // a date, with its time of day when it has one
	shownTime                   // a time of day: hh:mm, h:mm:ss AM/PM, built-in 18-21, 45, 47
	shownElapsed                // elapsed hours: [h]:mm:ss, built-in 46
	shownLocale                 // a built-in East Asian date or time (27-36, 50-58)
	shownPattern                // through a number format that pads with zeros or adds text
)

// cellStyle is what the reader needs of one cellXfs entry.
type cellStyle struct {
	shown   shownAs
	pattern *numPattern // when shown is shownPattern
}

// styleOf classifies the number format of a cellXfs entry: its custom code
// when it has one, else the built-in id.
func styleOf(id int, code string, custom bool) cellStyle {
	if !custom {
		switch {
		case id >= 14 && id <= 17 || id == 22:
			return cellStyle{shown: shownDate}
		case id >= 18 && id <= 21 || id == 45 || id == 47:
			return cellStyle{shown: shownTime}
		case id == 46:
			return cellStyle{shown: shownElapsed}
		case id >= 27 && id <= 36 || id >= 50 && id <= 58:
			return cellStyle{shown: shownLocale}
		}
		return cellStyle{} // built-in number formats neither pad nor add text
	}
	if isDateFormat(code) {
		return cellStyle{shown: timeFormat(code)}
	}
	if p := parsePattern(code); p != nil {
		return cellStyle{shown: shownPattern, pattern: p}
	}
	return cellStyle{}
}

// timeFormat tells a date format code that shows only a time of day (h or s,
// no d or y) or elapsed time ([h], [m], [s]) from one that shows a date.
func timeFormat(code string) shownAs {
	hasDate, hasTime, elapsed := false, false, false
	for i := 0; i < len(code); i++ {
		switch c := code[i]; c {
		case ';':
			i = len(code) // the first section decides
		case '"':
			for i++; i < len(code) && code[i] != '"'; i++ {
			}
		case '[':
			j := i + 1
			for j < len(code) && code[j] != ']' {
				j++
			}
			if in := strings.ToLower(code[i+1 : min(j, len(code))]); in != "" && strings.Trim(in, "hms") == "" {
				elapsed, hasTime = true, true
			}
			i = j
		case '\\', '_', '*':
			i++
		case 'd', 'D', 'y', 'Y':
			hasDate = true
		case 'h', 'H', 's', 'S':
			hasTime = true
		}
	}
	switch {
	case hasDate || !hasTime:
		return shownDate
	case elapsed:
		return shownElapsed
	}
	return shownTime
}

// serialTime renders the time of day of a serial as HH:MM:SS (rounded to
// the second), as a time-only format shows it whatever the day.
func serialTime(serial float64) (string, bool) {
	if math.IsNaN(serial) || serial < 0 || serial > 3e6 {
		return "", false
	}
	secs := int64(math.Round(serial*86400)) % 86400
	return clock(secs), true
}

// serialElapsed renders a serial as elapsed hours, H:MM:SS: 1.75 is 42:00:00.
func serialElapsed(serial float64) (string, bool) {
	if math.IsNaN(serial) || math.Abs(serial) > 3e6 {
		return "", false
	}
	secs := int64(math.Round(math.Abs(serial) * 86400))
	s := strconv.FormatInt(secs/3600, 10) + clock(secs % 3600)[2:]
	if serial < 0 && secs > 0 {
		s = "-" + s
	}
	return s, true
}

// clock renders secs (under a day) as HH:MM:SS.
func clock(secs int64) string {
	b := make([]byte, 0, 8)
	for i, n := range []int64{secs / 3600, secs / 60 % 60, secs % 60} {
		if i > 0 {
			b = append(b, ':')
		}
		b = append(b, byte('0'+n/10), byte('0'+n%10))
	}
	return string(b)
}

// numPattern is a custom number format that changes the text of a number
// beyond its digits: it pads the integer part with zeros (000000000000 shows
// 123 as 000000000123) or adds text ("pci"000 shows 4 as pci004). Only such
// formats are applied; others (0.00, #,##0, currency) leave the stored
// number, which is what the user typed.
type numPattern struct {
	code     string
	sections []numSection
}

// numSection is one ;-separated section of a number format.
type numSection struct {
	parts    []numPart
	intPH    int  // integer digit placeholders
	minInt   int  // of which 0s
	fracPH   int  // fraction digit placeholders
	grouping bool // a comma between integer placeholders
	split    bool // literal text between integer placeholders (0000-0000)
	changes  bool // pads the integer part or adds text with letters or digits
	odd      string
}

// numPart is a literal text, a digit placeholder (0 # ?), the decimal point
// or the General keyword.
type numPart struct {
	lit  string
	ph   byte // '0', '#', '?', '.', 'G'; 0 for a literal
	frac bool
}

// parsePattern parses a custom number format code, and returns nil when no
// section changes the text of a number.
func parsePattern(code string) *numPattern {
	p := &numPattern{code: code}
	changes := false
	for _, sec := range splitSections(code) {
		s := parseSection(sec)
		changes = changes || s.changes
		p.sections = append(p.sections, s)
		if len(p.sections) == 3 {
			break // the fourth section is for text
		}
	}
	if !changes {
		return nil
	}
	return p
}

// splitSections splits a format code at the semicolons that are not quoted,
// escaped or in brackets.
func splitSections(code string) []string {
	var out []string
	start := 0
	for i := 0; i < len(code); i++ {
		switch code[i] {
		case '"':
			for i++; i < len(code) && code[i] != '"'; i++ {
			}
		case '[':
			for i++; i < len(code) && code[i] != ']'; i++ {
			}
		case '\\', '_', '*':
			i++
		case ';':
			out = append(out, code[start:i])
			start = i + 1
		}
	}
	return append(out, code[start:])
}

// parseSection reads one section; what it cannot render is kept in odd.
func parseSection(sec string) numSection {
	var p sectionParser
	for i := 0; i < len(sec); i++ {
		if end, ok := p.literal(sec, i); ok {
			i = end
			continue
		}
		i = p.symbol(sec, i)
	}
	if len(p.odds) > 0 {
		p.s.odd = p.odds[0]
	}
	p.s.split = p.s.literalInInteger()
	hasText := strings.IndexFunc(p.text.String(), func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) >= 0
	p.s.changes = p.s.minInt >= 2 || hasText
	return p.s
}

// sectionParser is what parseSection has read of a section so far.
type sectionParser struct {
	s    numSection
	text strings.Builder // literal text, for changes
	odds []string        // what cannot be rendered, in order
	frac bool            // past the decimal point
}

// addLit appends literal text to the section; counts says it is text the
// user reads (quoted or escaped), not spacing or a currency symbol.
func (p *sectionParser) addLit(lit string, counts bool) {
	if n := len(p.s.parts); n > 0 && p.s.parts[n-1].ph == 0 {
		p.s.parts[n-1].lit += lit
	} else {
		p.s.parts = append(p.s.parts, numPart{lit: lit})
	}
	if counts {
		p.text.WriteString(lit)
	}
}

// literal reads the quoted text, escape, spacing, fill or [bracket] that
// starts at sec[i], if one does, and returns the index of its last byte.
func (p *sectionParser) literal(sec string, i int) (end int, ok bool) {
	switch c := sec[i]; {
	case c == '"':
		j := strings.IndexByte(sec[i+1:], '"')
		if j < 0 {
			j = len(sec) - i - 1
		}
		p.addLit(sec[i+1:i+1+j], true)
		return i + j + 1, true
	case c == '\\' && i+1 < len(sec):
		_, n := utf8.DecodeRuneInString(sec[i+1:])
		p.addLit(sec[i+1:i+1+n], true)
		return i + n, true
	case c == '_' && i+1 < len(sec):
		_, n := utf8.DecodeRuneInString(sec[i+1:])
		p.addLit(" ", false) // the width of the next character
		return i + n, true
	case c == '*' && i+1 < len(sec):
		_, n := utf8.DecodeRuneInString(sec[i+1:]) // fill to the column's width
		return i + n, true
	case c == '[':
		j := strings.IndexByte(sec[i:], ']')
		if j < 0 {
			j = len(sec) - i
		}
		in := sec[i+1 : min(i+j, len(sec))]
		switch {
		case strings.HasPrefix(in, "$"): // [$€-407], [$-409]: a currency and a locale
			cur, _, _ := strings.Cut(in[1:], "-")
			p.addLit(cur, false)
		case strings.ContainsAny(in, "<>="):
			p.odds = append(p.odds, "["+in+"]") // a condition
		}
		return i + j, true // colours change nothing
	}
	return i, false
}

// symbol reads the placeholder, point, comma, keyword or character at
// sec[i] and returns the index of its last byte.
func (p *sectionParser) symbol(sec string, i int) int {
	s := &p.s
	switch c := sec[i]; {
	case c == '0' || c == '#' || c == '?':
		if p.frac {
			s.fracPH++
		} else {
			s.intPH++
			if c == '0' {
				s.minInt++
			}
		}
		s.parts = append(s.parts, numPart{ph: c, frac: p.frac})
	case c == '.':
		if p.frac {
			p.odds = append(p.odds, ".")
		}
		p.frac = true
		s.parts = append(s.parts, numPart{ph: '.'})
	case c == ',':
		if !p.frac && s.intPH > 0 && i+1 < len(sec) && (sec[i+1] == '0' || sec[i+1] == '#' || sec[i+1] == '?') {
			s.grouping = true
		} else if s.intPH > 0 || s.fracPH > 0 {
			p.odds = append(p.odds, ",") // scaling by a thousand
		} else {
			p.addLit(",", false)
		}
	case c == '%' || c == '@' || c == '/' || c == 'E' || c == 'e':
		p.odds = append(p.odds, string(c))
	case strings.EqualFold(sec[i:min(i+len("general"), len(sec))], "general"):
		s.parts = append(s.parts, numPart{ph: 'G'})
		return i + len("general") - 1
	case strings.IndexByte("$-+():!^&'~{}<>= ", c) >= 0:
		p.addLit(string(c), false)
	default:
		r, n := utf8.DecodeRuneInString(sec[i:])
		if unicode.Is(unicode.Sc, r) { // currency symbols are shown as they are
			p.addLit(sec[i:i+n], false)
		} else {
			p.odds = append(p.odds, sec[i:i+n])
			p.text.WriteString(sec[i : i+n]) // unquoted text is text all the same
		}
		return i + n - 1
	}
	return i
}

// literalInInteger reports whether literal text stands between two
// integer placeholders (0000-0000).
func (s *numSection) literalInInteger() bool {
	first, last := -1, -1
	for i, p := range s.parts {
		if p.ph == '.' {
			break
		}
		if p.ph == '0' || p.ph == '#' || p.ph == '?' {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	for i := first + 1; i < last; i++ {
		if s.parts[i].ph == 0 {
			return true
		}
	}
	return false
}

// render returns the text Excel shows for raw, a numeric cell value, through
// the pattern. changes is false when the section for the value neither pads
// nor adds text: the stored number is then the value. odd names what
// crmbatch cannot render (a condition, %, E+, a fraction, a scaling comma).
func (p *numPattern) render(raw string) (text string, changes bool, odd string) {
	v, err := strconv.ParseFloat(raw, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return "", false, ""
	}
	sec, minus := p.sections[0], v < 0
	switch {
	case v < 0 && len(p.sections) >= 2:
		sec, minus = p.sections[1], false
	case v == 0 && len(p.sections) >= 3:
		sec = p.sections[2]
	}
	if !sec.changes {
		return "", false, ""
	}
	for _, s := range p.sections {
		if strings.HasPrefix(s.odd, "[") {
			return "", true, s.odd
		}
	}
	if sec.odd != "" {
		return "", true, sec.odd
	}
	if sec.grouping && sec.split {
		return "", true, ","
	}
	return sec.format(math.Abs(v), minus), true, ""
}

// format writes abs (negative when minus) through the section's parts.
// Integer placeholders take the digits from the right, the first one all
// that are left; fraction placeholders take them from the left.
func (sec *numSection) format(abs float64, minus bool) string {
	intDigits, fracDigits := digitsOf(abs, sec.fracPH)
	if intDigits == "0" {
		intDigits = "" // #.00 shows .50; 0.00 pads it back to 0.50
	}
	if sec.grouping {
		intDigits = group(strings.Repeat("0", max(0, sec.minInt-len(intDigits))) + intDigits)
	}
	var b strings.Builder
	if minus {
		b.WriteByte('-')
	}
	left, k, f := intDigits, sec.intPH, 0
	for _, part := range sec.parts {
		switch {
		case part.ph == 0:
			b.WriteString(part.lit)
		case part.ph == 'G':
			b.WriteString(strconv.FormatFloat(abs, 'f', -1, 64))
		case part.ph == '.':
			b.WriteByte('.')
		case part.frac:
			b.WriteString(fracDigit(part.ph, fracDigits, f))
			f++
		case sec.grouping:
			if k == sec.intPH {
				b.WriteString(left)
				left = ""
			}
			k--
		default:
			k--
			var take string
			switch {
			case k == 0:
				take, left = left, ""
			case len(left) > k:
				take, left = left[:len(left)-k], left[len(left)-k:]
			}
			b.WriteString(intDigit(part.ph, take))
		}
	}
	return b.String()
}

// fracDigit is what the fraction placeholder ph shows as the f-th decimal of
// digits: the digit while one that is not a trailing zero is left, else 0
// for 0, a space for ?, nothing for #.
func fracDigit(ph byte, digits string, f int) string {
	switch {
	case f < len(digits) && !trailingZeros(digits[f:]):
		return digits[f : f+1]
	case ph == '0':
		return "0"
	case ph == '?':
		return " "
	}
	return ""
}

// intDigit is what the integer placeholder ph shows of the digits it takes:
// them, else 0 for 0, a space for ?, nothing for #.
func intDigit(ph byte, take string) string {
	switch {
	case take != "":
		return take
	case ph == '0':
		return "0"
	case ph == '?':
		return " "
	}
	return ""
}

// digitsOf renders abs with n decimals as its integer and fraction digits,
// with at most the 15 significant digits Excel shows.
func digitsOf(abs float64, n int) (string, string) {
	if abs >= 1e15 {
		e := strconv.FormatFloat(abs, 'e', 14, 64) // d.dddddddddddddde+XX
		mant, exp, _ := strings.Cut(e, "e+")
		digits := strings.Replace(mant, ".", "", 1)
		x, _ := strconv.Atoi(exp)
		return digits + strings.Repeat("0", x+1-len(digits)), strings.Repeat("0", n)
	}
	s := strconv.FormatFloat(abs, 'f', n, 64)
	i, f, _ := strings.Cut(s, ".")
	return i, f
}

// trailingZeros reports whether s is all zeros: digits # and ? do not show.
func trailingZeros(s string) bool { return strings.Trim(s, "0") == "" }

// group inserts a comma between every three digits from the right.
func group(digits string) string {
	if len(digits) <= 3 {
		return digits
	}
	var b strings.Builder
	head := len(digits) % 3
	if head > 0 {
		b.WriteString(digits[:head])
	}
	for i := head; i < len(digits); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(digits[i : i+3])
	}
	return b.String()
}
