package kind

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/crmbatch/crmbatch/crm"
	"github.com/crmbatch/crmbatch/formats"
	"github.com/crmbatch/crmbatch/ledger"
	"github.com/crmbatch/crmbatch/pacer"
	"github.com/crmbatch/crmbatch/report"
)

// Kind describes one job kind: its columns, how a row is validated into an Item,
// how items are grouped into calls, and how a call is made and its answer mapped
// back to rows. A new job kind is one file in this package that builds a Kind.
type Kind struct {
	// Name is the --job value.
	Name string
	// Required columns must be in the header (or set by a flag).
	Required []string
	// Optional columns are known and validated when present.
	Optional []string
	// OptionalPrefixes are dotted column families (customer_address.) that are known.
	OptionalPrefixes []string
	// MaxChunk is the most rows one call carries.
	MaxChunk int
	// Outputs are the kind's output columns in the reports.
	Outputs []string
	// Sequential kinds make one call per row, in file order within a chunk.
	Sequential bool

	// Repeats says that a file may ask for the same effect more than once
	// (suspend, unsuspend, suspend): rows are then told apart by occurrence.
	Repeats bool

	// checkHeader refuses header columns the kind cannot use (nil = none).
	checkHeader func(cols []string) error
	// rows are the kind's rules for its rows, with their payload type (see spec).
	rows rules
}

// payload is the request data of one valid row, of its kind's own type.
type payload interface{ isPayload() }

// rules are a kind's rules for its rows, whatever their payload type: spec[P]
// implements them with P checked once, in one place.
type rules interface {
	// check validates one row as a pass reads it: its item (with its payload
	// only when keep: a pass that sends) into *it, the values that must not
	// repeat (appended to u) and h with what it does added.
	check(v Row, keep bool, u []Unique, h EffectHash, it *Item) ([]Unique, EffectHash, error)
	claims() bool
	claimKey(it Item) (key, detail string)
	intentNote(ctx context.Context, x Executor, items []Item) (string, error)
	call(ctx context.Context, x Executor, in Intent, items []Item) ([]Result, int, error)
}

// spec is what a kind says about its rows, each with a payload of type P.
type spec[P payload] struct {
	// read validates one row into an item and its payload. A *RowError marks
	// the row invalid.
	read func(v Row) (Item, P, error)
	// uniques appends to dst the values that must not repeat within a file
	// (nil = none).
	uniques func(p P, dst []Unique) []Unique
	// effectOf says what a row does (its action and the entity it acts on), the
	// same whatever else of the row is edited: the key an edited file's rows are
	// matched by.
	effectOf func(h EffectHash, it Item, p P) EffectHash
	// entity names what a row acts on that is final across every file and run
	// on an endpoint (a charge number), and a detail the ledger keeps with it
	// (its reference number); nil = none.
	entity func(p P) (key, detail string)
	// note is what the intent of a call of items records with it, before its
	// first send (see Item.Note); nil = nothing.
	note func(ctx context.Context, x Executor, items []Item, ps []P) (string, error)
	// send makes the call of one chunk of items (all with the same Key), whose
	// intent the run recorded (in), and returns one result per item, or the
	// error that failed the call as a whole, with the attempts made.
	send func(ctx context.Context, x Executor, in Intent, items []Item, ps []P) ([]Result, int, error)
}

func (s spec[P]) check(v Row, keep bool, u []Unique, h EffectHash, dst *Item) ([]Unique, EffectHash, error) {
	it, p, err := s.read(v)
	if err != nil {
		return u, h, err
	}
	if keep {
		it.payload = p // boxed only for a pass that sends: a pass that reads allocates nothing for it
	}
	if s.uniques != nil {
		u = s.uniques(p, u)
	}
	h = s.effectOf(h, it, p)
	*dst = it
	return u, h, nil
}

func (s spec[P]) claims() bool { return s.entity != nil }

func (s spec[P]) claimKey(it Item) (string, string) {
	if s.entity == nil {
		return "", ""
	}
	return s.entity(it.payload.(P))
}

