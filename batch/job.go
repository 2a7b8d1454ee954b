package batch

import (
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/crmbatch/crmbatch/formats"
)

// UsageError is a problem with the command line or the configuration: nothing
// was sent. Err, when set, is the cause a caller may tell apart (ledger.ErrLocked:
// another crmbatch runs the job now).
type UsageError struct {
	Msg string
	Err error
}

func (e *UsageError) Error() string { return e.Msg }
func (e *UsageError) Unwrap() error { return e.Err }

// FileError is a problem with the job file as a whole: nothing was sent.
type FileError struct {
	File string
	Msg  string
	Hint string
}

func (e *FileError) Error() string {
	s := e.File + ": " + e.Msg
	if e.Hint != "" {
		s += "\nhint: " + e.Hint
	}
	return s
}

// reportColumns are the columns crmbatch adds to the reports. Readers ignore them,
// so a failures report can be fed back in as a job file.
var reportColumns = []string{"row", "status", "error_code", "error_message", "attempts"}

// job is a job file opened for one of its passes: the kind, the header and how
// each column maps to what the kind reads.
type job struct {
	path      string
	opts      formats.Options
	kind      *Kind
	header    []string // original header texts
	index     map[string]int
	dotted    []string
	overrides map[string]string
	chunkSize int
	// promotions are the operator's promotion codes (nil = not checked).
	promotions map[string]bool
	// seed hashes the unique values of every read alike; suspects are the
	// values the first whole read found may repeat (nil before it), and
	// suspected says it found some: that read reported their rows valid.
	protect   bool // a password-protected workbook: its reports are protected too
	seed      maphash.Seed
	suspects  map[uint64]bool
	suspected bool
	// unused are the header's columns the job does not read.
	unused []UnusedColumn
	// rowCol is the row column of a report fed back in (-1 = none): a row's
	// number in the first file, which it keeps through every retry.
	rowCol int
	// pin is the file held open for the run (nil: read by path).
	pin *pinnedFile
	// amounts are a charges job's amount columns (nil: none).
	amounts *chargeAmounts
}

// openJob reads the header of the file, works out the kind (from --job or the
// header) and checks that the required columns are there.
func openJob(path, jobName string, opts formats.Options, overrides map[string]string, chunkSize int) (*job, error) {
	return openPinnedJob(nil, path, jobName, opts, overrides, chunkSize)
}

// openPinnedJob is openJob of a file held open (pin; nil: by path), which
// every pass then reads.
func openPinnedJob(pin *pinnedFile, path, jobName string, opts formats.Options, overrides map[string]string, chunkSize int) (*job, error) {
	j := &job{path: path, pin: pin, opts: opts, index: map[string]int{}, overrides: overrides, seed: maphash.MakeSeed(), rowCol: -1}
	r, err := j.open(opts, false)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	j.header = r.Header()
	ignored := map[string]bool{}
	for _, c := range reportColumns {
		ignored[c] = true
	}
	for i, h := range j.header {
		n := formats.NormalizeHeader(h)
		if n == "" {
			continue
		}
		j.index[n] = i
		if n == "row" && j.rowCol < 0 {
			j.rowCol = i
		}
	}
	// A whole-file error names the sheet and row the header was read from,
	// and another sheet of the workbook that holds a job.
	place := func(err error) error {
		var fe *FileError
		if errors.As(err, &fe) {
			fe.Msg = headerPlace(r) + fe.Msg
			if other := otherSheet(r, path, opts, jobName); other != "" {
				fe.Hint = fmt.Sprintf("sheet %q fits a job: pass --sheet %q", other, other)
			}
		}
		return err
	}
	if jobName == "" {
		if j.kind, err = detectKind(path, j.header, j.index); err != nil {
			return nil, place(err)
		}
	} else if j.kind = KindByName(jobName); j.kind == nil {
		return nil, &UsageError{Msg: fmt.Sprintf("unknown --job %q: one of %s", jobName, strings.Join(KindNames(), ", "))}
	}
	k := j.kind
	// Output columns of a results or failures report fed back in are not input.
	for _, c := range k.Outputs {
		ignored[c] = true
	}
	for n := range j.index {
		if ignored[n] && !contains(k.Required, n) {
			delete(j.index, n)
		}
	}
	if err := j.checkColumns(); err != nil {
		return nil, place(err)
	}
	for c := range overrides {
		if !k.known(c) {
			return nil, &UsageError{Msg: fmt.Sprintf("a %s job has no column %s to set from a flag", k.Name, c)}
		}
	}
	if chunkSize > k.MaxChunk {
		return nil, &UsageError{Msg: fmt.Sprintf("--chunk-size %d is above the %s maximum of %d rows per call", chunkSize, k.Name, k.MaxChunk)}
	}
	j.chunkSize = k.MaxChunk
	if chunkSize > 0 {
		j.chunkSize = chunkSize
	}
	return j, nil
}

