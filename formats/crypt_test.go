package formats

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

const testPassword = "Λεμεσός-2024!"

// encryptedCopy writes testdata/name encrypted with the password into dir.
func encryptedCopy(t *testing.T, dir, name, password string) string {
	t.Helper()
	plain, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	enc, err := excelize.Encrypt(padZip(plain, 4096), &excelize.Options{Password: password})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "protected-"+name)
	if err := os.WriteFile(path, enc, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestEncryptedWorkbook reads a password-protected workbook with the right
// password, a wrong one and none; the errors name the file, never the password.
func TestEncryptedWorkbook(t *testing.T) {
	t.Parallel()
	path := encryptedCopy(t, t.TempDir(), "ids.xlsx", testPassword)
	wantHeader, wantRecs, err := readAll(t, filepath.Join("testdata", "ids.xlsx"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		password string
		err      *wantErr
	}{
		{name: "right password", password: testPassword},
		{name: "no password", err: &wantErr{is: ErrEncrypted, text: "the workbook is password-protected\nhint: set CRMBATCH_XLSX_PASSWORD"}},
		{name: "wrong password", password: "lemesos", err: &wantErr{is: ErrEncrypted, text: "the password does not open the workbook"}},
		{name: "almost the password", password: testPassword + " ", err: &wantErr{is: ErrEncrypted, text: "the password does not open the workbook"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			header, recs, err := readAll(t, path, Options{Password: tc.password})
			checkErr(t, err, tc.err)
			if err != nil {
				if !strings.HasPrefix(err.Error(), path+": ") {
					t.Errorf("error %q does not start with the file's name", err)
				}
				if strings.Contains(err.Error(), testPassword) || tc.password != "" && strings.Contains(err.Error(), tc.password) {
					t.Errorf("error %q holds the password", err)
				}
				return
			}
			if !reflect.DeepEqual(header, wantHeader) || !reflect.DeepEqual(recs, wantRecs) {
				t.Errorf("read %q %+v, want %q %+v", header, recs, wantHeader, wantRecs)
			}
		})
	}
	if ok, err := Encrypted(path); !ok || err != nil {
		t.Errorf("Encrypted(%s) = %v, %v", path, ok, err)
	}
	// excelize's Encrypt writes a package under 4 KiB so that it cannot be
	// read back (see padZip): such a file is damaged, not a wrong password.
	plain, err := os.ReadFile(filepath.Join("testdata", "ids.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	small, err := excelize.Encrypt(plain, &excelize.Options{Password: testPassword})
	if err != nil {
		t.Fatal(err)
	}
	smallPath := filepath.Join(t.TempDir(), "small.xlsx")
	if err := os.WriteFile(smallPath, small, 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err = readAll(t, smallPath, Options{Password: testPassword})
	checkErr(t, err, &wantErr{is: ErrTruncated, text: "the encrypted workbook cannot be read"})

	for _, plain := range []string{"ids.xlsx", "encrypted.xlsx", "bom.csv"} {
		if ok, err := Encrypted(filepath.Join("testdata", plain)); ok || err != nil {
			t.Errorf("Encrypted(%s) = %v, %v", plain, ok, err)
		}
	}
}

// TestEncryptedReport: a report written with a password opens only with it.
func TestEncryptedReport(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "charges.results.xlsx")
	w, err := CreateReportWith(path, XLSX, []string{"number", "status"}, ReportOptions{Password: testPassword})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	for _, row := range [][]string{{"INV-1", "ok"}, {"INV-2", "failed"}} {
		if err := w.WriteRow(row, Plain); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.AddSheet("Summary", [][]string{{"status", "rows"}, {"ok", "1"}}); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	onlyFileMode(t, dir, "charges.results.xlsx", 0o600) // a protected workbook's report is the owner's alone
	if ok, err := Encrypted(path); !ok || err != nil {
		t.Fatalf("Encrypted = %v, %v", ok, err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "INV-1") || strings.Contains(string(raw), testPassword) {
		t.Error("the encrypted report holds its text or its password in the clear")
	}
	if _, err := excelize.OpenFile(path); err == nil {
		t.Error("excelize opened the report without the password")
	}
	if _, err := excelize.OpenFile(path, excelize.Options{Password: "wrong"}); err == nil {
		t.Error("excelize opened the report with a wrong password")
	}
	f, err := excelize.OpenFile(path, excelize.Options{Password: testPassword})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if rows, err := f.GetRows("Results"); err != nil || !reflect.DeepEqual(rows, [][]string{{"number", "status"}, {"INV-1", "ok"}, {"INV-2", "failed"}}) {
		t.Errorf("excelize reads %q, %v", rows, err)
	}
	_, recs, err := readAll(t, path, Options{Password: testPassword})
	if err != nil || len(recs) != 2 || recs[1].Fields[0] != "INV-2" {
		t.Errorf("our reader reads %+v, %v", recs, err)
	}
}

func TestCSVReportRefusesPassword(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, err := CreateReportWith(filepath.Join(dir, "r.csv"), CSV, []string{"a"}, ReportOptions{Password: testPassword})
	if !errors.Is(err, ErrReportNotEncryptable) || strings.Contains(err.Error(), testPassword) {
		t.Fatalf("err = %v, want ErrReportNotEncryptable without the password", err)
	}
	if names, _ := os.ReadDir(dir); len(names) != 0 {
		t.Errorf("left %v behind", names)
	}
}
