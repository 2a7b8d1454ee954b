package report

import (
	"fmt"
	"testing"
)

// TestExportTotalsOrder checks that an export's input totals, the ones
// "crmbatch charges export" prints, come first and by currency whatever the
// maps they are summed in.
func TestExportTotalsOrder(t *testing.T) {
	for _, tc := range []struct {
		name string
		rows [][2]string // currency, status
		want string
	}{
		{
			name: "two currencies, two charge statuses",
			rows: [][2]string{{"USD", "PENDING"}, {"EUR", "PENDING"}, {"USD", "REJECTED"}, {"EUR", "PENDING"}},
			want: "input EUR, input USD",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Many times: a map's order differs from one range to the next.
			for range 50 {
				var tot ExportTotals
				for _, r := range tc.rows {
					tot.Add("1.00", r[0], r[1])
				}
				got := ""
				for i, x := range tot.List()[:2] {
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