// checkColumns checks the header against the job's kind: every required
// column is there (or set by a flag), and the kind's own check passes; it
// notes the dotted columns and those the job does not read.
func (j *job) checkColumns() error {
	k := j.kind
	var missing []string
	for _, c := range k.Required {
		if _, ok := j.index[c]; !ok {
			if _, ok := j.overrides[c]; !ok {
				missing = append(missing, c)
			}
		}
	}
	if len(missing) > 0 {
		return &FileError{File: j.path, Msg: fmt.Sprintf("the header has no column %s, which a %s job needs", strings.Join(missing, ", "), k.Name),
			Hint: fmt.Sprintf("a %s job has the columns %s (required) and %s", k.Name, strings.Join(k.Required, ", "), strings.Join(k.Optional, ", "))}
	}
	j.unused = unusedColumns(k, j.header)
	cols := make([]string, 0, len(j.index))
	for n := range j.index {
		cols = append(cols, n)
	}
	sort.Slice(cols, func(a, b int) bool { return j.index[cols[a]] < j.index[cols[b]] })
	for _, n := range cols {
		if strings.Contains(n, ".") && k.known(n) {
			j.dotted = append(j.dotted, n)
		}
	}
	if k.checkHeader != nil {
		if err := k.checkHeader(cols); err != nil {
			return &FileError{File: j.path, Msg: err.Error()}
		}
	}
	return nil
}

// detectKind picks the job kind that fits the header best: of the kinds whose
// required columns are all there, the one that knows the most of its columns. It
// is an error when none fits, or when two fit equally well.
func detectKind(path string, header []string, index map[string]int) (*Kind, error) {
	var fits []*Kind
	best := -1
	for _, name := range KindNames() {
		k := KindByName(name)
		score := 0
		for col := range index {
			if k.known(col) {
				score++
			}
		}
		for _, c := range k.Required {
			if _, has := index[c]; !has {
				score = -1
				break
			}
		}
		switch {
		case score < 0 || score < best:
		case score > best:
			best, fits = score, []*Kind{k}
		default:
			fits = append(fits, k)
		}
	}
	switch len(fits) {
	case 1:
		return fits[0], nil
	case 0:
		hint := "pass --job " + strings.Join(KindNames(), "|") + " to be told which columns are missing"
		if near := nearestKind(header, index); near != "" {
			return nil, &FileError{File: path, Msg: "the header fits no job kind; " + near, Hint: "rename the column, or " + hint}
		}
		return nil, &FileError{File: path, Msg: "the header fits no job kind", Hint: hint}
	default:
		names := make([]string, len(fits))
		for i, k := range fits {
			names[i] = k.Name
		}
		return nil, &FileError{File: path, Msg: "the header fits several job kinds: " + strings.Join(names, ", "), Hint: "pass --job to say which"}
	}
}

// row is one record of a pass with what validation made of it.
type row struct {
	rec  formats.Record
	seq  int
	item Item
	err  *RowError // non-nil: the row is invalid
}

// scan reads the file from the start and calls fn for every row, validated, up
// to limit rows (0 = all). Validation is deterministic, so every pass sees the
// same statuses and effect keys, but for repeated values: the first whole read
// only finds which values may repeat (see repeats) and reports none; every
// later read tells the repeats exactly. suspected says that a read was a first
// one that found suspects. The items have no payload: see scanToSend.
func (j *job) scan(limit int, fn func(r *row) error) error {
	return j.scanRows(limit, passPlan, fn)
}

// scanToSend is scan for the pass that sends: its items carry their payload.
func (j *job) scanToSend(limit int, fn func(r *row) error) error {
	return j.scanRows(limit, passSend, fn)
}

// scanToReport is scan for the pass that writes the reports: its items have no
// effect key (the counting of repeated effects costs memory by the row).
func (j *job) scanToReport(limit int, fn func(r *row) error) error {
	return j.scanRows(limit, passReport, fn)
}

// pass is what a read of the file gives each valid row.
type pass uint8

const (
	passPlan   pass = iota // effect keys
	passSend               // effect keys and payloads
	passReport             // neither
)

func (j *job) scanRows(limit int, p pass, fn func(r *row) error) error {
	rep := newRepeats(j.seed, j.suspects)
	err := j.read(limit, p, rep, fn)
	if err == nil && limit == 0 && j.suspects == nil {
		j.suspects = rep.done()
		j.suspected = len(j.suspects) > 0
	}
	return err
}

