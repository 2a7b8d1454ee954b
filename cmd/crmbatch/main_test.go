package main

import (
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"crmbatch": func() { os.Exit(Main(os.Args[1:], os.Getenv, os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs the command-line scenarios in testdata/script/*.txtar: each
// runs crmbatch lines and checks stdout, stderr, exit codes and files.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("CRMBATCH_STATE", env.WorkDir+"/state")
			return nil
		},
	})
}
