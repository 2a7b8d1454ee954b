package formats

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"github.com/crmbatch/crmbatch/formats/xlsx"
	"github.com/xuri/excelize/v2"
)

// A password-protected report is an OLE compound file holding the
// encrypted zip (ECMA-376 agile encryption), written by excelize's
// Encrypt once the report is complete. Reading such workbooks is
// formats/xlsx's.

// Encrypted reports whether the file at path is a password-protected
// workbook: an OLE file holding an encrypted package. A legacy .xls, which is
// an OLE file too, is not.
func Encrypted(path string) (bool, error) { return xlsx.Encrypted(path) }

// encryptFile encrypts the finished workbook in f with the password, in
// place: f is read from the start, then rewritten.
func encryptFile(f *os.File, password string) error {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	plain, err := io.ReadAll(f)
	if err != nil {
		return err
	}
	enc, err := excelize.Encrypt(padZip(plain, 4096), &excelize.Options{Password: password})
	if err != nil {
		return fmt.Errorf("encrypt: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err = f.Write(enc)
	return err
}

// padZip returns the zip plain grown to at least n bytes with a comment of
// spaces. excelize v2.11.1 writes an encrypted package under 4 KiB into the
// OLE file's mini stream in a way its own Decrypt (mscfb) cannot read back;
// a package of 4 KiB or more is an ordinary stream. A zip without a comment
// ends with its 22-byte end record, whose last field is the comment length.
func padZip(plain []byte, n int) []byte {
	const eocd = 22
	pad := n - len(plain)
	if pad <= 0 || len(plain) < eocd || !bytes.Equal(plain[len(plain)-eocd:len(plain)-eocd+4], []byte("PK\x05\x06")) ||
		plain[len(plain)-2] != 0 || plain[len(plain)-1] != 0 {
		return plain
	}
	out := make([]byte, len(plain), n)
	copy(out, plain)
	out[len(out)-2], out[len(out)-1] = byte(pad), byte(pad>>8)
	return append(out, bytes.Repeat([]byte{' '}, pad)...)
}
