package jobfile

import (
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/crmbatch/crmbatch/fault"
	"github.com/crmbatch/crmbatch/formats"
	"github.com/crmbatch/crmbatch/kind"
	"github.com/crmbatch/crmbatch/report"
)

// File is a job file opened for its passes: the kind, the header and how
// each column maps to what the kind reads.
type File struct {
	Path      string
	Opts      formats.Options
	Kind      *kind.Kind
	Header    []string // original header texts
	Index     map[string]int
	dotted    []string
	Overrides map[string]string
	ChunkSize int
	// Promotions are the operator's promotion codes (nil = not checked).
	Promotions map[string]bool
	// seed hashes the unique values of every read alike; suspects are the
	// values the first whole read found may repeat (nil before it), and
	// Suspected says it found some: that read reported their rows valid.
	Protect   bool // a password-protected workbook: its reports are protected too
	seed      maphash.Seed
	suspects  map[uint64]bool
	Suspected bool
	// Unused are the header's columns the job does not read.
	Unused []report.UnusedColumn
	// RowCol is the row column of a report fed back in (-1 = none): a row's
	// number in the first file, which it keeps through every retry.
	RowCol int
	// Pin is the file held open for the run (nil: read by path).
	Pin *Pinned
	// Amounts are a charges job's amount columns (nil: none): see
	// LearnAmounts.
	Amounts *report.Amounts
}

// Open reads the header of the file, works out the kind (from --job or the
// header) and checks that the required columns are there.
func Open(path, jobName string, opts formats.Options, overrides map[string]string, chunkSize int) (*File, error) {
	return OpenPinned(nil, path, jobName, opts, overrides, chunkSize)
}

// OpenPinned is Open of a file held open (pin; nil: by path), which
// every pass then reads.
func OpenPinned(pin *Pinned, path, jobName string, opts formats.Options, overrides map[string]string, chunkSize int) (*File, error) {
	j := &File{Path: path, Pin: pin, Opts: opts, Index: map[string]int{}, Overrides: overrides, seed: maphash.MakeSeed(), RowCol: -1}
	r, err := j.open(opts, false)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	j.Header = r.Header()
	ignored := map[string]bool{}
	for _, c := range report.Columns {
		ignored[c] = true
	}
	for i, h := range j.Header {
		n := formats.NormalizeHeader(h)
		if n == "" {
			continue
		}
		j.Index[n] = i
		if n == "row" && j.RowCol < 0 {
			j.RowCol = i
		}
	}
	// A whole-file error names the sheet and row the header was read from,
	// and another sheet of the workbook that holds a job.
	place := func(err error) error {
		var fe *fault.FileError
		if errors.As(err, &fe) {
			if fe.Msg == "" && fe.Err != nil {
				fe.Msg = fe.Err.Error() // said where, in the user's words; Err stays the cause
			}
			fe.Msg = headerPlace(r) + fe.Msg
			if other := otherSheet(r, path, opts, jobName); other != "" {
				fe.Fix = fmt.Sprintf("sheet %q fits a job: pass --sheet %q", other, other)
			}
		}
		return err
	}
	if jobName == "" {
		if j.Kind, err = detectKind(path, j.Header, j.Index); err != nil {
			return nil, place(err)
		}
	} else if j.Kind = kind.ByName(jobName); j.Kind == nil {
		return nil, &fault.UsageError{Msg: fmt.Sprintf("unknown --job %q: one of %s", jobName, strings.Join(kind.Names(), ", "))}
	}
	k := j.Kind
	// Output columns of a results or failures report fed back in are not input.
	for _, c := range k.Outputs {
		ignored[c] = true
	}
	for n := range j.Index {
		if ignored[n] && !slices.Contains(k.Required, n) {
			delete(j.Index, n)
		}
	}
	if err := j.checkColumns(); err != nil {
		return nil, place(err)
	}
	for c := range overrides {
		if !k.Known(c) {
			return nil, &fault.UsageError{Msg: fmt.Sprintf("a %s job has no column %s to set from a flag", k.Name, c)}
		}
	}
	if chunkSize > k.MaxChunk {
		return nil, &fault.UsageError{Msg: fmt.Sprintf("--chunk-size %d is above the %s maximum of %d rows per call", chunkSize, k.Name, k.MaxChunk)}
	}
	j.ChunkSize = k.MaxChunk
	if chunkSize > 0 {
		j.ChunkSize = chunkSize
	}
	return j, nil
}