// read reads the file from the start, validates each record into a row, lets
// rep find the values repeated (what only the file as a whole tells), gives
// each valid row its effect key, and calls fn. The row's record is valid
// until fn returns; its item's strings stay valid.
func (j *job) read(limit int, p pass, rep *repeats, fn func(r *row) error) error {
	opts := j.opts
	opts.ReuseRecord = true // the read-ahead copies each record
	rd, err := j.open(opts, p == passSend)
	if err != nil {
		return err
	}
	defer rd.Close()
	ahead := startReadAhead(rd, limit)
	defer ahead.close()
	var effects *effects
	if p != passReport {
		effects = newEffects(j.kind)
	}
	cols := columnsOf(j.index, j.overrides)
	keys := &chunkKeys{}
	var uniq []unique
	r := &row{} // one for every row: fn is done with it when it returns
	for seq := 0; limit == 0 || seq < limit; seq++ {
		rec, err := ahead.next()
		if changed := j.pin.change(); changed != nil && err != nil {
			return changed // whatever the reader made of the bytes that changed
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		r.rec, r.seq, r.err = rec, seq, nil
		v := rowView{rec: &r.rec, cols: cols, dotted: j.dotted, promotions: j.promotions, keys: keys}
		var h effectHash
		if effects != nil {
			h = effects.start
		}
		err = j.cellProblem(rec)
		if err == nil && j.amounts != nil {
			err = j.amounts.check(rec)
		}
		if err == nil {
			uniq, h, err = j.kind.rows.check(v, p == passSend, uniq[:0], h, &r.item)
		}
		if err == nil {
			if e := rep.add(uniq, rec.Row); e != nil {
				err = e // a *RowError only when there is one: never a nil one in err
			}
		}
		if err != nil {
			var re *RowError
			if !errors.As(err, &re) {
				return err
			}
			r.err, r.item = re, Item{}
		} else {
			r.item.Seq, r.item.Row = seq, rowNumber(rec, j.rowCol)
			if effects != nil {
				r.item.EKey = effects.key(h)
			}
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

// open opens the job file for a pass (see pinnedFile.open); a pass that
// sends keeps the blocks it read for the report pass.
func (j *job) open(opts formats.Options, send bool) (formats.Reader, error) {
	if j.pin == nil {
		return formats.Open(j.path, opts)
	}
	r, err := j.pin.open(opts, send)
	if changed := j.pin.change(); err != nil && changed != nil {
		return nil, changed
	}
	return r, err
}

// rowNumber is a row's number: its row in the file, or, for a report fed
// back in (col >= 0, its row column), the row it had in the first file, so
// that a retried row keeps its number through every retry.
func rowNumber(rec formats.Record, col int) int {
	if col >= 0 && col < len(rec.Fields) {
		if n, err := strconv.Atoi(strings.TrimSpace(rec.Fields[col])); err == nil && n > 0 {
			return n
		}
	}
	return rec.Row
}

// cellProblem marks a row invalid when a column the job reads holds a cell
// that has no usable value (an error such as #N/A, a formula never
// calculated: read as blank or 0, it would be sent as what the user never
// wrote) or is longer than a spreadsheet keeps. Such cells in columns the
// job does not read are left alone, and copied to the reports.
func (j *job) cellProblem(rec formats.Record) error {
	for _, p := range rec.Problems {
		for col, i := range j.index {
			if i != p.Column || !j.kind.known(col) {
				continue
			}
			if _, set := j.overrides[col]; set {
				continue
			}
			return invalid(col, "UNUSABLE_CELL", "%s", p)
		}
	}
	return nil
}

// nearestKind says which kind a header that fits none comes nearest to, and
// which of its required columns the header may name otherwise: `the nearest
// is a devices job, which needs the column esn (did you mean esn for "ESN
// Number"?)`. It is "" when no kind has a column in the header or near one.
func nearestKind(header []string, index map[string]int) string {
	best, bestNear, bestMissing, bestKnown := "", []string(nil), []string(nil), -1
	for _, name := range KindNames() {
		k := KindByName(name)
		used := map[string]bool{}
		known := 0
		for col := range index {
			if k.known(col) {
				known++
				used[col] = true
			}
		}
		var missing, near []string
		unmatched := 0
		for _, c := range k.Required {
			if _, has := index[c]; has {
				continue
			}
			missing = append(missing, c)
			if h := nearHeader(c, header, k, used); h != "" {
				used[formats.NormalizeHeader(h)] = true
				near = append(near, fmt.Sprintf("%s for %q", c, h))
				continue
			}
			unmatched++
		}
		score := known + len(near) - unmatched
		if known+len(near) > 0 && score > bestKnown {
			best, bestNear, bestMissing, bestKnown = name, near, missing, score
		}
	}
	if best == "" {
		return ""
	}
	s := "the nearest is a " + best + " job, which needs the column"
	if len(bestMissing) > 1 {
		s += "s"
	}
	s += " " + strings.Join(bestMissing, ", ")
	if len(bestNear) > 0 {
		s += " (did you mean " + strings.Join(bestNear, ", ") + "?)"
	}
	return s
}

// nearHeader is the header cell that may name col otherwise: a near
// spelling ("ESN_no" for esn, "Billing System Customer ID" for
// billing_system_customer_identifier) or a name that has col as a word of
// its own ("ESN Number" for esn). Cells the kind reads, or used, are not.
func nearHeader(col string, header []string, k *Kind, used map[string]bool) string {
	split := func(s string) []string {
		return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
			return r == ' ' || r == '_' || r == '-' || r == '.' || r == '/'
		})
	}
	want := strings.Join(split(col), "")
	best, bestD := "", 0
	for _, h := range header {
		n := formats.NormalizeHeader(h)
		if n == "" || used[n] || k.known(n) {
			continue
		}
		words := split(n)
		d := EditDistance(strings.Join(words, ""), want)
		if len(split(col)) == 1 && contains(words, col) {
			d = 0
		}
		if d <= max(2, len(want)/3) && (best == "" || d < bestD) {
			best, bestD = h, d
		}
	}
	return best
}
