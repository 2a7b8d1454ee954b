package xlsx

import (
	"math"
	"strconv"
	"time"
)

// isDateFormat reports whether a custom number format code shows a date or a
// time: it has d, m, y, h or s outside quoted text, [brackets] and escapes.
func isDateFormat(code string) bool {
	for i := 0; i < len(code); i++ {
		switch c := code[i]; c {
		case '"':
			for i++; i < len(code) && code[i] != '"'; i++ {
			}
		case '[':
			for i++; i < len(code) && code[i] != ']'; i++ {
			}
		case '\\', '_', '*':
			i++ // the next character is literal, padding or fill
		case 'd', 'D', 'm', 'M', 'y', 'Y', 'h', 'H', 's', 'S':
			return true
		}
	}
	return false
}

// Excel's day zero in each date system.
var (
	epoch1900 = time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)
	epoch1904 = time.Date(1904, 1, 1, 0, 0, 0, 0, time.UTC)
)

// serialDate renders an Excel date serial as YYYY-MM-DD, or
// YYYY-MM-DDTHH:MM:SS when it has a time of day (rounded to the second).
// ok is false for serials that are no date (negative, past 9999).
func serialDate(serial float64, date1904 bool) (string, bool) {
	if math.IsNaN(serial) || serial < 0 || serial > 3e6 {
		return "", false
	}
	secs := int64(math.Round(serial * 86400))
	days, rem := secs/86400, secs%86400
	var t time.Time
	switch {
	case date1904:
		t = epoch1904.AddDate(0, 0, int(days))
	case days == 60:
		// Lotus 1-2-3's 29 February 1900, which Excel keeps.
		return withClock("1900-02-29", rem), true
	case days >= 1 && days < 60:
		t = epoch1900.AddDate(0, 0, int(days)+1)
	default:
		t = epoch1900.AddDate(0, 0, int(days))
	}
	if t.Year() > 9999 {
		return "", false
	}
	return withClock(t.Format("2006-01-02"), rem), true
}

func withClock(day string, secs int64) string {
	if secs == 0 {
		return day
	}
	return day + time.Unix(secs, 0).UTC().Format("T15:04:05")
}

// isoDate renders an ISO 8601 cell value (t="d") like serialDate does.
func isoDate(s string) (string, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04", "2006-01-02", "15:04:05"} {
		t, err := time.Parse(layout, s)
		if err != nil {
			continue
		}
		t = t.Round(time.Second)
		if layout == "15:04:05" {
			return t.Format("15:04:05"), true
		}
		h, m, sec := t.Clock()
		return withClock(t.Format("2006-01-02"), int64(h*3600+m*60+sec)), true
	}
	return "", false
}

// plainNumber renders a numeric cell's raw value without an exponent. Digit
// strings are kept as they are (20-digit IDs written by other programs stay
// exact); other values go through float64, shortest round-trip form.
func plainNumber(raw []byte) (string, bool) {
	b, ok := appendPlainNumber(nil, raw)
	return string(b), ok
}

// appendPlainNumber appends what plainNumber returns to dst.
func appendPlainNumber(dst, raw []byte) ([]byte, bool) {
	digits := raw
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	if len(digits) > 0 && len(digits) < 400 {
		plain := true
		for _, c := range digits {
			if c < '0' || c > '9' {
				plain = false
				break
			}
		}
		if plain {
			return append(dst, raw...), true
		}
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return dst, false
	}
	return strconv.AppendFloat(dst, f, 'f', -1, 64), true
}
