package formats

import (
	"bytes"
	"math/rand"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestProbeSlow(t *testing.T) {
	names, _ := filepath.Glob("testdata/*.xlsx")
	rng := rand.New(rand.NewSource(1))
	for _, n := range names {
		seed, _ := os.ReadFile(n)
		for i := 0; i < 300; i++ {
			data := append([]byte(nil), seed...)
			for k := 0; k < 1+rng.Intn(4); k++ {
				if len(data) > 0 {
					data[rng.Intn(len(data))] = byte(rng.Intn(256))
				}
			}
			start := time.Now()
			r, err := newXLSXReader(bytes.NewReader(data), int64(len(data)), "f", Options{MaxXLSXBytes: 1 << 20}, nil)
			if err == nil {
				for {
					if _, err := r.Next(); err != nil {
						break
					}
				}
			}
			if d := time.Since(start); d > 50*time.Millisecond {
				t.Logf("%s mutation %d took %v (err %v)", n, i, d, err)
			}
		}
	}
}