// checkColumns checks the header against the job's kind: every required
// column is there (or set by a flag), and the kind's own check passes; it
// notes the dotted columns and those the job does not read.
func (j *File) checkColumns() error {
	k := j.Kind
	var missing []string
	for _, c := range k.Required {
		if _, ok := j.Index[c]; !ok {
			if _, ok := j.Overrides[c]; !ok {
				missing = append(missing, c)
			}
		}
	}
	if len(missing) > 0 {
		return &fault.FileError{File: j.Path, Msg: fmt.Sprintf("the header has no column %s, which a %s job needs", strings.Join(missing, ", "), k.Name),
			Fix: fmt.Sprintf("a %s job has the columns %s (required) and %s", k.Name, strings.Join(k.Required, ", "), strings.Join(k.Optional, ", "))}
	}
	j.Unused = unusedColumns(k, j.Header)
	cols := make([]string, 0, len(j.Index))
	for n := range j.Index {
		cols = append(cols, n)
	}
	sort.Slice(cols, func(a, b int) bool { return j.Index[cols[a]] < j.Index[cols[b]] })
	for _, n := range cols {
		if strings.Contains(n, ".") && k.Known(n) {
			j.dotted = append(j.dotted, n)
		}
	}
	if err := k.CheckHeader(cols); err != nil {
		return &fault.FileError{File: j.Path, Err: err}
	}
	return nil
}

