package parquet

import (
	"encoding/binary"
	"encoding/hex"
	"math/rand/v2"
	"regexp"
	"testing"
	"time"
)

func TestDaysFromCivil_MatchesTimePackage(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 100_000; i++ {
		y, m := r.IntN(10000), 1+r.IntN(12)
		d := 1 + r.IntN(daysInMonth(y, m))
		want := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC).Unix() / 86400
		if y < 1970 && time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC).Unix()%86400 != 0 {
			want--
		}
		if got := daysFromCivil(y, m, d); got != want {
			t.Fatalf("daysFromCivil(%d,%d,%d) = %d, want %d", y, m, d, got, want)
		}
	}
}

func TestParseDateTime(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"2025-08-07 12:34:56":        "2025-08-07T12:34:56Z",
		"2025-08-07 12:34:56.1":      "2025-08-07T12:34:56.1Z",
		"2024-02-29 23:59:59.999999": "2024-02-29T23:59:59.999999Z",
		"1000-01-01 00:00:00.000":    "1000-01-01T00:00:00Z",
	} {
		us, null, err := parseDateTime([]byte(in))
		if err != nil || null || time.UnixMicro(us).UTC().Format(time.RFC3339Nano) != want {
			t.Errorf("parseDateTime(%q) = %d %v %v, want %s", in, us, null, err, want)
		}
	}
	for _, bad := range []string{"2025-08-07", "2025-08-07 24:00:00", "2025-08-07 12:34:56.", "2025-08-07 12:34:56.1234567", "2023-02-29 00:00:00"} {
		if _, _, err := parseDateTime([]byte(bad)); err == nil {
			t.Errorf("parseDateTime(%q) accepted", bad)
		}
	}
}

func TestParseTime(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int64{
		"00:00:00":         0,
		"12:34:56.5":       (12*3600+34*60+56)*1e6 + 500_000,
		"-838:59:59":       -(838*3600 + 59*60 + 59) * 1e6,
		"838:59:59.000000": (838*3600 + 59*60 + 59) * 1e6,
		"-00:00:00.000001": -1,
		"100:00:00.250000": 100*3600*1e6 + 250_000,
	} {
		if got, err := parseTime([]byte(in)); err != nil || got != want {
			t.Errorf("parseTime(%q) = %d %v, want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "12:34", "1234:00:00", "12:60:00", "ab:00:00"} {
		if _, err := parseTime([]byte(bad)); err == nil {
			t.Errorf("parseTime(%q) accepted", bad)
		}
	}
}

func TestUUIDGen_WritesDistinctVersion4UUIDs(t *testing.T) {
	t.Parallel()
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	g, h := newUUIDGen(), newUUIDGen()
	seen := map[string]bool{}
	for i := 0; i < 10_000; i++ {
		for _, gen := range []*uuidGen{g, h} {
			u := string(gen.appendUUID(nil))
			if !re.MatchString(u) || seen[u] {
				t.Fatalf("uuid %q: malformed or repeated", u)
			}
			seen[u] = true
		}
	}
}

// TestUUIDGen_TextIsHexOfTheRandomBytes holds the word-at-a-time hex digits
// to hex.Encode's on the same random stream.
func TestUUIDGen_TextIsHexOfTheRandomBytes(t *testing.T) {
	t.Parallel()
	seed := [32]byte{1, 2, 3}
	g := &uuidGen{rng: rand.NewChaCha8(seed)}
	ref := rand.NewChaCha8(seed)
	for i := 0; i < 10_000; i++ {
		var u [16]byte
		binary.LittleEndian.PutUint64(u[:8], ref.Uint64())
		binary.LittleEndian.PutUint64(u[8:], ref.Uint64())
		u[6] = u[6]&0x0f | 0x40
		u[8] = u[8]&0x3f | 0x80
		h := hex.EncodeToString(u[:])
		want := h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
		if got := string(g.appendUUID([]byte("x"))); got != "x"+want {
			t.Fatalf("appendUUID = %q, want %q", got, "x"+want)
		}
	}
}
