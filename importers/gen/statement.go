package gen

import (
	"bufio"
	"fmt"
	"io"

	"golang.org/x/text/encoding/charmap"

	"casegraph/importers"
)

// StatementParties is how many counterparties a generated statement cycles
// through, as a real account's statement repeats its payees.
const StatementParties = 5000

// WriteStatement writes a Kazakh bank account statement as banks export it:
// Windows-1251, `;`, CRLF, four metadata lines above the header (title,
// client, IIN/BIN, account), dd.mm.yyyy HH:MM dates, comma decimals with
// no-break-space thousands, separate debit and credit columns, and an Итого
// and an Остаток line below rows data rows. Every 7th row is a credit, every
// 11th a cash withdrawal without counterparty. The output depends on rows
// only; it is what the generic bank-statement profile reads, and what
// docs/PERFORMANCE.md's 1M-row statement figures were measured on.
func WriteStatement(w io.Writer, rows int) error {
	bw := bufio.NewWriterSize(charmap.Windows1251.NewEncoder().Writer(w), 1<<20)
	for _, l := range []string{
		"Выписка по лицевому счёту за период 01.03.2025 - 31.03.2025;;;;;;;;",
		"Клиент:;ТОО \"Ромашка\";;;;;;;",
		"ИИН/БИН:;" + SerialIIN(1) + ";;;;;;;",
		"Счёт:;" + SerialIBAN("722", 1) + ";;;;;;;",
		"Дата;Номер документа;Дебет;Кредит;Валюта;Корреспондент;ИИН/БИН корреспондента;Счёт корреспондента;Назначение платежа",
	} {
		bw.WriteString(l + "\r\n")
	}
	ibans := make([]string, StatementParties)
	iins := make([]string, StatementParties)
	for i := range ibans {
		ibans[i] = SerialIBAN("601", 1000+i)
		iins[i] = SerialIIN(10 + i*3)
	}
	for i := range rows {
		day := 1 + i%28
		amount := fmt.Sprintf("%d\u00a0%03d,%02d", 1+i%900, i%1000, i%100)
		debit, credit := amount, ""
		if i%7 == 0 {
			debit, credit = "", amount
		}
		p := i % StatementParties
		acct, iin, name := ibans[p], iins[p], fmt.Sprintf("ИП Иванов %d", p)
		if i%11 == 0 {
			acct, iin, name = "", "", "Снятие наличных"
		}
		fmt.Fprintf(bw, "%02d.03.2025 %02d:%02d;%d;%s;%s;KZT;%s;%s;%s;Оплата по счёту %d\r\n",
			day, i%24, i%60, i+1, debit, credit, name, iin, acct, i)
	}
	bw.WriteString("Итого обороты;;1\u00a0000,00;2\u00a0000,00;;;;;\r\n")
	bw.WriteString("Остаток на 31.03.2025;;;5\u00a0000,00;;;;;\r\n")
	return bw.Flush()
}

// SerialIBAN is a valid Kazakh IBAN of the bank code and serial number n.
func SerialIBAN(bank string, n int) string {
	bban := fmt.Sprintf("%s%013d", bank, n)
	return "KZ" + importers.IBANCheckDigits("KZ", bban) + bban
}

// SerialIIN is the first valid IIN from serial number n on (born 12.03.1985).
func SerialIIN(n int) string {
	for ; ; n++ {
		first := fmt.Sprintf("850312%05d", n%100000)
		if c, ok := importers.IINCheckDigit(first); ok {
			return first + string(rune('0'+c))
		}
	}
}
