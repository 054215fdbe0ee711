package parquet

import (
	crand "crypto/rand"
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"slices"
)

// uuidGen makes random (version 4) UUIDs for _airbyte_ab_id. Reading
// crypto/rand once per row costs a syscall-backed read per row; a ChaCha8
// stream seeded from crypto/rand is a CSPRNG too and about 20x cheaper. One
// generator per Writer, so no locking.
type uuidGen struct {
	rng *rand.ChaCha8
}

func newUUIDGen() *uuidGen {
	var seed [32]byte
	_, _ = crand.Read(seed[:]) // documented never to return an error
	return &uuidGen{rng: rand.NewChaCha8(seed)}
}

// appendUUID appends a new UUID in its 36-character text form. It runs once
// per row, so it works on the two random words in registers and makes the
// hex digits eight at a time (hex8) rather than byte by byte: the text is
// that of the words' little-endian bytes, as hex.Encode of them would give.
func (g *uuidGen) appendUUID(dst []byte) []byte {
	lo, hi := g.rng.Uint64(), g.rng.Uint64()
	lo = lo&^(0xf0<<48) | 0x40<<48 // byte 6: version 4
	hi = hi&^0xc0 | 0x80           // byte 8: RFC 4122 variant
	n := len(dst)
	dst = slices.Grow(dst, 36)[:n+36]
	out := dst[n : n+36 : n+36]
	be := binary.BigEndian
	be.PutUint64(out[0:8], hex8(bits.ReverseBytes32(uint32(lo))))
	mid := hex8(bits.ReverseBytes32(uint32(lo >> 32)))
	be.PutUint32(out[9:13], uint32(mid>>32))
	be.PutUint32(out[14:18], uint32(mid))
	mid = hex8(bits.ReverseBytes32(uint32(hi)))
	be.PutUint32(out[19:23], uint32(mid>>32))
	be.PutUint32(out[24:28], uint32(mid))
	be.PutUint64(out[28:36], hex8(bits.ReverseBytes32(uint32(hi>>32))))
	out[8], out[13], out[18], out[23] = '-', '-', '-', '-'
	return dst
}

// hex8 returns the eight lowercase hex digits of x, most significant first
// when stored big-endian: the nibbles are spread one per byte, then each
// becomes '0'+n, plus 'a'-'0'-10 where n > 9.
func hex8(x uint32) uint64 {
	v := uint64(x)
	v = (v | v<<16) & 0x0000ffff0000ffff
	v = (v | v<<8) & 0x00ff00ff00ff00ff
	v = (v | v<<4) & 0x0f0f0f0f0f0f0f0f
	letters := (v + 0x0606060606060606) >> 4 & 0x0101010101010101
	return v + 0x3030303030303030 + letters*('a'-'0'-10)
}
