package jobfile

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/crmbatch/crmbatch/formats"
)

// Pinned is a job file held open by one handle for the whole run, so that
// every pass reads the file that was validated: a file replaced under its
// name (mv) is not read, and one changed in place (cat other.csv > job.csv,
// : > job.csv) is found out. Each block is hashed as it is read; the first
// read of a block (pass 1, or the hash of the whole file beside it) records
// its hash, and every later read must match it, or the read fails with a
// *ChangedError before any byte of the new content reaches a row. Reads end
// at the size the file had when opened: rows appended since are not read.
//
// The blocks the sending pass verified last are kept (up to pinKept) for the
// report pass, which reads behind it: a row that was sent is reported with
// what was sent even when the file changed after it was read.
type Pinned struct {
	path string
	f    *os.File
	size int64

	mu      sync.Mutex
	sums    [][sha256.Size]byte
	known   []bool
	kept    map[int64][]byte // by block
	order   []int64          // kept's blocks, oldest first
	changed error            // the first change found
}

const (
	pinBlock = 256 << 10 // bytes hashed at a time
	pinKept  = 16        // blocks of the sending pass kept for the report pass (4 MiB)
)

// Pin opens the job file at path and returns it with what it was when
// opened.
func Pin(path string) (*Pinned, os.FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	blocks := (info.Size() + pinBlock - 1) / pinBlock
	return &Pinned{path: path, f: f, size: info.Size(), sums: make([][sha256.Size]byte, blocks),
		known: make([]bool, blocks), kept: map[int64][]byte{}}, info, nil
}

// Close lets the file go.
func (p *Pinned) Close() error {
	if p == nil {
		return nil
	}
	return p.f.Close()
}

// open opens a reader of the pinned file for a pass; a sending pass (keep)
// keeps the blocks it read for the report pass.
func (p *Pinned) open(opts formats.Options, keep bool) (formats.Reader, error) {
	return formats.OpenAt(&pinView{p: p, keep: keep, cur: -1}, p.size, p.path, opts)
}

// Change is the first change found in the file, or nil.
func (p *Pinned) Change() error {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.changed
}

// SHA256 hashes the file as pinned; it stops when ctx is done.
func (p *Pinned) SHA256(ctx context.Context) (string, error) {
	h := sha256.New()
	r := io.NewSectionReader(&pinView{p: p, cur: -1}, 0, p.size)
	buf := make([]byte, pinBlock)
	for {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		n, err := r.Read(buf)
		h.Write(buf[:n])
		if err == io.EOF {
			return hex.EncodeToString(h.Sum(nil)), nil
		}
		if err != nil {
			return "", err
		}
	}
}

// verify checks a block's hash against the one recorded by its first read,
// or records it.
func (p *Pinned) verify(k int64, sum [sha256.Size]byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.changed != nil {
		return p.changed
	}
	if !p.known[k] {
		p.sums[k], p.known[k] = sum, true
		return nil
	}
	if p.sums[k] != sum {
		p.changed = &ChangedError{path: p.path, at: k * pinBlock, how: "its bytes are not the ones validated"}
		return p.changed
	}
	return nil
}

// Cut records that the file ends before its pinned size.
func (p *Pinned) Cut(at int64) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.changed == nil {
		p.changed = &ChangedError{path: p.path, at: at, how: fmt.Sprintf("it was cut short: %d bytes when validated", p.size)}
	}
	return p.changed
}

func (p *Pinned) keep(k int64, b []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.kept[k]; ok {
		return
	}
	if len(p.order) == pinKept {
		delete(p.kept, p.order[0])
		p.order = p.order[1:]
	}
	p.kept[k] = b
	p.order = append(p.order, k)
}

func (p *Pinned) keptBlock(k int64) ([]byte, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	b, ok := p.kept[k]
	return b, ok
}

// pinView reads a pinned file a block at a time, each block verified.
type pinView struct {
	p    *Pinned
	keep bool
	cur  int64 // the block in buf; -1 = none
	buf  []byte
	own  bool // buf is the view's own, to reuse (not a kept block)
}

func (v *pinView) ReadAt(b []byte, off int64) (int, error) {
	n := 0
	for n < len(b) {
		if off >= v.p.size {
			return n, io.EOF
		}
		k := off / pinBlock
		blk, err := v.block(k)
		if err != nil {
			return n, err
		}
		m := copy(b[n:], blk[off-k*pinBlock:])
		n += m
		off += int64(m)
	}
	return n, nil
}

// block returns block k as validated: kept by the sending pass, or read from
// the file and checked against its hash.
func (v *pinView) block(k int64) ([]byte, error) {
	if v.cur == k {
		return v.buf, nil
	}
	if !v.keep {
		if b, ok := v.p.keptBlock(k); ok {
			v.cur, v.buf, v.own = k, b, false
			return b, nil
		}
	}
	size := min(int64(pinBlock), v.p.size-k*pinBlock)
	buf := v.buf
	if v.keep || !v.own || int64(cap(buf)) < size {
		buf = make([]byte, size) // a kept block is never written again
	}
	buf = buf[:size]
	n, err := v.p.f.ReadAt(buf, k*pinBlock)
	if int64(n) < size {
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		return nil, v.p.Cut(k*pinBlock + int64(n))
	}
	if err := v.p.verify(k, sha256.Sum256(buf)); err != nil {
		return nil, err
	}
	if v.keep {
		v.p.keep(k, buf)
	}
	v.cur, v.buf, v.own = k, buf, !v.keep
	return buf, nil
}

// ChangedError says that a job file changed in place while it was run.
type ChangedError struct {
	path string
	at   int64
	how  string
}

func (e *ChangedError) Error() string {
	return fmt.Sprintf("%s changed in place while crmbatch was running it (from byte %d, %s): no row of the new content was sent; the rows sent before are in the reports with what was sent",
		e.path, e.at, e.how)
}

// Hint says what to do about the change.
func (e *ChangedError) Hint() string {
	return "do not rewrite a job file while it runs (write to a temporary name, then rename); put the file back as it was and run the same command to go on with it"
}