// detectKind picks the job kind that fits the header best: of the kinds whose
// required columns are all there, the one that knows the most of its columns. It
// is an error when none fits, or when two fit equally well.
func detectKind(path string, header []string, index map[string]int) (*kind.Kind, error) {
	var fits []*kind.Kind
	best := -1
	for _, name := range kind.Names() {
		k := kind.ByName(name)
		score := 0
		for col := range index {
			if k.Known(col) {
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
			best, fits = score, []*kind.Kind{k}
		default:
			fits = append(fits, k)
		}
	}
	switch len(fits) {
	case 1:
		return fits[0], nil
	case 0:
		hint := "pass --job " + strings.Join(kind.Names(), "|") + " to be told which columns are missing"
		if near := nearestKind(header, index); near != "" {
			return nil, &fault.FileError{File: path, Msg: "the header fits no job kind; " + near, Fix: "rename the column, or " + hint}
		}
		return nil, &fault.FileError{File: path, Msg: "the header fits no job kind", Fix: hint}
	default:
		names := make([]string, len(fits))
		for i, k := range fits {
			names[i] = k.Name
		}
		return nil, &fault.FileError{File: path, Msg: "the header fits several job kinds: " + strings.Join(names, ", "), Fix: "pass --job to say which"}
	}
}

// Row is one record of a pass with what validation made of it.
type Row struct {
	Rec  formats.Record
	Seq  int
	Item kind.Item
	Err  *kind.RowError // non-nil: the row is invalid
}

// Scan reads the file from the start and calls fn for every row, validated, up
// to limit rows (0 = all). Validation is deterministic, so every pass sees the
// same statuses and effect keys, but for repeated values: the first whole read
// only finds which values may repeat (see repeats) and reports none; every
// later read tells the repeats exactly. suspected says that a read was a first
// one that found suspects. The items have no payload: see scanToSend.
func (j *File) Scan(limit int, fn func(r *Row) error) error {
	return j.scanRows(limit, passPlan, fn)
}

// ScanToSend is scan for the pass that sends: its items carry their payload.
func (j *File) ScanToSend(limit int, fn func(r *Row) error) error {
	return j.scanRows(limit, passSend, fn)
}

// ScanToReport is scan for the pass that writes the reports: its items have no
// effect key (the counting of repeated effects costs memory by the row).
func (j *File) ScanToReport(limit int, fn func(r *Row) error) error {
	return j.scanRows(limit, passReport, fn)
}

// pass is what a read of the file gives each valid row.
type pass uint8

const (
	passPlan   pass = iota // effect keys
	passSend               // effect keys and payloads
	passReport             // neither
)

func (j *File) scanRows(limit int, p pass, fn func(r *Row) error) error {
	rep := newRepeats(j.seed, j.suspects)
	err := j.read(limit, p, rep, fn)
	if err == nil && limit == 0 && j.suspects == nil {
		j.suspects = rep.done()
		j.Suspected = len(j.suspects) > 0
	}
	return err
}

// read reads the file from the start, validates each record into a row, lets
// rep find the values repeated (what only the file as a whole tells), gives
// each valid row its effect key, and calls fn. The row's record is valid
// until fn returns; its item's strings stay valid.
func (j *File) read(limit int, p pass, rep *repeats, fn func(r *Row) error) error {
	opts := j.Opts
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
		effects = newEffects(j.Kind)
	}
	cols := kind.ColumnsOf(j.Index, j.Overrides)
	keys := &kind.ChunkKeys{}
	var uniq []kind.Unique
	r := &Row{} // one for every row: fn is done with it when it returns
	for seq := 0; limit == 0 || seq < limit; seq++ {
		rec, err := ahead.next()
		if changed := j.Pin.Change(); changed != nil && err != nil {
			return changed // whatever the reader made of the bytes that changed
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		r.Rec, r.Seq, r.Err = rec, seq, nil
		v := kind.NewRow(&r.Rec, cols, j.dotted, j.Promotions, keys)
		var h kind.EffectHash
		if effects != nil {
			h = effects.start
		}
		err = j.cellProblem(rec)
		if err == nil && j.Amounts != nil {
			if msg := j.Amounts.Ambiguous(rec); msg != "" {
				err = kind.Invalid("amount", report.CodeAmbiguousAmount, "%s", msg)
			}
		}
		if err == nil {
			uniq, h, err = j.Kind.Check(v, p == passSend, uniq[:0], h, &r.Item)
		}
		if err == nil {
			if e := rep.add(uniq, rec.Row); e != nil {
				err = e // a *RowError only when there is one: never a nil one in err
			}
		}
		if err != nil {
			var re *kind.RowError
			if !errors.As(err, &re) {
				return err
			}
			r.Err, r.Item = re, kind.Item{}
		} else {
			r.Item.Seq, r.Item.Row = seq, RowNumber(rec, j.RowCol)
			if effects != nil {
				r.Item.EKey = effects.key(h)
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
func (j *File) open(opts formats.Options, send bool) (formats.Reader, error) {
	if j.Pin == nil {
		return formats.Open(j.Path, opts)
	}
	r, err := j.Pin.open(opts, send)
	if changed := j.Pin.Change(); err != nil && changed != nil {
		return nil, changed
	}
	return r, err
}

// RowNumber is a row's number: its row in the file, or, for a report fed
// back in (col >= 0, its row column), the row it had in the first file, so
// that a retried row keeps its number through every retry.
func RowNumber(rec formats.Record, col int) int {
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
func (j *File) cellProblem(rec formats.Record) error {
	for _, p := range rec.Problems {
		for col, i := range j.Index {
			if i != p.Column || !j.Kind.Known(col) {
				continue
			}
			if _, set := j.Overrides[col]; set {
				continue
			}
			return kind.Invalid(col, "UNUSABLE_CELL", "%s", p)
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
	for _, name := range kind.Names() {
		k := kind.ByName(name)
		used := map[string]bool{}
		known := 0
		for col := range index {
			if k.Known(col) {
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
func nearHeader(col string, header []string, k *kind.Kind, used map[string]bool) string {
	split := func(s string) []string {
		return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
			return r == ' ' || r == '_' || r == '-' || r == '.' || r == '/'
		})
	}
	want := strings.Join(split(col), "")
	best, bestD := "", 0
	for _, h := range header {
		n := formats.NormalizeHeader(h)
		if n == "" || used[n] || k.Known(n) {
			continue
		}
		words := split(n)
		d := EditDistance(strings.Join(words, ""), want)
		if len(split(col)) == 1 && slices.Contains(words, col) {
			d = 0
		}
		if d <= max(2, len(want)/3) && (best == "" || d < bestD) {
			best, bestD = h, d
		}
	}
	return best
}

// effects gives each valid row of a pass its effect key: a hash of what the row
// does (Kind.effect) and, for kinds whose effects repeat in a file, of how many
// times the file asked for it before. The same row of an edited file gets the
// same key.
type effects struct {
	kind  *kind.Kind
	start kind.EffectHash   // the hash of the kind's name, where every row's begins
	seen  map[uint64]uint32 // repeating kinds: effect → occurrences so far
}

func newEffects(k *kind.Kind) *effects {
	e := &effects{kind: k, start: kind.EffectHash(kind.FNVOffset).Add(k.Name)}
	if k.Repeats {
		e.seen = map[uint64]uint32{}
	}
	return e
}

// key is the effect key of a valid row whose effect hashed to h (begun at
// e.start, see rules.check).
func (e *effects) key(h kind.EffectHash) uint64 {
	if e.seen != nil {
		n := e.seen[uint64(h)]
		e.seen[uint64(h)] = n + 1
		h = h.Add(string([]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}))
	}
	return max(uint64(h), 1)
}
