package xlsx

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/crmbatch/crmbatch/formats/internal/sniff"
	"github.com/crmbatch/crmbatch/formats/internal/table"
	"github.com/richardlehane/mscfb"
	"github.com/xuri/excelize/v2"
)

// Password-protected workbooks are OLE compound files holding the encrypted
// zip (ECMA-376 agile or standard encryption). Decrypting is excelize's
// (crypt.go): the whole file is read into memory, decrypted there,
// and read from memory; nothing decrypted touches the disk.

// hintPassword says where the password comes from; the command line reads
// these variables (never a flag, which other users can see).
const hintPassword = "set CRMBATCH_XLSX_PASSWORD to the workbook's password, or CRMBATCH_XLSX_PASSWORD_FILE to a file holding it"

// Encrypted reports whether the file at path is a password-protected
// workbook: an OLE file holding an encrypted package. A legacy .xls, which is
// an OLE file too, is not.
func Encrypted(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	magic := make([]byte, len(sniff.OLEMagic))
	if n, _ := io.ReadFull(f, magic); n < len(magic) || string(magic) != sniff.OLEMagic {
		return false, nil
	}
	return encryptedPackage(f), nil
}

// encryptedPackage reports whether the OLE file in ra holds the two streams
// of an encrypted OOXML package.
func encryptedPackage(ra io.ReaderAt) (ok bool) {
	defer func() {
		if recover() != nil { // a damaged OLE file is no encrypted workbook
			ok = false
		}
	}()
	doc, err := mscfb.New(ra)
	if err != nil {
		return false
	}
	var info, pkg bool
	for _, f := range doc.File {
		switch f.Name {
		case "EncryptionInfo":
			info = true
		case "EncryptedPackage":
			pkg = true
		}
	}
	return info && pkg
}

// decryptWorkbook returns the zip inside the OLE file ra, decrypted with the
// password, or an error for the user (without the password).
func (x *Reader) decryptWorkbook(ra io.ReaderAt, size int64) ([]byte, error) {
	if size > x.opts.MaxXLSXBytes {
		return nil, x.fail(0, "", table.Because(table.ErrTooLarge, "the encrypted workbook is %d bytes, over the limit of %d", size, x.opts.MaxXLSXBytes))
	}
	raw := make([]byte, size)
	if _, err := ra.ReadAt(raw, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, x.fail(0, "", err)
	}
	if !encryptedPackage(bytes.NewReader(raw)) {
		return nil, x.fail(0, "", table.BecauseFix(table.ErrEncrypted, "open it in Excel and save it as .xlsx",
			"this is a legacy .xls workbook (or another OLE file), not .xlsx"))
	}
	if x.opts.Password == "" {
		return nil, x.fail(0, "", table.BecauseFix(table.ErrEncrypted, hintPassword, "the workbook is password-protected"))
	}
	plain, err := decrypt(raw, x.opts.Password)
	switch {
	case errors.Is(err, excelize.ErrUnsupportedEncryptMechanism), errors.Is(err, excelize.ErrUnknownEncryptMechanism):
		return nil, x.fail(0, "", table.BecauseFix(table.ErrEncrypted, "save it again in Excel or LibreOffice, with a password or without",
			"the workbook is encrypted in a way crmbatch cannot read"))
	case err != nil:
		return nil, x.fail(0, "", table.BecauseFix(table.ErrTruncated, "the file may be damaged; save it again in Excel or LibreOffice",
			"the encrypted workbook cannot be read: %v", err))
	case !bytes.HasPrefix(plain, []byte("PK\x03\x04")):
		// Decryption with a wrong key gives noise, not an error.
		return nil, x.fail(0, "", table.BecauseFix(table.ErrEncrypted, hintPassword,
			"the password does not open the workbook"))
	}
	return plain, nil
}

// decrypt is excelize.Decrypt, with a panic on a damaged file made an error.
func decrypt(raw []byte, password string) (plain []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			plain, err = nil, fmt.Errorf("damaged encrypted workbook: %v", r)
		}
	}()
	return excelize.Decrypt(raw, &excelize.Options{Password: password})
}
