package graph

import "math"

// AddSat returns a+b, saturated at the int64 bounds instead of wrapping.
// Amounts are bounded when imported (importers.MaxAmountMinor), but a sum of
// thousands of them still could wrap: a turnover that has saturated shows
// the bound, never a negative or small number.
func AddSat(a, b int64) int64 {
	s := a + b
	if (a > 0 && b > 0 && s < 0) || (a < 0 && b < 0 && s >= 0) {
		if a > 0 {
			return math.MaxInt64
		}
		return math.MinInt64
	}
	return s
}
