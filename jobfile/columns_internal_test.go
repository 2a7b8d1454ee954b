package jobfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crmbatch/crmbatch/fault"
	"github.com/crmbatch/crmbatch/formats"
)

// TestGroupCodeRefused checks the refusal of a devices file's group_code
// column, with its hint.
func TestGroupCodeRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "devices.csv")
	if err := os.WriteFile(path, []byte("esn,Group_Code\nE-1,OP1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(path, "", formats.Options{}, nil, 0)
	var fe *fault.FileError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "column group_code") || !strings.Contains(fault.Describe(err), "hint: ") ||
		!strings.Contains(fault.Describe(err), "group_alternative_code") || !strings.Contains(fault.Describe(err), "the code of the group") {
		t.Errorf("err = %v, want a fault.FileError with the hint", err)
	}
}
