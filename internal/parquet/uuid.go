package parquet

import (
	crand "crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"math/rand/v2"
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

// appendUUID appends a new UUID in its 36-character text form.
func (g *uuidGen) appendUUID(dst []byte) []byte {
	var u [16]byte
	binary.LittleEndian.PutUint64(u[:8], g.rng.Uint64())
	binary.LittleEndian.PutUint64(u[8:], g.rng.Uint64())
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	n := len(dst)
	dst = append(dst, "00000000-0000-0000-0000-000000000000"...)
	out := dst[n:]
	hex.Encode(out[0:8], u[0:4])
	hex.Encode(out[9:13], u[4:6])
	hex.Encode(out[14:18], u[6:8])
	hex.Encode(out[19:23], u[8:10])
	hex.Encode(out[24:36], u[10:16])
	return dst
}
