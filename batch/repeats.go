package batch

import (
	"hash/maphash"
)

// repeats finds the rows whose unique values (a charge number, an ESN) an
// earlier row of the file had: those rows are invalid. It keeps the values
// seen in a map while the file is small; past maxExact values it switches to a
// Bloom filter of fixed size, so that memory stays flat whatever the file's
// size, and rows the filter may have seen are only suspects: a verifying read
// of the file (job.verifyRepeats) then tells which are repeats, once, and
// every later pass reads the answer (job.repeated).
type repeats struct {
	limit   int // values kept exactly before the switch
	seed    maphash.Seed
	h       maphash.Hash
	exact   map[uint64]int32 // value hash → its first row; nil after the switch
	bits    []uint64         // the Bloom filter, after the switch
	suspect map[uint64]bool  // hashes that may have been seen before
}

const (
	maxExact   = 1 << 20 // values kept exactly: about 20 MB
	bloomWords = 1 << 21 // 16 MiB of filter: 1 in 500 false suspects at 10M values
	bloomProbe = 4
)

func newRepeats(seed maphash.Seed, limit int) *repeats {
	if limit <= 0 {
		limit = maxExact
	}
	r := &repeats{limit: limit, seed: seed, exact: map[uint64]int32{}, suspect: map[uint64]bool{}}
	r.h.SetSeed(seed)
	return r
}

func (r *repeats) hash(u unique) uint64 {
	r.h.Reset()
	r.h.WriteString(u.Column)
	r.h.WriteByte(0)
	r.h.WriteString(u.Value)
	r.h.WriteByte(0)
	r.h.WriteString(u.Scope)
	return r.h.Sum64()
}

// add records a row's unique values and returns the error of the first one an
// earlier row had, when that is certain.
func (r *repeats) add(values []unique, row int) *RowError {
	for _, u := range values {
		key := r.hash(u)
		if r.exact != nil {
			if first, dup := r.exact[key]; dup {
				r.suspect[key] = true
				return invalid(u.Column, "DUPLICATE", "%q is also on row %d", u.Value, first)
			}
			r.exact[key] = int32(row)
			if len(r.exact) >= r.limit {
				r.toFilter()
			}
			continue
		}
		if r.mark(key) {
			r.suspect[key] = true
		}
	}
	return nil
}

// overflowed reports whether some rows could only be suspected.
func (r *repeats) overflowed() bool { return r.exact == nil }

// toFilter moves the values kept exactly into the Bloom filter.
func (r *repeats) toFilter() {
	r.bits = make([]uint64, bloomWords)
	for key := range r.exact {
		r.mark(key)
	}
	r.exact = nil
}

// mark sets key's bits and reports whether they were all set already.
func (r *repeats) mark(key uint64) bool {
	h1, h2 := key, key>>32|1
	seen := true
	for i := range uint64(bloomProbe) {
		bit := (h1 + i*h2) % (bloomWords * 64)
		w, m := bit/64, uint64(1)<<(bit%64)
		if r.bits[w]&m == 0 {
			seen = false
			r.bits[w] |= m
		}
	}
	return seen
}

// verified is what a verifying read found: the rows whose unique values an
// earlier row had, by seq.
type verified map[int]*RowError

// verifier tells suspects apart on a read of the whole file: it keeps the
// first row of each suspect hash only.
type verifier struct {
	r     *repeats
	first map[uint64]int32
	found verified
}

func (r *repeats) verifier() *verifier {
	return &verifier{r: r, first: map[uint64]int32{}, found: verified{}}
}

func (v *verifier) add(values []unique, seq, row int) {
	for _, u := range values {
		key := v.r.hash(u)
		if !v.r.suspect[key] {
			continue
		}
		if first, dup := v.first[key]; dup {
			v.found[seq] = invalid(u.Column, "DUPLICATE", "%q is also on row %d", u.Value, first)
			return
		}
		v.first[key] = int32(row)
	}
}
