// Command checkglobals reports writes to package-level variables after
// initialisation (see internal/globalwrites); .ci/run runs it on every package.
package main

import (
	"golang.org/x/tools/go/analysis/singlechecker"

	"github.com/crmbatch/crmbatch/internal/globalwrites"
)

func main() { singlechecker.Main(globalwrites.Analyzer) }
