package main

import (
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// NewCmdVersion is "crmbatch version", which prints what "crmbatch --version"
// prints; runF, when not nil, is called instead of printing.
func NewCmdVersion(f *factory, runF func() error) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "print the version",
		Long:  "Prints crmbatch's version (also: crmbatch --version).",
		RunE: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return &usageError{msg: "version takes no arguments"}
			}
			if runF != nil {
				return runF()
			}
			_, err := fmt.Fprintln(f.io.Out, "crmbatch", versionString())
			return err
		},
	}
}

// version is set by the linker for releases: go build -ldflags "-X main.version=v1.2.3"
// (make build sets it from git describe).
var version = ""

// versionString is the version that "crmbatch version" prints.
func versionString() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = nil
	}
	return describeVersion(version, bi)
}

// describeVersion is linked, else the module's version (go install
// module@version), else "dev" with what the build knows of its source: the
// commit, whether the tree had changes, the commit's time, and the Go version.
func describeVersion(linked string, bi *debug.BuildInfo) string {
	if linked != "" {
		return linked
	}
	if bi == nil {
		return "dev"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var facts []string
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	if rev := settings["vcs.revision"]; rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if settings["vcs.modified"] == "true" {
			rev += " with changes"
		}
		facts = append(facts, rev)
	}
	if t := settings["vcs.time"]; t != "" {
		facts = append(facts, t)
	}
	if bi.GoVersion != "" {
		facts = append(facts, bi.GoVersion)
	}
	if len(facts) == 0 {
		return "dev"
	}
	return "dev (" + strings.Join(facts, ", ") + ")"
}
