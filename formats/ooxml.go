package formats

import "github.com/crmbatch/crmbatch/formats/xlsx"

// The report writer keeps to the sheet limits the reader knows, and to the
// _xHHHH_ escapes it decodes.

// Excel's sheet limits.
const (
	maxSheetRows    = xlsx.MaxSheetRows
	maxSheetColumns = xlsx.MaxSheetColumns
)

// parseHex4 parses four hexadecimal digits.
func parseHex4(h []byte) (uint16, bool) {
	var n uint16
	for _, c := range h {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		n = n<<4 | uint16(c)
	}
	return n, true
}
