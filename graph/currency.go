package graph

import (
	"strconv"
	"strings"
)

// Currencies: the index keeps each transaction's ISO 4217 code as a small
// number into a per-index table (Index.Currency), and every money edge
// carries it (TxEdge.Cur). Amounts stay in the transaction's own minor units
// (×100); rules convert their tenge thresholds per currency
// (docs/DETECTION.md, "Currencies and clocks").

// maxCurrencies bounds the currency table: TxEdge.Cur is one byte. Codes
// beyond it share the last entry, "XXX" (ISO 4217: no currency).
const maxCurrencies = 256

// CurrencyNone is the ISO 4217 code for "no currency", used for codes
// beyond the table's capacity.
const CurrencyNone = "XXX"

// currencyTable interns currency codes while an index is built.
type currencyTable struct {
	codes []string
	idx   map[string]uint8
}

func (ct *currencyTable) intern(code string) uint8 {
	if code == "" {
		code = "KZT"
	}
	if i, ok := ct.idx[code]; ok {
		return i
	}
	if ct.idx == nil {
		ct.idx = make(map[string]uint8)
	}
	if len(ct.codes) == maxCurrencies-1 {
		code = CurrencyNone
		if i, ok := ct.idx[code]; ok {
			return i
		}
	}
	i := uint8(len(ct.codes))
	ct.codes = append(ct.codes, code)
	ct.idx[code] = i
	return i
}

// Currency returns the ISO 4217 code of currency number c (TxEdge.Cur).
func (ix *Index) Currency(c uint8) string {
	if int(c) < len(ix.curs) {
		return ix.curs[c]
	}
	return "KZT"
}

// Currencies lists the index's currency codes; TxEdge.Cur indexes it.
func (ix *Index) Currencies() []string {
	if len(ix.curs) == 0 {
		return []string{"KZT"}
	}
	return append([]string(nil), ix.curs...)
}

// TxCurrency returns the ISO 4217 code of transaction i.
func (ix *Index) TxCurrency(i uint32) string { return ix.Currency(ix.out[ix.txOutPos[i]].Cur) }

// currencySymbols are the currencies printed with a sign rather than their
// code.
var currencySymbols = map[string]string{"KZT": "₸", "USD": "$", "EUR": "€"}

// CurrencySymbol returns how amounts of a currency are marked: "₸" for
// KZT (and an empty code), "$", "€", else the ISO code itself.
func CurrencySymbol(code string) string {
	if code == "" {
		return "₸"
	}
	if s, ok := currencySymbols[code]; ok {
		return s
	}
	return code
}

// withCurrency places a formatted number and its currency: "495,000 ₸",
// "$12,500", "€3.2k", "12,600 CZK".
func withCurrency(num, code string) string {
	sym := CurrencySymbol(code)
	switch sym {
	case "$", "€":
		if n, ok := strings.CutPrefix(num, "-"); ok {
			return "-" + sym + n
		}
		return sym + num
	}
	return num + " " + sym
}

// shortNumber renders a major-unit amount compactly: "1.49M", "495k", "12.50".
func shortNumber(minor int64) string {
	v := float64(minor) / 100
	abs := v
	if abs < 0 {
		abs = -abs
	}
	switch {
	case abs >= 1e9:
		return strconv.FormatFloat(v/1e9, 'f', 2, 64) + "B"
	case abs >= 1e6:
		return strconv.FormatFloat(v/1e6, 'f', 2, 64) + "M"
	case abs >= 1e4:
		return strconv.FormatFloat(v/1e3, 'f', 0, 64) + "k"
	}
	return FormatAmount(minor)
}

// internBytes is intern for a borrowed code: it allocates only for a new one.
func (ct *currencyTable) internBytes(code []byte) uint8 {
	if len(code) == 0 {
		return ct.intern("")
	}
	if i, ok := ct.idx[string(code)]; ok {
		return i
	}
	return ct.intern(string(code))
}
