"""CSV files as billing systems drop them, written byte by byte: Excel's
"sep=" delimiter hint, ="..." cells that keep an ID as text in Excel, a
quote inside an unquoted comment, and a file that is ASCII for its first
64 KiB and Windows-1252 after. Run by make.sh."""
import sys

out = sys.argv[1]


def write(name, data):
    with open(out + "/" + name, "wb") as f:
        f.write(data)


write("billing-sep.csv", b"sep=;\r\nesn;group_name;note\r\nE-9001;OPERATOR1;first, with a comma\r\nE-9002;OPERATOR1;second\r\n")
write("billing-excel-quotes.csv",
      b'esn,group_name,comment\r\n'
      b'="00012345678901234567",OPERATOR1,24" monitor\r\n'
      b'="E-9002",OPERATOR1,="0042"\r\n'
      b'E-9003,OPERATOR1,"quoted ""word"" and ="\r\n')
rows = [b"esn,group_name,note\r\n"]
n = 0
while sum(len(r) for r in rows) < 70 * 1024:
    n += 1
    rows.append(b"E-%05d,OPERATOR1,plain ascii\r\n" % n)
rows.append(b"E-99999,Soci\xe9t\xe9,price in \x80\r\n")
write("billing-cp1252-late.csv", b"".join(rows))
