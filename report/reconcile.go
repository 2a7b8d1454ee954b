package report

import (
	"math/big"
	"sort"

	"github.com/crmbatch/crmbatch/amount"
)

// Reconciliation ties out a charges job: per action, status and currency the
// rows and their amount, and per currency the check that every row's amount
// of the input is in exactly one status. It is the Reconciliation sheet of
// the results, the "reconciliation" of X.summary.json and the end line.
type Reconciliation struct {
	// Lines are per action (acknowledge, accept), status ("input" for all
	// the action's rows, then ok, failed, invalid, unknown, skipped,
	// planned) and currency.
	Lines []ReconLine `json:"lines"`
	// Checks are per currency: input = ok + failed + invalid + unknown +
	// skipped (+ planned, in a plan), in rows and amount.
	Checks []Check `json:"checks"`
	// ToDo says what to do with the failed, invalid and unknown rows.
	ToDo []string `json:"to_do,omitempty"`
	// Exported says the sheet has amount_raw, the amounts as exported:
	// the lines then give both sums.
	Exported bool `json:"exported,omitempty"`
}

// ReconLine is the rows of one action, status and currency.
type ReconLine struct {
	Action   string `json:"action"`
	Status   string `json:"status"`
	Currency string `json:"currency"`
	Rows     int    `json:"rows"`
	// Amount is the sum of their amounts, in the currency's decimals; rows
	// whose amount could not be read (NotRead) are not in it.
	Amount  string `json:"amount"`
	NotRead int    `json:"amounts_not_read,omitempty"`
	// AmountExported is the sum of their amount_raw (the amounts as the
	// export wrote them), when the sheet has it; Edited counts the rows
	// whose amount differs from it.
	AmountExported string `json:"amount_exported,omitempty"`
	Edited         int    `json:"edited,omitempty"`
}

// Check is the control of one currency: the input's rows and amount, and
// those of each status, which must add up to them.
type Check struct {
	Currency string      `json:"currency"`
	Input    CheckPart   `json:"input"`
	Parts    []CheckPart `json:"parts"`
	Holds    bool        `json:"holds"`
}

// CheckPart is the rows and amount of a status in a Check.
type CheckPart struct {
	Status string `json:"status"`
	Rows   int    `json:"rows"`
	Amount string `json:"amount"`
}

// statusOrder is the order of statuses in a reconciliation.
// Rows never sent (failed NOT_SENT in the reports) are "not_sent", as in the
// summary's counts, shown only when there are some.
var statusOrder = []string{"input", "ok", "failed", "invalid", "unknown", "skipped", "not_sent", "planned"}

// checkedStatuses are the statuses a Check always shows, even with no rows.
var checkedStatuses = []string{"ok", "failed", "invalid", "unknown", "skipped"}

func rank(status string) int {
	for i, s := range statusOrder {
		if s == status {
			return i
		}
	}
	return len(statusOrder)
}

// Reconciler sums a charges job's rows as they are reported.
type Reconciler struct {
	exported bool
	lines    map[reconKey]*reconSum
}

type reconKey struct{ action, status, currency string }

type reconSum struct {
	rows, notRead, edited int
	amount, exported      big.Rat
}

// NewReconciler starts a reconciliation; exported says the sheet has
// amount_raw.
func NewReconciler(exported bool) *Reconciler {
	return &Reconciler{exported: exported, lines: map[reconKey]*reconSum{}}
}

// Add counts a row of the action and currency that ended in status: its
// amount (nil: not read) and its amount as exported (nil: none), and
// whether it was edited.
func (r *Reconciler) Add(action, status, currency string, amt, exported *big.Rat, edited bool) {
	for _, st := range []string{"input", status} {
		k := reconKey{action, st, currency}
		s := r.lines[k]
		if s == nil {
			s = &reconSum{}
			r.lines[k] = s
		}
		s.rows++
		if amt == nil {
			s.notRead++
		} else {
			s.amount.Add(&s.amount, amt)
		}
		if exported != nil {
			s.exported.Add(&s.exported, exported)
		}
		if edited {
			s.edited++
		}
	}
}

// Result is the reconciliation of the rows added.
func (r *Reconciler) Result() *Reconciliation {
	if r == nil || len(r.lines) == 0 {
		return nil
	}
	keys := make([]reconKey, 0, len(r.lines))
	for k := range r.lines {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(a, b int) bool {
		ka, kb := keys[a], keys[b]
		if ka.action != kb.action {
			return ka.action < kb.action
		}
		if ka.currency != kb.currency {
			return ka.currency < kb.currency
		}
		return rank(ka.status) < rank(kb.status)
	})
	out := &Reconciliation{Exported: r.exported}
	type sums struct {
		rows   int
		amount big.Rat
	}
	byCur := map[string]map[string]*sums{}
	for _, k := range keys {
		s := r.lines[k]
		l := ReconLine{Action: k.action, Status: k.status, Currency: k.currency, Rows: s.rows,
			Amount: amount.Format(&s.amount, k.currency), NotRead: s.notRead, Edited: s.edited}
		if r.exported {
			l.AmountExported = amount.Format(&s.exported, k.currency)
		}
		out.Lines = append(out.Lines, l)
		if byCur[k.currency] == nil {
			byCur[k.currency] = map[string]*sums{}
		}
		c := byCur[k.currency][k.status]
		if c == nil {
			c = &sums{}
			byCur[k.currency][k.status] = c
		}
		c.rows += s.rows
		c.amount.Add(&c.amount, &s.amount)
	}
	currencies := make([]string, 0, len(byCur))
	for c := range byCur {
		currencies = append(currencies, c)
	}
	sort.Strings(currencies)
	for _, cur := range currencies {
		per := byCur[cur]
		in := per["input"]
		ch := Check{Currency: cur, Input: CheckPart{Status: "input", Rows: in.rows, Amount: amount.Format(&in.amount, cur)}}
		rows, sum := 0, new(big.Rat)
		statuses := append([]string(nil), checkedStatuses...)
		for st := range per {
			if st != "input" && rank(st) >= len(checkedStatuses)+1 {
				statuses = append(statuses, st)
			}
		}
		sort.Slice(statuses, func(a, b int) bool { return rank(statuses[a]) < rank(statuses[b]) })
		for _, st := range statuses {
			p := CheckPart{Status: st, Amount: amount.Format(new(big.Rat), cur)}
			if s := per[st]; s != nil {
				p.Rows, p.Amount = s.rows, amount.Format(&s.amount, cur)
				rows += s.rows
				sum.Add(sum, &s.amount)
			}
			ch.Parts = append(ch.Parts, p)
		}
		ch.Holds = rows == in.rows && sum.Cmp(&in.amount) == 0
		out.Checks = append(out.Checks, ch)
	}
	return out
}

// Holds reports whether every currency's check holds.
func (r *Reconciliation) Holds() bool {
	for _, c := range r.Checks {
		if !c.Holds {
			return false
		}
	}
	return true
}
