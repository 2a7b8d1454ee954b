package report

import (
	"strconv"

	"github.com/crmbatch/crmbatch/amount"
	"github.com/crmbatch/crmbatch/formats"
)

// Sheet is the Reconciliation sheet: a table of the lines (action, status,
// currency, rows, amount; with the amounts as exported when the sheet had
// them), the check of each currency in the same columns, so that a SUM over
// the rows and amount columns agrees, and what to do. Figures are number
// cells, amounts in their currency's decimals.
func (r *Reconciliation) Sheet() ([][]string, [][]formats.CellKind) {
	var rows [][]string
	var kinds [][]formats.CellKind
	add := func(row []string, k []formats.CellKind) {
		rows, kinds = append(rows, row), append(kinds, k)
	}
	head := []string{"action", "status", "currency", "rows", "amount"}
	if r.Exported {
		head = append(head, "amount as exported", "rows edited")
	}
	head = append(head, "amounts not read")
	figures := func(c string) []formats.CellKind {
		k := []formats.CellKind{formats.Text, formats.Text, formats.Text, formats.Integer, formats.AmountKind(amount.Decimals(c))}
		if r.Exported {
			k = append(k, formats.AmountKind(amount.Decimals(c)), formats.Integer)
		}
		return append(k, formats.Integer)
	}
	add(head, figures(""))
	for _, l := range r.Lines {
		row := []string{l.Action, l.Status, l.Currency, strconv.Itoa(l.Rows), l.Amount}
		if r.Exported {
			row = append(row, l.AmountExported, strconv.Itoa(l.Edited))
		}
		add(append(row, strconv.Itoa(l.NotRead)), figures(l.Currency))
	}
	add(nil, nil)
	add([]string{"Check per currency: input = ok + failed + invalid + unknown + skipped"}, []formats.CellKind{formats.Heading})
	for _, c := range r.Checks {
		k := figures(c.Currency)[:5]
		add([]string{"check", "input", c.Currency, strconv.Itoa(c.Input.Rows), c.Input.Amount}, k)
		for i, p := range c.Parts {
			sign := "+ "
			if i == 0 {
				sign = "= "
			}
			add([]string{"check", sign + p.Status, c.Currency, strconv.Itoa(p.Rows), p.Amount}, k)
		}
		holds := "holds"
		if !c.Holds {
			holds = "DOES NOT HOLD: report this run to crmbatch's maintainers"
		}
		add([]string{"check", holds, c.Currency}, []formats.CellKind{formats.Text, formats.Heading})
		add(nil, nil)
	}
	if len(r.ToDo) > 0 {
		add([]string{"What to do"}, []formats.CellKind{formats.Heading})
		for _, t := range r.ToDo {
			add([]string{t}, nil)
		}
	}
	return rows, kinds
}
