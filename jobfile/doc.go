// Package jobfile reads a job file for the passes of a run: it holds the file
// open by one handle (Pinned: each block hashed as it is read, so a file
// changed in place stops the run before a row of the new content is sent),
// finds the job's kind from the header, maps the columns, and reads the rows
// validated by the kind's rules, with the repeats of unique values found and
// each row's effect key. What it reads is the pipeline's input and nothing
// more: it sends nothing and writes nothing.
package jobfile
