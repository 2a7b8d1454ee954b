package report

import (
	"fmt"
	"testing"
)

// TestTotalsListOrder checks that the control totals come in one order
// whatever the map they are summed in: "input" first, the statuses the
// reports know in their order, others (an export's charge statuses) by name,
// and the currencies by name within each.
func TestTotalsListOrder(t *testing.T) {
	for _, tc := range []struct {
		name string
		rows [][2]string // currency, status
		want string
	}{
		{
			name: "an export: charge statuses the reports do not know",
			rows: [][2]string{{"USD", "PENDING"}, {"EUR", "PENDING"}, {"USD", "REJECTED"}, {"EUR", "PENDING"}},
			want: "input EUR, input USD, PENDING EUR, PENDING USD, REJECTED USD",
		},
		{
			name: "a run's statuses",
			rows: [][2]string{{"USD", "skipped"}, {"EUR", "ok"}, {"USD", "failed"}, {"USD", "ok"}},
			want: "input EUR, input USD, ok EUR, ok USD, failed USD, skipped USD",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Many times: a map's order differs from one range to the next.
			for range 50 {
				tot := NewTotals(0, 1)
				for _, r := range tc.rows {
					tot.Add([]string{"1.00", r[0]}, Status(r[1]))
				}
				got := ""
				for i, x := range tot.List() {
					if i > 0 {
						got += ", "
					}
					got += fmt.Sprintf("%s %s", x.Status, x.Currency)
				}
				if got != tc.want {
					t.Fatalf("got  %s\nwant %s", got, tc.want)
				}
			}
		})
	}
}
