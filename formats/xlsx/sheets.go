package xlsx

import (
	"os"

	"github.com/crmbatch/crmbatch/formats/internal/table"
)

// SheetNames returns the names of an XLSX workbook's worksheets, in order,
// reading only the workbook's parts, not its sheets or shared strings: what a
// shell completes --sheet with. password opens a password-protected workbook.
func SheetNames(path, password string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	x := &Reader{name: path, opts: table.Options{Password: password}.WithDefaults(), closer: f, namesOnly: true}
	defer x.Close()
	if err := x.open(f, st.Size()); err != nil {
		return nil, err
	}
	return x.sheets, nil
}
