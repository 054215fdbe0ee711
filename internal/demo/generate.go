package demo

import (
	"crypto/sha256"
	"math/rand/v2"
	"strconv"
	"time"
)

// Options sizes and anchors the generated data.
type Options struct {
	// Rows is the number of farmarcas_si_analitico_diario rows; produtos
	// gets max(1000, Rows/100) and complemento Rows*6/10.
	Rows int
	// Days spreads Data over the last Days days before Now (default 7).
	Days int
	// Now anchors the dates (default: the current time). The same Seed and
	// Now give the same rows.
	Now  time.Time
	Seed int64
}

// Counts is how many rows Fill wrote per table.
type Counts struct {
	Diario, Produtos, Complemento int64
}

// sizes derives the three row counts from Rows.
func (o Options) sizes() Counts {
	return Counts{Diario: int64(o.Rows), Produtos: int64(max(1000, o.Rows/100)), Complemento: int64(o.Rows) * 6 / 10}
}

// supplier is a distributor: CNPJ and trade name.
type supplier struct{ cnpj, name string }

// world is the data every row draws from: the pools, fixed per seed.
type world struct {
	opts       Options
	counts     Counts
	today      time.Time
	pharmacies []string // CNPJs
	suppliers  []supplier
}

const (
	nPharmacies = 5000
	nSuppliers  = 300
)

func newWorld(opts Options) *world {
	if opts.Days <= 0 {
		opts.Days = 7
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	now := opts.Now.UTC()
	w := &world{opts: opts, counts: opts.sizes(), today: time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)}
	r := rand.New(rand.NewPCG(uint64(opts.Seed), 0x9e3779b97f4a7c15))
	seen := map[string]bool{}
	for len(w.pharmacies) < nPharmacies {
		c := makeCNPJ(r, 1+r.IntN(40))
		if !seen[c] {
			seen[c] = true
			w.pharmacies = append(w.pharmacies, c)
		}
	}
	for len(w.suppliers) < nSuppliers {
		c := makeCNPJ(r, 1)
		if seen[c] {
			continue
		}
		seen[c] = true
		name := pick(r, fornPrefix) + " " + pick(r, fornSuffix) + " " + strconv.Itoa(len(w.suppliers)+1) + " " + pick(r, fornEnding)
		w.suppliers = append(w.suppliers, supplier{c, name})
	}
	return w
}

// batchRand is the random stream of one batch of one table: independent of
// how batches are spread over workers, so output is deterministic.
func (w *world) batchRand(table int, batch int64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(w.opts.Seed)^uint64(table)<<56, uint64(batch)*0x9e3779b97f4a7c15+1))
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// makeCNPJ builds a valid CNPJ: an 8-digit root, a 4-digit branch number
// and the two check digits.
func makeCNPJ(r *rand.Rand, branch int) string {
	b := make([]byte, 0, 14)
	b = appendPadded(b, int64(10_000_000+r.IntN(89_999_999)), 8)
	b = appendPadded(b, int64(branch), 4)
	d1, d2 := cnpjCheckDigits(string(b))
	return string(append(b, '0'+d1, '0'+d2))
}

// productEAN is product k's EAN-13: Brazil's 789 prefix, 9 digits that are
// a bijection of k, and the check digit. Unique per k below 10^9.
func productEAN(k int64) string {
	b := make([]byte, 0, 13)
	b = append(b, '7', '8', '9')
	b = appendPadded(b, (k*7919+104729)%1_000_000_000, 9)
	return string(append(b, '0'+ean13CheckDigit(string(b))))
}

// chaveNFe builds a 44-digit access key: UF, AAMM, issuer CNPJ, model 55,
// series, number, emission type, random code, check digit.
func chaveNFe(r *rand.Rand, uf string, t time.Time, cnpj string, nf int64) string {
	b := make([]byte, 0, 44)
	b = appendPadded(b, int64(ufCodes[uf]), 2)
	b = appendPadded(b, int64(t.Year()%100), 2)
	b = appendPadded(b, int64(t.Month()), 2)
	b = append(b, cnpj...)
	b = append(b, '5', '5')
	b = appendPadded(b, int64(1+r.IntN(3)), 3)
	b = appendPadded(b, nf, 9)
	b = append(b, '1')
	b = appendPadded(b, int64(r.IntN(100_000_000)), 8)
	return string(append(b, '0'+mod11CheckDigit(string(b))))
}

func xmlHash(key string) [32]byte { return sha256.Sum256([]byte(key)) }

// appendPadded appends v in decimal, zero-padded to width.
func appendPadded(b []byte, v int64, width int) []byte {
	var tmp [20]byte
	s := strconv.AppendInt(tmp[:0], v, 10)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// appendFixed appends v / 10^scale with exactly scale decimals.
func appendFixed(b []byte, v int64, scale int) []byte {
	if v < 0 {
		b = append(b, '-')
		v = -v
	}
	p := int64(1)
	for i := 0; i < scale; i++ {
		p *= 10
	}
	b = strconv.AppendInt(b, v/p, 10)
	if scale > 0 {
		b = append(b, '.')
		b = appendPadded(b, v%p, scale)
	}
	return b
}

func appendDate(b []byte, t time.Time) []byte {
	b = appendPadded(b, int64(t.Year()), 4)
	b = append(b, '-')
	b = appendPadded(b, int64(t.Month()), 2)
	b = append(b, '-')
	return appendPadded(b, int64(t.Day()), 2)
}

func appendDateTime(b []byte, t time.Time) []byte {
	b = appendDate(b, t)
	b = append(b, ' ')
	b = appendPadded(b, int64(t.Hour()), 2)
	b = append(b, ':')
	b = appendPadded(b, int64(t.Minute()), 2)
	b = append(b, ':')
	return appendPadded(b, int64(t.Second()), 2)
}
