package kind

import (
	"strings"

	"github.com/crmbatch/crmbatch/formats"
)

// parseRow validates one row as the pass that sends does: its item with its
// payload, or the error that makes it invalid.
func parseRow(k *Kind, v Row) (Item, error) {
	var it Item
	_, _, err := k.rows.check(v, true, nil, EffectHash(FNVOffset), &it)
	return it, err
}

// viewOf builds the rowView of one record under a header.
func viewOf(k *Kind, header, fields []string, kinds []formats.CellKind) Row {
	v := Row{rec: &formats.Record{Row: 2, Fields: fields, Kinds: kinds}}
	index := map[string]int{}
	for i, h := range header {
		n := formats.NormalizeHeader(h)
		index[n] = i
		if strings.Contains(n, ".") && k.Known(n) {
			v.dotted = append(v.dotted, n)
		}
	}
	v.cols = ColumnsOf(index, nil)
	return v
}
