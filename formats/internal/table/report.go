package table

// Kinds a report gives its cells, beyond those a reader finds in a file.
// In XLSX: an Integer cell holding a whole number is a number shown as it
// is (a row number, attempts); an amount kind (AmountKind) holding a plain
// decimal is a number shown with the currency's decimals and thousands
// separators; a Heading cell is bold text. A cell whose text is not such a
// number stays text, as written. CSV has no kinds.
const (
	Integer CellKind = 32 + iota
	Heading
	amountKinds // AmountKind(0); AmountKind(d) is amountKinds+d
)

// MaxAmountDecimals is the most decimals an amount kind shows (ISO 4217's
// CLF has 4).
const MaxAmountDecimals = 4

// AmountKind is the kind of an amount cell shown with decimals decimals (0
// to 4): 1,234 JPY, 1,234.56 USD, 1.234 BHD.
func AmountKind(decimals int) CellKind {
	return amountKinds + CellKind(min(max(decimals, 0), MaxAmountDecimals))
}

// AmountDecimals returns the decimals of an amount kind, or false.
func AmountDecimals(k CellKind) (int, bool) {
	if k >= amountKinds && k <= amountKinds+MaxAmountDecimals {
		return int(k - amountKinds), true
	}
	return 0, false
}
