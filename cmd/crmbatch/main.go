// Command crmbatch drives the CRM.COM Web API from CSV and XLSX job files: device
// registrations, subscription lifecycle actions, installed items and charge
// acknowledgements, in chunks, concurrently and under a rate limit, with a report
// of what happened to every row.
package main

import "os"

func main() { os.Exit(int(Main(os.Args[1:], os.Getenv, System()))) }