// payloads are the payloads of items, of the kind's type.
func (s spec[P]) payloads(items []Item) []P {
	ps := make([]P, len(items))
	for i, it := range items {
		ps[i] = it.payload.(P)
	}
	return ps
}

func (s spec[P]) intentNote(ctx context.Context, x Executor, items []Item) (string, error) {
	if s.note == nil {
		return "", nil
	}
	return s.note(ctx, x, items, s.payloads(items))
}

func (s spec[P]) call(ctx context.Context, x Executor, in Intent, items []Item) ([]Result, int, error) {
	return s.send(ctx, x, in, items, s.payloads(items))
}

// Item is one valid input row, ready to be sent.
type Item struct {
	Seq     int      // 0-based ordinal of the row in the file
	Row     int      // source row number
	Action  string   // the row's action
	Key     string   // rows with equal keys may share a call
	Lanes   []string // rows that share a lane (a customer, a subscription) run in file order, never at once
	payload payload  // the kind's request data

	// EKey is the row's effect key (see Kind.effect), never 0.
	EKey uint64

	// Uncertain rows were sent by a run that stopped before it knew the outcome:
	// they may have been applied. Note is what that run recorded with the call's
	// intent: an installed-items call's transaction reference (replayed
	// unchanged), a subscription's state before the call.
	Uncertain bool
	Note      string
	// Since is the ledger's intent of the uncertain row's last call (0 =
	// not known). MovedOn says a call of its lanes came after that one and
	// may have changed them: a read-back of its customer proves nothing of
	// it either way.
	Since   int64
	MovedOn bool
	// Taken is the claim on the row's entity that this run took over from a
	// run that stopped before it knew what came of it (see claimer).
	Taken *ledger.Holder
}

// Unique is a column value that must appear once in a file; Scope, when set,
// narrows that to the rows that share it (the same serial number may be added,
// then moved). Fold compares the value as the server compares an identifier
// (see SameID).
type Unique struct {
	Column, Value, Scope string
	Fold                 bool
}

// RowError marks a row invalid: the column and what was expected.
type RowError struct {
	Column string
	Code   string
	Msg    string
}

func (e *RowError) Error() string {
	if e.Column == "" {
		return e.Msg
	}
	return fmt.Sprintf("column %s: %s", e.Column, e.Msg)
}

// Invalid is a RowError of column with code and a message.
func Invalid(column, code, format string, args ...any) *RowError {
	return &RowError{Column: column, Code: code, Msg: fmt.Sprintf(format, args...)}
}

// kinds is every job kind, in the order the help lists them.
var kinds = []*Kind{Devices, Charges, Subscriptions, InstalledItems}

// ByName returns the job kind of a --job value, or nil.
func ByName(name string) *Kind {
	for _, k := range kinds {
		if k.Name == name {
			return k
		}
	}
	return nil
}

// Names returns the job kind names, sorted.
func Names() []string {
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = k.Name
	}
	sort.Strings(names)
	return names
}

// Known reports whether a normalised column name belongs to the kind.
func (k *Kind) Known(col string) bool {
	for _, c := range k.Required {
		if c == col {
			return true
		}
	}
	for _, c := range k.Optional {
		if c == col {
			return true
		}
	}
	for _, p := range k.OptionalPrefixes {
		if strings.HasPrefix(col, p) {
			return true
		}
	}
	return false
}

// Row gives a kind's parser access to one record by normalised column name,
// with flag overrides applied.
type Row struct {
	rec    *formats.Record
	cols   *Columns
	dotted []string // dotted columns present in the header, in header order
	// promotions are the operator's promotion codes, when an endpoint was
	// there to ask (nil = not checked).
	promotions map[string]bool
	// keys are the chunk keys made so far (see key); nil = none kept.
	keys *ChunkKeys
}

// column is where a row's value of a column comes from: a flag that sets it
// for every row, or the record's field i.
type column struct {
	i     int
	set   bool
	value string
}

// Columns maps each normalised column name to where its value comes from.
// A job has few columns: a short list is searched in order, faster than a map
// for the few lookups every row makes.
type Columns struct {
	names  []string
	cols   []column
	byName map[string]column // when there are many
}

const columnListMax = 12

