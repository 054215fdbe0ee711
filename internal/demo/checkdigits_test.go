package demo

import (
	"math/rand/v2"
	"testing"
	"time"
)

func TestValidCNPJ(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{
		"11222333000181":     true, // the usual documentation example
		"33000167000101":     true, // Petrobras
		"11222333000182":     false,
		"11222333000191":     false,
		"00000000000000":     false, // repeated digit passes the arithmetic
		"1122233300018":      false,
		"11.222.333/0001-81": false, // formatted: callers strip punctuation
		"1122233300018a":     false,
	} {
		if got := ValidCNPJ(s); got != want {
			t.Errorf("ValidCNPJ(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestValidEAN13(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{
		"4006381333931":  true, // GS1's worked example
		"7891000315507":  true,
		"4006381333932":  false,
		"400638133393":   false,
		"40063813339311": false,
	} {
		if got := ValidEAN13(s); got != want {
			t.Errorf("ValidEAN13(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestGenerators_ProduceValidCheckDigits(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	seen := map[string]bool{}
	for k := int64(0); k < 5000; k++ {
		e := productEAN(k)
		if !ValidEAN13(e) || e[:3] != "789" {
			t.Fatalf("productEAN(%d) = %s invalid", k, e)
		}
		if seen[e] {
			t.Fatalf("productEAN(%d) = %s repeats", k, e)
		}
		seen[e] = true
		c := makeCNPJ(r, 1+r.IntN(40))
		if !ValidCNPJ(c) {
			t.Fatalf("makeCNPJ = %s invalid", c)
		}
		key := chaveNFe(r, "SP", time.Date(2025, 8, 7, 0, 0, 0, 0, time.UTC), c, k+1)
		if !ValidChaveNFe(key) || key[:6] != "352508" || key[6:20] != c || key[20:22] != "55" {
			t.Fatalf("chaveNFe = %s invalid or misplaced fields", key)
		}
		bad := []byte(key)
		bad[10] = '0' + (bad[10]-'0'+1)%10
		if ValidChaveNFe(string(bad)) {
			t.Fatalf("changed digit still valid: %s", bad)
		}
	}
}
