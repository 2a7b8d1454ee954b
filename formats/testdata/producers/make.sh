#!/bin/sh
# make.sh writes the producer corpus: job files saved by the programs users'
# files come from, committed beside this script so that the tests need none
# of them. Run it from anywhere, as root or with the packages installed:
#
#   apt-get install -y libreoffice-calc python3-openpyxl python3-xlsxwriter gnumeric
#   formats/testdata/producers/make.sh
#
# Then `go test ./formats -run TestProducerCorpus` compares every file as
# read by crmbatch with excelize's reading, cell by cell.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
py=/usr/bin/python3 # Debian's, which has openpyxl, xlsxwriter and LibreOffice's uno
password='corpus-Λ-2024' # the corpus's encrypted workbooks; see corpus_test.go
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cd "$here"
rm -f ./*.xlsx ./*.txt ./*.csv

# openpyxl: formulas with an empty cached value, fullCalcOnLoad, number
# formats, times, "Devices " with a trailing space, 20,000 Greek letters.
"$py" openpyxl_jobs.py "$here"

# XlsxWriter: formulas stored as 0 with fullCalcOnLoad, #N/A, every built-in
# date and time format by index, shared strings and constant_memory.
"$py" xlsxwriter_jobs.py "$here"

# LibreOffice Calc opens the openpyxl and XlsxWriter files, calculates them
# (formula results, #DIV/0!, #N/A) and saves them as .xlsx.
"$py" libreoffice_save.py openpyxl.xlsx=libreoffice.xlsx xlsxwriter.xlsx=libreoffice-xlsxwriter.xlsx

# Gnumeric: the openpyxl file saved as .xlsx (formula results as shared
# strings, indented XML), and a job as "Unicode" text: UTF-16LE without a
# byte order mark, every field quoted.
ssconvert openpyxl.xlsx gnumeric.xlsx
printf 'esn,action,group_name\nE-4001,register,OPERATOR1\nE-4002,register,Λεμεσός\n' >"$tmp/jobs.csv"
ssconvert -O 'charset=UTF-16LE quoting-mode=always separator=,' "$tmp/jobs.csv" gnumeric-unicode.txt

# excelize: the XlsxWriter and LibreOffice files encrypted with the password
# (standard encryption, as excelize's SaveAs with a password).
(cd "$root" && go run ./formats/testdata/producers/excelize_encrypt "$here/xlsxwriter.xlsx" "$here/excelize-encrypted.xlsx" "$password")
(cd "$root" && go run ./formats/testdata/producers/excelize_encrypt "$here/libreoffice.xlsx" "$here/excelize-encrypted-libreoffice.xlsx" "$password")

ls -l "$here"
