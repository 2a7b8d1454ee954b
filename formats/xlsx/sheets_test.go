package xlsx

import (
	"errors"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/crmbatch/crmbatch/formats/internal/table"
)

// corpusPassword opens the corpus's encrypted workbooks (formats/testdata/producers/make.sh).
const corpusPassword = "corpus-Λ-2024"

func TestSheetNames(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, file, password string
		want                 []string
		err                  error // errors.Is
	}{
		{name: "worksheets in order, hidden ones too", file: "../testdata/sheets.xlsx", want: []string{"Notes", "Devices", "Charges"}},
		{name: "a sheet with no header is still named", file: "../testdata/empty-sheet.xlsx", want: []string{"Sheet1"}},
		{name: "password-protected", file: "../testdata/producers/excelize-encrypted.xlsx", password: corpusPassword, want: []string{"Devices ", "Formats"}},
		{name: "password-protected, no password", file: "../testdata/producers/excelize-encrypted.xlsx", err: table.ErrEncrypted},
		{name: "not a workbook", file: "../testdata/not-zip.xlsx", err: table.ErrTruncated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := SheetNames(filepath.FromSlash(tc.file), tc.password)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("error %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("%q, want %q", got, tc.want)
			}
		})
	}
}
