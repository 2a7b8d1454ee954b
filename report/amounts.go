package report

import (
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/crmbatch/crmbatch/amount"
	"github.com/crmbatch/crmbatch/formats"
)

// Codes of a charges row's amount.
const (
	// CodeAmbiguousAmount: a text amount that reads two ways ("1,234"); the
	// row is invalid, so that no total counts it either way.
	CodeAmbiguousAmount = "AMBIGUOUS_AMOUNT"
	// CodeAmountEdited: the amount differs from amount_raw, the amount as
	// exported. A warning: the server takes no amounts.
	CodeAmountEdited = "AMOUNT_EDITED"
	// CodeNotSent is the code of a row the run stopped before sending:
	// reported failed, counted apart as not_sent.
	CodeNotSent = "NOT_SENT"
)

// ExportDates are the date columns of a charges export: dates in an XLSX
// export, and in the reports of a job run from one.
var ExportDates = map[string]bool{"paid_through_date": true, "received_on": true, "set_as_approved_on": true,
	"set_as_declined_on": true, "set_as_bad_request_on": true, "set_as_rejected_request_on": true}

// Amounts are the amount columns of a charges sheet (-1: none) and the
// decimal mark their texts are read with: --decimal-mark, else what the
// file's other amounts say (Mark).
type Amounts struct {
	amount, exported, currency int
	local, localCurrency       int // local_currency_amount in local_currency
	// Mark is the decimal mark of text amounts (amount.Unknown: none known).
	Mark amount.Mark
}

// AmountColumns finds a sheet's amount columns in its header index
// (normalised name → column); nil without an amount column.
func AmountColumns(index map[string]int, mark amount.Mark) *Amounts {
	a, ok := index["amount"]
	if !ok {
		return nil
	}
	col := func(name string) int {
		if i, ok := index[name]; ok {
			return i
		}
		return -1
	}
	return &Amounts{amount: a, exported: col("amount_raw"), currency: col("currency"),
		local: col("local_currency_amount"), localCurrency: col("local_currency"), Mark: mark}
}

// See notes what a record's text amount says of the decimal mark.
func (c *Amounts) See(e *amount.Evidence, rec formats.Record) {
	a := c.amount
	if a < len(rec.Fields) && (a >= len(rec.Kinds) || rec.Kinds[a] == formats.Text) {
		e.See(rec.Fields[a])
	}
}

// read reads the amount of column col (nil, nil: empty).
func (c *Amounts) read(rec formats.Record, col int) (*big.Rat, error) {
	if col < 0 || col >= len(rec.Fields) || strings.TrimSpace(rec.Fields[col]) == "" {
		return nil, nil
	}
	number := col < len(rec.Kinds) && rec.Kinds[col] == formats.Number
	return amount.Read(rec.Fields[col], number, c.Mark)
}

// Ambiguous says why a record's amount reads two ways, naming its cell, or
// "" when it does not.
func (c *Amounts) Ambiguous(rec formats.Record) string {
	if _, err := c.read(rec, c.amount); !errors.Is(err, amount.ErrAmbiguous) {
		return ""
	}
	s := strings.TrimSpace(rec.Fields[c.amount])
	sep := ","
	if strings.Contains(s, ".") {
		sep = "."
	}
	where := ""
	if rec.Sheet != "" {
		where = "cell " + cellName(c.amount, rec.Row) + " "
	}
	asMark, _ := amount.Text(s, amount.Mark(sep[0]))
	other := amount.Point
	if sep == "." {
		other = amount.Comma
	}
	asGroup, _ := amount.Text(s, other)
	return fmt.Sprintf("%s%q reads as %s (%s the decimal mark) or as %s (%s grouping thousands), and the file's other amounts do not say which; "+
		"pass --decimal-mark , or --decimal-mark . to say how the file writes amounts, or type the amount as a number",
		where, s, PlainDecimal(asMark), sep, PlainDecimal(asGroup), sep)
}

// PlainDecimal writes r, a decimal, with exactly its digits: 1234.5, -3,
// 0.001. A spreadsheet reads it as the number.
func PlainDecimal(r *big.Rat) string {
	if r == nil {
		return ""
	}
	if r.IsInt() {
		return r.FloatString(0)
	}
	for n := 1; n < 40; n++ {
		s := r.FloatString(n)
		if back, ok := new(big.Rat).SetString(s); ok && back.Cmp(r) == 0 {
			return s
		}
	}
	return r.FloatString(40)
}

// cellName is a cell's A1 name: column col (from 0), row row.
func cellName(col, row int) string {
	letters := ""
	for col++; col > 0; col = (col - 1) / 26 {
		letters = string(rune('A'+(col-1)%26)) + letters
	}
	return letters + strconv.Itoa(row)
}

// currencyOf is a row's currency in column col, upper case ("" without one).
func currencyOf(rec formats.Record, col int) string {
	if col < 0 || col >= len(rec.Fields) {
		return ""
	}
	return strings.ToUpper(strings.TrimSpace(rec.Fields[col]))
}

// edited returns the row's amount and its amount as exported when they
// differ (in the currency's decimals), else nils.
func (c *Amounts) edited(rec formats.Record) (amt, exported *big.Rat) {
	if c.exported < 0 || c.exported >= len(rec.Fields) {
		return nil, nil
	}
	a, err := c.read(rec, c.amount)
	if err != nil || a == nil {
		return nil, nil
	}
	x, err := amount.Number(strings.TrimSpace(rec.Fields[c.exported]))
	if err != nil {
		return nil, nil
	}
	shown, _ := new(big.Rat).SetString(amount.Format(x, currencyOf(rec, c.currency)))
	if shown.Cmp(a) == 0 {
		return nil, nil
	}
	return a, x
}

// cell types a report row's amount cell: the amount and
// local_currency_amount as numbers in their currency's decimals (a text
// amount as the number it reads as). false: not an amount column, or a cell
// that does not read, which stays as written.
func (c *Amounts) cell(rec formats.Record, col int) (string, formats.CellKind, bool) {
	var cur int
	switch col {
	case c.amount:
		cur = c.currency
	case c.local:
		cur = c.localCurrency
	default:
		return "", 0, false
	}
	r, err := c.read(rec, col)
	if err != nil || r == nil {
		return "", 0, false
	}
	v := rec.Fields[col]
	if col >= len(rec.Kinds) || rec.Kinds[col] != formats.Number {
		v = PlainDecimal(r)
	}
	return v, formats.AmountKind(amount.Decimals(currencyOf(rec, cur))), true
}

// editedMessage is the AMOUNT_EDITED warning of a row.
func editedMessage(amt, exported *big.Rat, currency string) string {
	return fmt.Sprintf("amount %s, exported as %s (amount_raw): edited since the export; CRM.COM keeps its own amount, the Reconciliation sheet sums both",
		PlainDecimal(amt), amount.Format(exported, currency))
}