// ColumnsOf maps each normalised column name to where its value comes from:
// a flag first, else the header's index.
func ColumnsOf(index map[string]int, overrides map[string]string) *Columns {
	all := make(map[string]column, len(index)+len(overrides))
	for c, i := range index {
		all[c] = column{i: i}
	}
	for c, s := range overrides {
		all[c] = column{i: -1, set: true, value: s}
	}
	if len(all) > columnListMax {
		return &Columns{byName: all}
	}
	cs := &Columns{}
	for c, col := range all {
		cs.names = append(cs.names, c)
		cs.cols = append(cs.cols, col)
	}
	return cs
}

func (cs *Columns) find(name string) (column, bool) {
	if cs.byName != nil {
		c, ok := cs.byName[name]
		return c, ok
	}
	for i, n := range cs.names {
		if n == name {
			return cs.cols[i], true
		}
	}
	return column{}, false
}

// ChunkKeys remembers the last chunk key made from its parts: the rows of a
// file mostly share it, and a row that does gets it without a new string.
type ChunkKeys struct {
	parts []string
	key   string
}

// key joins parts with NUL bytes: the chunk key of a row.
func (v Row) key(parts ...string) string {
	m := v.keys
	if m == nil {
		return strings.Join(parts, "\x00")
	}
	if slices.Equal(m.parts, parts) {
		return m.key
	}
	m.parts = append(m.parts[:0], parts...)
	m.key = strings.Join(parts, "\x00")
	return m.key
}

// get returns the trimmed value of a column and whether the column exists.
func (v Row) get(col string) (string, bool) {
	c, ok := v.cols.find(col)
	switch {
	case !ok:
		return "", false
	case c.set:
		return c.value, true
	}
	return strings.TrimSpace(v.rec.Fields[c.i]), true
}

func (v Row) value(col string) string {
	s, _ := v.get(col)
	return s
}

func (v Row) kind(col string) formats.CellKind {
	c, ok := v.cols.find(col)
	switch {
	case !ok:
		return formats.Empty
	case c.set:
		return formats.Text
	case c.i < len(v.rec.Kinds):
		return v.rec.Kinds[c.i]
	}
	return formats.Empty
}

// required returns a non-empty value or a RowError.
func (v Row) required(col string) (string, error) {
	s := v.value(col)
	if s == "" {
		return "", Invalid(col, "REQUIRED", "a value is required")
	}
	return s, nil
}

// choice returns the value of an enumerated column, upper- or lower-cased as the
// API spells it, or def when empty.
func (v Row) choice(col, def string, allowed ...string) (string, error) {
	s := v.value(col)
	if s == "" {
		if def == "" {
			return "", Invalid(col, "REQUIRED", "a value is required: one of %s", strings.Join(allowed, ", "))
		}
		return def, nil
	}
	for _, a := range allowed {
		if s == a || strings.EqualFold(s, a) {
			return a, nil
		}
	}
	return "", Invalid(col, "INVALID_VALUE", "%q is not one of %s", s, strings.Join(allowed, ", "))
}

// Result is what happened to one item of a call.
type Result struct {
	Status   report.Status
	Code     string
	Message  string
	Attempts int
	Outputs  map[string]string
	// Kept, when set, is what the ledger keeps with a row's claim instead of
	// the row's own detail: the reference number the server kept (another
	// run's, whose claim this run took over).
	Kept *string
}

// CodeReadBack is the code of an ok row proven by reading back (or by the
// server's refusal of a replayed reference) rather than by its call's answer;
// the message says what the read showed.
const CodeReadBack = "CONFIRMED_BY_READ_BACK"

// FailedResult is the result of a row whose call ended in err: not recorded
// when the run stopped before the row was done (the report says NOT_SENT and a
// resume sends it), unknown when the call may have been applied, else failed.
func FailedResult(err error) Result {
	var ue *pacer.UnknownError
	if errors.As(err, &ue) {
		return Result{Status: report.StatusUnknown, Code: "UNKNOWN_OUTCOME", Message: ue.Error()}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, pacer.ErrStopped) {
		return Result{}
	}
	r := Result{Status: report.StatusFailed, Message: err.Error()}
	var ce *crm.Error
	if errors.As(err, &ce) {
		r.Code = ce.Code
		if r.Code == "" {
			r.Code = strings.ToUpper(ce.Class.String())
		}
		r.Message = ce.Message
		if r.Message == "" {
			r.Message = err.Error()
		}
	}
	return r
}

