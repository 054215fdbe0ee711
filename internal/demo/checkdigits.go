package demo

// ValidCNPJ reports whether s is 14 digits with correct CNPJ check digits
// (and not one digit repeated, which passes the arithmetic but is invalid).
func ValidCNPJ(s string) bool {
	if len(s) != 14 || !allDigits(s) || allSame(s) {
		return false
	}
	d1, d2 := cnpjCheckDigits(s[:12])
	return s[12] == '0'+d1 && s[13] == '0'+d2
}

// ValidEAN13 reports whether s is 13 digits with a correct GS1 check digit.
func ValidEAN13(s string) bool {
	return len(s) == 13 && allDigits(s) && s[12] == '0'+ean13CheckDigit(s[:12])
}

// ValidChaveNFe reports whether s is a 44-digit NF-e access key with a
// correct modulo-11 check digit.
func ValidChaveNFe(s string) bool {
	return len(s) == 44 && allDigits(s) && s[43] == '0'+mod11CheckDigit(s[:43])
}

// cnpjCheckDigits computes the two check digits of a 12-digit CNPJ base.
func cnpjCheckDigits(base string) (byte, byte) {
	w1 := [12]int{5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2}
	w2 := [13]int{6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2}
	sum := 0
	for i := 0; i < 12; i++ {
		sum += int(base[i]-'0') * w1[i]
	}
	d1 := cnpjDigit(sum)
	sum = 0
	for i := 0; i < 12; i++ {
		sum += int(base[i]-'0') * w2[i]
	}
	sum += int(d1) * w2[12]
	return d1, cnpjDigit(sum)
}

func cnpjDigit(sum int) byte {
	if r := sum % 11; r >= 2 {
		return byte(11 - r)
	}
	return 0
}

// ean13CheckDigit: weights 1,3,1,3... from the left over 12 digits.
func ean13CheckDigit(base string) byte {
	sum := 0
	for i := 0; i < 12; i++ {
		d := int(base[i] - '0')
		if i%2 == 1 {
			d *= 3
		}
		sum += d
	}
	return byte((10 - sum%10) % 10)
}

// mod11CheckDigit is the NF-e key digit: weights 2..9 cycling from the
// right; remainders 0 and 1 give 0.
func mod11CheckDigit(base string) byte {
	sum, w := 0, 2
	for i := len(base) - 1; i >= 0; i-- {
		sum += int(base[i]-'0') * w
		if w++; w > 9 {
			w = 2
		}
	}
	if r := sum % 11; r >= 2 {
		return byte(11 - r)
	}
	return 0
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func allSame(s string) bool {
	for i := 1; i < len(s); i++ {
		if s[i] != s[0] {
			return false
		}
	}
	return true
}
