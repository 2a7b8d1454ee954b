package batch

import (
	"hash/maphash"
	"slices"
)

// repeats finds the rows whose unique values (a charge number, an ESN) an
// earlier row of the file had: those rows are invalid, the first one is not.
// The first whole read of a file only collects the values' hashes (8 bytes a
// value, appended: no cache miss) and sorts them at its end: the hashes seen
// twice are the suspects, few. Past maxKeys values it marks them in a Bloom
// filter of fixed size instead, so that memory stays flat whatever the file's
// size, and the values the filter may have seen before are suspects too. Every
// later read knows the suspects and tells the repeats exactly, keeping the
// first row of each suspect only. A first read reports no row repeated (see
// job.scan).
type repeats struct {
	h maphash.Hash
	// first read
	keys     []uint64
	bits     []uint64 // the Bloom filter, past maxKeys
	suspects map[uint64]bool
	// later reads
	known map[uint64]bool  // the suspects of the first read
	first map[uint64]int32 // suspect → its first row in this read
}

const (
	maxKeys    = 4_000_000 // hashes kept for sorting: 32 MB
	bloomWords = 1 << 21   // 16 MiB: 1 in 300 false suspects at 10M values
	blockWords = 8         // a block is one 64-byte cache line: one miss per value
)

// newRepeats starts a read; known are the suspects of the first read (nil: this
// is the first).
func newRepeats(seed maphash.Seed, known map[uint64]bool) *repeats {
	r := &repeats{known: known}
	r.h.SetSeed(seed)
	if known == nil {
		r.suspects = map[uint64]bool{}
	} else {
		r.first = map[uint64]int32{}
	}
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

// add takes a row's unique values and, on a later read, returns the error of
// the first one an earlier row had.
func (r *repeats) add(values []unique, row int) *RowError {
	for _, u := range values {
		key := r.hash(u)
		if r.known == nil {
			r.collect(key)
			continue
		}
		if !r.known[key] {
			continue
		}
		if first, dup := r.first[key]; dup {
			return invalid(u.Column, "DUPLICATE", "%q is also on row %d", u.Value, first)
		}
		r.first[key] = int32(row)
	}
	return nil
}

// collect keeps a hash of the first read.
func (r *repeats) collect(key uint64) {
	if r.bits == nil && len(r.keys) < maxKeys {
		r.keys = append(r.keys, key)
		return
	}
	if r.bits == nil {
		r.bits = make([]uint64, bloomWords)
		for _, k := range r.keys {
			if r.mark(k) {
				r.suspects[k] = true
			}
		}
		r.keys = nil
	}
	if r.mark(key) {
		r.suspects[key] = true
	}
}

// done ends the first read: the hashes kept that repeat are suspects.
func (r *repeats) done() map[uint64]bool {
	slices.Sort(r.keys)
	for i := 1; i < len(r.keys); i++ {
		if r.keys[i] == r.keys[i-1] {
			r.suspects[r.keys[i]] = true
		}
	}
	r.keys = nil
	return r.suspects
}

// mark sets key's four bits, all in one block, and reports whether they were
// all set already.
func (r *repeats) mark(key uint64) bool {
	block := (key % (bloomWords / blockWords)) * blockWords
	seen := true
	for i := range 4 {
		bit := (key >> (16 + 9*i)) & 511
		w, m := block+bit/64, uint64(1)<<(bit%64)
		if r.bits[w]&m == 0 {
			seen = false
			r.bits[w] |= m
		}
	}
	return seen
}
