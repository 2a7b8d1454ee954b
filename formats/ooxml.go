package formats

import "github.com/crmbatch/crmbatch/formats/xlsx"

// The report writer keeps to the sheet limits the reader knows, and to the
// _xHHHH_ escapes it decodes.

// Excel's sheet limits.
const (
	maxSheetRows    = xlsx.MaxSheetRows
	maxSheetColumns = xlsx.MaxSheetColumns
)
