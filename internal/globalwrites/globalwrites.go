// Package globalwrites is an analyzer that reports writes to package-level
// variables after initialisation: an assignment, an increment, or a write
// through an index or a field whose root is a package-level variable, in any
// function other than init. crmbatch keeps no mutable package state: what a run
// needs is passed to it, so that tests run in parallel and two runs in one
// process never share anything by accident.
package globalwrites

import (
	"go/ast"
	"go/types"
	"strings"

	"golang.org/x/tools/go/analysis"
)

// Analyzer reports writes to package-level variables outside init.
var Analyzer = &analysis.Analyzer{
	Name: "globalwrites",
	Doc:  "report writes to package-level variables after initialisation",
	Run:  run,
}

func run(pass *analysis.Pass) (any, error) {
	for _, f := range pass.Files {
		if strings.HasSuffix(pass.Fset.Position(f.Pos()).Filename, "_test.go") {
			continue // tests may set up fixtures as they please
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Body == nil || (fn.Recv == nil && fn.Name.Name == "init") {
				continue
			}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				switch s := n.(type) {
				case *ast.AssignStmt:
					for _, lhs := range s.Lhs {
						check(pass, lhs)
					}
				case *ast.IncDecStmt:
					check(pass, s.X)
				}
				return true
			})
		}
	}
	return nil, nil
}

// check reports lhs when its root names a package-level variable.
func check(pass *analysis.Pass, lhs ast.Expr) {
	root := lhs
	for {
		switch e := root.(type) {
		case *ast.IndexExpr:
			root = e.X
			continue
		case *ast.SelectorExpr:
			if id, ok := e.X.(*ast.Ident); ok {
				if _, isPkg := pass.TypesInfo.Uses[id].(*types.PkgName); isPkg {
					root = e.Sel // pkg.Var
					break
				}
			}
			root = e.X
			continue
		case *ast.StarExpr:
			root = e.X
			continue
		case *ast.ParenExpr:
			root = e.X
			continue
		}
		break
	}
	id, ok := root.(*ast.Ident)
	if !ok || id.Name == "_" {
		return
	}
	v, ok := pass.TypesInfo.ObjectOf(id).(*types.Var)
	if !ok || v.Parent() == nil || v.Pkg() == nil || v.Parent() != v.Pkg().Scope() {
		return
	}
	pass.Reportf(lhs.Pos(), "write to package-level variable %s after initialisation: pass state in instead", v.Name())
}
