// Command excelize_encrypt writes SRC encrypted with PASSWORD into DST, with
// excelize.Encrypt (ECMA-376 standard encryption), as excelize's
// SaveAs(..., Options{Password}) does. Run by make.sh.
package main

import (
	"log"
	"os"

	"github.com/xuri/excelize/v2"
)

func main() {
	if len(os.Args) != 4 {
		log.Fatal("usage: excelize_encrypt SRC DST PASSWORD")
	}
	plain, err := os.ReadFile(os.Args[1])
	if err != nil {
		log.Fatal(err)
	}
	enc, err := excelize.Encrypt(plain, &excelize.Options{Password: os.Args[3]})
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(os.Args[2], enc, 0o644); err != nil {
		log.Fatal(err)
	}
}
