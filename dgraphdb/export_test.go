package dgraphdb

import "time"

// SetMonthsTTL sets how long Months trusts its list, for a test; it returns
// the old value.
func SetMonthsTTL(d time.Duration) time.Duration {
	old := monthsTTL
	monthsTTL = d
	return old
}
