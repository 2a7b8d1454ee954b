package formats

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// drain reads r to the end and checks the invariants every reader keeps.
func drain(t *testing.T, r Reader) {
	t.Helper()
	for i := 0; ; i++ {
		rec, err := r.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			checkFuzzErr(t, err)
			return
		}
		if len(rec.Fields) != len(r.Header()) || len(rec.Kinds) != len(rec.Fields) {
			t.Fatalf("row %d: %d fields, %d kinds, header of %d", rec.Row, len(rec.Fields), len(rec.Kinds), len(r.Header()))
		}
		if rec.Row < 2 {
			t.Fatalf("record row %d", rec.Row)
		}
	}
}

// checkFuzzErr requires an *InputError that wraps one of the sentinels.
func checkFuzzErr(t *testing.T, err error) {
	t.Helper()
	var ie *InputError
	if !errors.As(err, &ie) {
		t.Fatalf("error %q (%T) is not an *InputError", err, err)
	}
	for _, s := range []error{ErrEmptyFile, ErrNoHeader, ErrDuplicateHeader, ErrUnnamedColumn, ErrEncoding, ErrMalformed,
		ErrTruncated, ErrTooLarge, ErrRowTooWide, ErrSheetNotFound, ErrEncrypted, ErrCellError, ErrUnsupportedFormat} {
		if errors.Is(err, s) {
			return
		}
	}
	t.Fatalf("error %q wraps no sentinel", err)
}

func seedFiles(f *testing.F, patterns ...string) {
	for _, p := range patterns {
		names, _ := filepath.Glob(filepath.Join("testdata", p))
		for _, name := range names {
			data, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
}

func FuzzCSVReader(f *testing.F) {
	seedFiles(f, "*.csv", "*.tsv", "*.txt", "producers/*.csv", "producers/*.txt")
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, opts := range []Options{{}, {MaxCellChars: 8, MaxColumns: 3}} {
			r, err := NewCSVReader(bytes.NewReader(data), "fuzz.csv", opts)
			if err != nil {
				checkFuzzErr(t, err)
				continue
			}
			drain(t, r)
			// Every error past the header says on which row.
			if _, err := r.Next(); err != io.EOF {
				var ie *InputError
				if errors.As(err, &ie) && ie.Row < 2 {
					t.Fatalf("error without its row: %v", err)
				}
			}
		}
	})
}