// EffectHash is the FNV-1a hash of the parts of a row's effect, each ended by
// a zero byte, made without allocating.
type EffectHash uint64

const (
	FNVOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// Add adds a part.
func (h EffectHash) Add(s string) EffectHash {
	x := uint64(h)
	for i := 0; i < len(s); i++ {
		x = (x ^ uint64(s[i])) * fnvPrime
	}
	return EffectHash(x * fnvPrime) // the zero byte that ends a part
}

// Check validates one row as a pass reads it (see rules.check).
func (k *Kind) Check(v Row, keep bool, u []Unique, h EffectHash, it *Item) ([]Unique, EffectHash, error) {
	return k.rows.check(v, keep, u, h, it)
}

// Claims reports whether the kind's rows act on entities that are final
// across every file and run on an endpoint (a charge): they are claimed in
// the ledger before they are sent.
func (k *Kind) Claims() bool { return k.rows.claims() }

// ClaimKey is the entity a row acts on and the detail the ledger keeps with
// its claim.
func (k *Kind) ClaimKey(it Item) (key, detail string) { return k.rows.claimKey(it) }

// Note is what the intent of a call of items records with it, before its
// first send: what a replay of the call needs (see Item.Note).
func (k *Kind) Note(ctx context.Context, x Executor, items []Item) (string, error) {
	return k.rows.intentNote(ctx, x, items)
}

// Send makes the call of one chunk of items through x, once the run
// recorded its intent (in).
func (k *Kind) Send(ctx context.Context, x Executor, in Intent, items []Item) ([]Result, int, error) {
	return k.rows.call(ctx, x, in, items)
}

// Intent is what the run recorded of a call before its first send: Ref is
// the call's transaction reference (for a call that carries one), Note what
// Kind.Note said of it.
type Intent struct {
	Ref, Note string
	ID        int64 // the ledger's number of the intent (0 = none recorded)
}

// CheckHeader refuses header columns the kind cannot use.
func (k *Kind) CheckHeader(cols []string) error {
	if k.checkHeader == nil {
		return nil
	}
	return k.checkHeader(cols)
}

// NewRow is one record seen through the job's columns: cols (a flag first,
// else the header's index), the dotted columns of the header in its order,
// the operator's promotion codes (nil = not checked) and the chunk keys made
// so far (nil = none kept).
func NewRow(rec *formats.Record, cols *Columns, dotted []string, promotions map[string]bool, keys *ChunkKeys) Row {
	return Row{rec: rec, cols: cols, dotted: dotted, promotions: promotions, keys: keys}
}

// Executor is the run's side of a kind's call: the logged-in client, the
// run's clock, its one entry for every call (Call: pace, retries and the
// lost answer; see pacer.Pacer.Call), and what the run knows of the server
// between calls. The intent of a call is not the kind's to record: the run
// records it before it hands the call to Kind.Send.
type Executor interface {
	Client() *crm.Client
	Now() time.Time
	Call(ctx context.Context, a pacer.Attempt) (int, error)
	// ReadBefore says to read a customer's subscription before its row when
	// the run does not know it (--read-before).
	ReadBefore() bool
	Memory() *Memory
	// Moved says whether a call of the item's lanes (its customer), of any
	// run, may have changed them since the call of intent since, the call of
	// intent now (the row's own, being read back) aside: read back after that,
	// its state proves nothing of it (ledger.MovedSince).
	Moved(ctx context.Context, it Item, since, now int64) bool
}

// Memory is what a run knows of the server between its calls: the state of
// the subscriptions after their rows, and what it saw of the charges lists.
type Memory struct {
	states  states
	sighted sightings
}

// sortedKeys lists the keys of m, sorted.
func sortedKeys(m map[string]bool) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ", ")
}
