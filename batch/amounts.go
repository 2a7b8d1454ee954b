package batch

import (
	"errors"
	"fmt"
	"io"
	"math/big"
	"strconv"
	"strings"

	"github.com/crmbatch/crmbatch/amount"
	"github.com/crmbatch/crmbatch/formats"
)

// Codes of a charges row's amount.
const (
	// codeAmbiguousAmount: a text amount that reads two ways ("1,234"); the
	// row is invalid, so that no total counts it either way.
	codeAmbiguousAmount = "AMBIGUOUS_AMOUNT"
	// codeAmountEdited: the amount differs from amount_raw, the amount as
	// exported. A warning: the server takes no amounts.
	codeAmountEdited = "AMOUNT_EDITED"
)

// chargeAmounts are the amount columns of a charges job (-1: none) and the
// decimal mark their texts are read with: --decimal-mark, else what the
// file's other amounts say.
type chargeAmounts struct {
	amount, exported, currency, action int
	actionSet                          string // --action
	mark                               amount.Mark
	given                              bool // the mark is --decimal-mark's
	// local_currency_amount in local_currency, typed in the reports.
	local, localCurrency int
}

// newChargeAmounts finds a charges job's amount columns (nil: it has none)
// and, without a mark given, reads the file's amounts for the decimal mark
// the unambiguous ones agree on.
func newChargeAmounts(j *job, mark amount.Mark) (*chargeAmounts, error) {
	a, ok := j.index["amount"]
	if !ok || j.kind != Charges {
		return nil, nil
	}
	col := func(name string) int {
		if i, ok := j.index[name]; ok {
			return i
		}
		return -1
	}
	c := &chargeAmounts{amount: a, exported: col("amount_raw"), currency: col("currency"), action: col("action"),
		actionSet: j.overrides["action"], mark: mark, given: mark != amount.Unknown,
		local: col("local_currency_amount"), localCurrency: col("local_currency")}
	if c.given {
		return c, nil
	}
	rd, err := j.open(j.opts, false)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	var e amount.Evidence
	for {
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if a < len(rec.Fields) && (a >= len(rec.Kinds) || rec.Kinds[a] == formats.Text) {
			e.See(rec.Fields[a])
		}
	}
	c.mark = e.Mark()
	return c, nil
}

// read reads the amount of column col (nil, nil: empty).
func (c *chargeAmounts) read(rec formats.Record, col int) (*big.Rat, error) {
	if col < 0 || col >= len(rec.Fields) || strings.TrimSpace(rec.Fields[col]) == "" {
		return nil, nil
	}
	number := col < len(rec.Kinds) && rec.Kinds[col] == formats.Number
	return amount.Read(rec.Fields[col], number, c.mark)
}

// check makes a row whose amount reads two ways invalid, naming its cell.
func (c *chargeAmounts) check(rec formats.Record) error {
	_, err := c.read(rec, c.amount)
	if !errors.Is(err, amount.ErrAmbiguous) {
		return nil
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
	comma, _ := amount.Text(s, amount.Comma)
	point, _ := amount.Text(s, amount.Point)
	return invalid("amount", codeAmbiguousAmount,
		"%s%q reads as %s (%s the decimal mark) or as %s (%s grouping thousands), and the file's other amounts do not say which; "+
			"pass --decimal-mark , or --decimal-mark . to say how the file writes amounts, or type the amount as a number",
		where, s, plainDecimal(pick(sep == ",", comma, point)), sep, plainDecimal(pick(sep == ",", point, comma)), sep)
}

func pick(cond bool, a, b *big.Rat) *big.Rat {
	if cond {
		return a
	}
	return b
}

// plainDecimal writes r, a decimal, with exactly its digits: 1234.5, -3,
// 0.001. A spreadsheet reads it as the number.
func plainDecimal(r *big.Rat) string {
	if r == nil {
		return ""
	}
	for n := 0; n < 40; n++ {
		if s := r.FloatString(n); n == 0 && r.IsInt() {
			return s
		} else if back, ok := new(big.Rat).SetString(s); ok && back.Cmp(r) == 0 {
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

// currencyOf is a row's currency, upper case ("" without a column).
func (c *chargeAmounts) currencyOf(rec formats.Record, col int) string {
	if col < 0 || col >= len(rec.Fields) {
		return ""
	}
	return strings.ToUpper(strings.TrimSpace(rec.Fields[col]))
}

// actionOf is a row's action as the reconciliation counts it: the item's,
// else as written (an invalid row), else the default.
func (c *chargeAmounts) actionOf(rec formats.Record, item Item) string {
	switch {
	case item.Action != "":
		return item.Action
	case c.actionSet != "":
		return strings.ToLower(strings.TrimSpace(c.actionSet))
	case c.action >= 0 && c.action < len(rec.Fields) && strings.TrimSpace(rec.Fields[c.action]) != "":
		return strings.ToLower(strings.TrimSpace(rec.Fields[c.action]))
	}
	return ActionAcknowledge
}

// edited returns the row's amount and its amount as exported when they
// differ (in the currency's decimals), else nils.
func (c *chargeAmounts) edited(rec formats.Record) (amt, exported *big.Rat) {
	if c.exported < 0 {
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
	cur := c.currencyOf(rec, c.currency)
	shown, _ := new(big.Rat).SetString(amount.Format(x, cur))
	if shown.Cmp(a) == 0 {
		return nil, nil
	}
	return a, x
}

// cells types a report row's amount cells: the amount and
// local_currency_amount as numbers in their currency's decimals (a text
// amount as the number it reads as), the export's dates as dates. Cells
// that do not read stay as written.
func (c *chargeAmounts) cells(rec formats.Record, col int) (string, formats.CellKind, bool) {
	cur := -1
	switch col {
	case c.amount:
		cur = c.currency
	case c.local:
		cur = c.localCurrency
	default:
		return "", 0, false
	}
	if col < 0 {
		return "", 0, false
	}
	r, err := c.read(rec, col)
	if err != nil || r == nil {
		return "", 0, false
	}
	v := rec.Fields[col]
	if col >= len(rec.Kinds) || rec.Kinds[col] != formats.Number {
		v = plainDecimal(r)
	}
	return v, formats.AmountKind(amount.Decimals(c.currencyOf(rec, cur))), true
}

// editedMessage is the AMOUNT_EDITED warning of a row.
func editedMessage(amt, exported *big.Rat, currency string) string {
	return fmt.Sprintf("amount %s, exported as %s (amount_raw): edited since the export; CRM.COM keeps its own amount, the Reconciliation sheet sums both",
		plainDecimal(amt), amount.Format(exported, currency))
}
