package jobfile

import (
	"hash/maphash"

	"github.com/crmbatch/crmbatch/kind"
)

// repeats finds the rows whose unique values (a charge number, an ESN) an
// earlier row of the file had: those rows are invalid, the first one is not.
// The first whole read of a file only collects the values' hashes (8 bytes a
// value, appended to blocks that are never copied as they grow: no cache
// miss) and at its end spreads them by their top bits into buckets that fit
// in a cache, each checked apart in a small hash table: the hashes seen twice
// are the suspects, few. Past maxKeys values it marks them in a Bloom filter
// of fixed size instead, so that memory stays flat whatever the file's
// size, and the values the filter may have seen before are suspects too. Every
// later read knows the suspects and tells the repeats exactly, keeping the
// first row of each suspect only. A first read reports no row repeated (see
// job.scan).
type repeats struct {
	seed maphash.Seed
	h    maphash.Hash
	// the column and scope of the last value, and their hash
	column, scope string
	where         uint64
	// first read
	keys     [][]uint64 // blocks of at most keyBlock hashes
	nkeys    int
	bits     []uint64 // the Bloom filter, past maxKeys
	suspects map[uint64]bool
	// later reads
	known map[uint64]bool  // the suspects of the first read
	first map[uint64]int32 // suspect → its first row in this read
}

const (
	maxKeys    = 2_000_000 // hashes kept to find the repeats exactly: 16 MB (twice at the end)
	keyBlock   = 1 << 14   // hashes in a full block: 128 KiB
	bucketBits = 11        // the top bits that spread the hashes into buckets
	bloomWords = 1 << 21   // 16 MiB: 1 in 300 false suspects at 10M values
	blockWords = 8         // a block is one 64-byte cache line: one miss per value
)

// newRepeats starts a read; known are the suspects of the first read (nil: this
// is the first).
func newRepeats(seed maphash.Seed, known map[uint64]bool) *repeats {
	r := &repeats{known: known, seed: seed}
	r.h.SetSeed(seed)
	if known == nil {
		r.suspects = map[uint64]bool{}
	} else {
		r.first = map[uint64]int32{}
	}
	return r
}

// hash is the hash of a unique value in its column and scope: the value's own
// hash mixed with that of where it is (the same for most rows: kept).
func (r *repeats) hash(u kind.Unique) uint64 {
	if u.Column != r.column || u.Scope != r.scope || r.where == 0 {
		r.h.Reset()
		r.h.WriteString(u.Column)
		r.h.WriteByte(0)
		r.h.WriteString(u.Scope)
		r.column, r.scope, r.where = u.Column, u.Scope, r.h.Sum64()|1
	}
	value := u.Value
	if u.Fold {
		value = kind.SameID(value)
	}
	v := maphash.String(r.seed, value)
	// Never 0, which marks a free slot in done's tables.
	return (v^r.where)*0x9e3779b97f4a7c15 | 1
}

// add takes a row's unique values and, on a later read, returns the error of
// the first one an earlier row had.
func (r *repeats) add(values []kind.Unique, row int) *kind.RowError {
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
			if u.Fold && kind.SameID(u.Value) != u.Value {
				return kind.Invalid(u.Column, "DUPLICATE", "%q is also on row %d, in another case (the server takes identifiers that differ only in case as one)", u.Value, first)
			}
			return kind.Invalid(u.Column, "DUPLICATE", "%q is also on row %d", u.Value, first)
		}
		r.first[key] = int32(row)
	}
	return nil
}

// collect keeps a hash of the first read.
func (r *repeats) collect(key uint64) {
	if r.bits == nil && r.nkeys < maxKeys {
		last := len(r.keys) - 1
		if last < 0 || len(r.keys[last]) == cap(r.keys[last]) {
			// Blocks grow with the file up to keyBlock: a small file keeps
			// small ones.
			r.keys = append(r.keys, make([]uint64, 0, min(keyBlock, max(256, r.nkeys))))
			last++
		}
		r.keys[last] = append(r.keys[last], key)
		r.nkeys++
		return
	}
	if r.bits == nil {
		r.bits = make([]uint64, bloomWords)
		for _, block := range r.keys {
			for _, k := range block {
				if r.mark(k) {
					r.suspects[k] = true
				}
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
	if r.bits != nil {
		return r.suspects // the Bloom filter found them as they came
	}
	const buckets = 1 << bucketBits
	var start [buckets + 1]int
	for _, block := range r.keys {
		for _, k := range block {
			start[k>>(64-bucketBits)+1]++
		}
	}
	for b := 1; b <= buckets; b++ {
		start[b] += start[b-1]
	}
	all := make([]uint64, r.nkeys)
	next := start
	for i, block := range r.keys {
		for _, k := range block {
			b := k >> (64 - bucketBits)
			all[next[b]] = k
			next[b]++
		}
		r.keys[i] = nil // let go as soon as spread
	}
	r.keys = nil
	var table []uint64
	for b := range buckets {
		part := all[start[b]:start[b+1]]
		// A bucket is a few hundred hashes: an open-addressing table twice
		// its size, in the cache, finds the repeats faster than sorting.
		size := 16
		for size < 2*len(part) {
			size *= 2
		}
		if cap(table) < size {
			table = make([]uint64, size)
		}
		table = table[:size]
		clear(table)
		mask := uint64(size - 1)
		for _, k := range part {
			for i := (k * 0x9e3779b97f4a7c15) >> 32 & mask; ; i = (i + 1) & mask {
				if table[i] == 0 {
					table[i] = k
					break
				}
				if table[i] == k {
					r.suspects[k] = true
					break
				}
			}
		}
	}
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
